"""Replay: the stored history re-derived with the current (or a proposed) rule set, sending nothing.

``replay(store, config, since, until)`` walks the stored runs in (since, until] as the collector would
have: the same ``Deriver`` (its state read back as of ``since``), the same ``Notifier`` (starting with
no open incident, the stored silences honoured by their times, acknowledgements by when they were
given). It answers what would have been sent, and when — a site tunes its rules against last month
before switching them on (``hfpanel events replay --since … --rules proposed.yaml``).

Two things are not re-derived from raw data: keyed detail rows (their ``row_*`` events are read from
the stored ``events`` table: re-reading a year of detail tables is not worth it), and metric jumps,
which are computed for all runs at once (``batch_jumps``: the same baseline and thresholds as the
live path, vectorised — a test holds the two to the same answers).

Most modules change nothing in most runs: their rows are not handed to the deriver (``Quiet``), and
a run where nothing changed skips the notifier when no timer can fall due (``Notifier.unchanged``);
a test holds this to deriving every row of every run (``skip_quiet=False``). A year of 15-minute
runs of 100 modules replays in about 25 s here (docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
import json
import time as _time

import numpy as np
import pandas as pd

from ..labels import from_json
from . import model as m
from .derive import FEED_COLLECTOR, Deriver, ModuleRow, RunView, bootstrap
from .incidents import Notifier
from .messages import Renderer

ROW_KINDS = (m.ROW_APPEARED, m.ROW_VANISHED)


@dataclasses.dataclass
class Replay:
    events: pd.DataFrame  # every event re-derived
    messages: pd.DataFrame  # every message that would have been sent (one row per receiver)
    runs: int
    seconds: float
    #: the deriver and notifier after the last run (a test holds the quiet-skipping path's to the plain one's)
    deriver: Deriver | None = None
    notifier: Notifier | None = None


def batch_jumps(frame: pd.DataFrame, settings, modules: dict) -> pd.DataFrame:
    """Metric jumps of many runs at once: ``frame`` has time, run_id, module, metric, value (oldest
    first, warm-up runs included). Returns the rows where a jump begins (flagged now, not at the
    series' previous value), with the baseline's median."""
    frame = frame[frame["value"].notna()]
    module_codes, module_names = pd.factorize(frame["module"])
    metric_codes, metric_names = pd.factorize(frame["metric"])
    width = max(len(metric_names), 1)
    series, index = np.unique(module_codes.astype(np.int64) * width + metric_codes, return_inverse=True)
    # the patterns asked once per series, not once per value (a month of 100 modules: 900,000 values)
    watched = np.fromiter(
        (settings.watches(module_names[c // width], metric_names[c % width]) for c in series), bool, len(series)
    )
    keep = watched[index]
    frame, index = frame[keep].reset_index(drop=True), index[keep]
    if frame.empty:
        return frame.assign(median=[])
    order = np.argsort(index, kind="stable")  # each series' values together, oldest first
    grouped = index[order]
    values = frame["value"].to_numpy(dtype="float64")[order]
    firsts = np.flatnonzero(np.concatenate([[True], grouped[1:] != grouped[:-1]]))
    position = np.arange(len(values)) - np.repeat(firsts, np.diff(np.append(firsts, len(values))))
    q1, median, q3 = rolling_quartiles(values, position, settings.window, settings.min_runs)
    spread = (q3 - q1) / 1.349
    delta = np.abs(values - median)
    with np.errstate(invalid="ignore"):
        flagged = (
            (delta > settings.z * spread)
            & (delta > settings.min_change * np.abs(median))
            & (delta > settings.min_delta)
        )
    flagged &= ~np.isnan(median)
    before = np.concatenate([[False], flagged[:-1]]) & (position > 0)  # the series' previous value
    starts, medians = np.zeros(len(values), bool), np.empty(len(values))
    starts[order], medians[order] = flagged & ~before, median  # back to the frame's order
    return frame[starts].assign(median=medians[starts])


def rolling_quartiles(values, position, window: int, min_runs: int, block: int = 1 << 16):
    """(q1, median, q3) of the up to ``window`` values before each one in its series (``values``
    grouped by series, oldest first; ``position``: the index within its series), NaN where fewer than
    ``min_runs``. Exactly pandas' rolling quantile (linear interpolation between order statistics)
    shifted by one, which the live path's ``np.percentile`` agrees with — computed from one sort of
    each window instead of three skip-list passes, ``block`` rows at a time (bounded memory)."""
    count = len(values)
    out = np.full((3, count), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([np.full(window, np.nan), values]), window)
    nobs_all = np.minimum(position, window)
    slots = np.arange(window)
    for begin in range(0, count, block):
        rows = slice(begin, min(count, begin + block))
        nobs = nobs_all[rows]
        chunk = windows[rows].copy()  # row i: values[i - window : i]
        chunk[slots[None, :] < (window - nobs)[:, None]] = np.nan  # before the series' start
        chunk.sort(axis=1)  # the values in order, NaN last
        valid = nobs >= max(min_runs, 1)
        lines = np.flatnonzero(valid)
        n = nobs[valid]
        for row, q in enumerate((0.25, 0.5, 0.75)):
            exact = q * (n - 1)
            low = exact.astype(np.int64)
            fraction = exact - low
            vlow = chunk[lines, low]
            vhigh = chunk[lines, np.minimum(low + 1, window - 1)]
            with np.errstate(invalid="ignore"):
                value = np.where(fraction == 0, vlow, vlow + (vhigh - vlow) * fraction)
            out[row, begin + lines] = value
    return out[0], out[1], out[2]


def _jump_event(row, modules, levels) -> m.Event:
    from .derive import _fmt

    mod = modules.get(row.module)
    return m.Event(
        m.METRIC_JUMP,
        f"metric/{row.module}/{row.metric}",
        f"{row.module} {row.metric}: {_fmt(row.value)} (usually {_fmt(row.median)})",
        category=mod.category if mod else "",
        module=row.module,
        level=levels.get(row.module, ""),
        before=_fmt(row.median),
        after=_fmt(row.value),
        value=row.value,
    )


def _with_levels(frame: pd.DataFrame, levels: pd.DataFrame | None, key: str) -> pd.DataFrame:
    """``frame``'s ``level`` replaced where ``levels`` (time, ``key``, level) has one (row order kept)."""
    if levels is None or levels.empty or frame.empty:
        return frame
    new = levels[["time", key, "level"]].drop_duplicates(["time", key], keep="last").rename(columns={"level": "_new"})
    new = new.assign(time=new["time"].astype(frame["time"].dtype))
    merged = frame.merge(new, on=["time", key], how="left", sort=False)
    return merged.assign(level=merged["_new"].fillna(merged["level"])).drop(columns="_new")


def replay(
    store,
    config,
    since,
    until=None,
    progress=None,
    module_levels=None,
    category_levels=None,
    chunk_days: float = 30,
    skip_quiet: bool = True,
) -> Replay:
    """What the rules of ``config`` would have derived and sent over the stored runs of (since, until].

    ``module_levels`` / ``category_levels`` (time, module or category, level) stand in for the
    stored levels where given: a what-if asks what its levels would have sent. ``skip_quiet=False``
    hands the deriver every module row of every run (the plain path the quiet-row skipping of
    ``Quiet`` is tested against)."""
    started = _time.monotonic()
    since = pd.Timestamp(since)
    until = pd.Timestamp(until) if until is not None else pd.Timestamp("2200-01-01")
    deriver, notifier, renderer = Deriver(config), Notifier(config), Renderer(config)
    notifier.replaying = True
    jumps_settings = deriver.settings.metric_jumps
    deriver.settings = dataclasses.replace(deriver.settings, metric_jumps=None)  # batch path below
    if store.has_table("module_status"):
        deriver.state = bootstrap(deriver, store, since, None)
    deriver.state.windows = {}
    if store.has_table("acks"):
        notifier.acks = store.sql("SELECT * EXCLUDE (day) FROM acks ORDER BY time").to_dict("records")
    if store.has_table("silences"):
        latest = store.sql(
            "SELECT * EXCLUDE (day) FROM silences "
            "QUALIFY row_number() OVER (PARTITION BY silence_id ORDER BY version DESC) = 1"
        )
        notifier.silences = {r["silence_id"]: r for r in latest.to_dict("records")}
    feed_modules = [mod.name for mod in config.modules if mod.collector == FEED_COLLECTOR]
    last = store.runs(since, until)["time"].max() if until.year >= 2200 else until
    if pd.isna(last) or last <= since:
        last = since
    all_events, messages, total = [], [], 0
    # a month at a time: the deriver's and notifier's states carry over, memory stays a month's
    chunk = pd.Timedelta(days=chunk_days)
    begin = since
    while True:
        end = min(begin + chunk, last)
        total += _replay_chunk(
            store,
            config,
            begin,
            end,
            deriver,
            notifier,
            renderer,
            jumps_settings,
            feed_modules,
            module_levels,
            category_levels,
            all_events,
            messages,
            progress,
            skip_quiet,
        )
        if end >= last:
            break
        begin = end
    events = pd.concat(all_events, ignore_index=True) if all_events else m.frame([], "", since, config.site)
    outbox = pd.concat(messages, ignore_index=True) if messages else renderer.outbox_rows([])
    return Replay(events, outbox, total, _time.monotonic() - started, deriver, notifier)


class Quiet:
    """Which module rows of a chunk of runs the deriver need not look at: a row that repeats its
    module's previous run (same level, stale flag, message and labels; the module had a row in the
    run just before; not flapping) derives no event and changes no state but the module's flap
    history and last time. Most modules are quiet in most runs, so a replay hands the deriver only the other
    rows, and catches a quiet module up (``Deriver.steady``: what observing each quiet run would have
    left) just before its next looked-at row, before a run it misses (its silence is judged from its
    last time) and at the chunk's end. The notifier reads none of what lags (flap histories, last
    times), and a quiet row's message is the one the notifier already holds."""

    def __init__(self, columns, starts, ends, whens, deriver, skip: bool = True):
        self.columns, self.whens, self.deriver = columns, whens, deriver
        count = len(columns[0])
        codes, names = pd.factorize(pd.Series(columns[0], dtype=object))
        self.codes, self.names = codes, list(names)
        self.code_of = {name: code for code, name in enumerate(self.names)}
        self.run_of = np.repeat(np.arange(len(starts)), np.asarray(ends) - np.asarray(starts))
        order = np.lexsort((np.arange(count), codes))  # by module, then run
        same = codes[order[1:]] == codes[order[:-1]]
        previous = np.full(count, -1, dtype=np.int64)  # the module's row before (-1: its first here)
        previous[order[1:][same]] = order[:-1][same]
        rank = np.empty(count, dtype=np.int64)  # the how-manieth row of its module
        firsts = np.flatnonzero(np.concatenate([[True], ~same])) if count else np.array([], dtype=np.int64)
        rank[order] = np.arange(count) - np.repeat(firsts, np.diff(np.append(firsts, count)))
        level = pd.factorize(pd.Series(columns[2], dtype=object))[0]  # (-1: missing, never quiet)
        message = pd.factorize(pd.Series(columns[4], dtype=object))[0]
        stale = np.asarray(columns[3], dtype=bool)
        labels = pd.factorize(pd.Series(columns[5], dtype=object), use_na_sentinel=False)[0]  # as stored
        rows = np.flatnonzero(previous >= 0)
        before = previous[rows]
        quiet = np.zeros(count, dtype=bool)
        quiet[rows] = (
            (self.run_of[before] == self.run_of[rows] - 1)
            & (level[before] == level[rows])
            & (level[rows] >= 0)
            & (stale[before] == stale[rows])
            & (message[before] == message[rows])
            & (message[rows] >= 0)
            & (labels[before] == labels[rows])
        )
        twice = self.run_of[rows][self.run_of[before] == self.run_of[rows]]
        if len(twice):  # a module twice in one run: every row of that run looked at, in order
            quiet[np.isin(self.run_of, twice)] = False
        if not skip:
            quiet[:] = False
        self.quiet, self.previous, self.rank = quiet, previous, rank
        self.starts, self.ends = starts, ends
        grid = np.full((len(starts), len(self.names)), -1, dtype=np.int64)  # run x module -> row
        grid[self.run_of, codes] = np.arange(count)
        self.grid = grid
        self.latest = np.maximum.accumulate(grid, axis=0) if len(starts) else grid  # row at or before
        loud = np.flatnonzero(~quiet)
        cuts = np.searchsorted(loud, np.append(starts, count)) if len(starts) else []
        self.loud = [loud[a:b].tolist() for a, b in zip(cuts[:-1], cuts[1:])]
        self.done: dict[int, int] = {}  # module code -> the row its deriver state is caught up to

    def rows(self, number: int) -> tuple[list[int], list[str]]:
        """The rows of run ``number`` to derive (in row order) and the quiet modules' names."""
        start, end = int(self.starts[number]), int(self.ends[number])
        looked = self.loud[number]
        flapping = self.deriver.state.flaps.flapping
        if flapping:  # a flapping module's percentage may fall without a change: always looked at
            extra = [
                row
                for row in (self.grid[number, self.code_of[n]] for n in flapping if n in self.code_of)
                if row >= 0 and self.quiet[row]
            ]
            if extra:
                looked = sorted(looked + [int(r) for r in extra])
        if end - start < len(self.names) and number > 0:  # modules missing from this run: judged now
            for code in np.flatnonzero(self.grid[number] < 0):
                self._catch_up(int(code), int(self.latest[number - 1, code]))
        for row in looked:
            self._catch_up(int(self.codes[row]), int(self.previous[row]))
        if len(looked) == end - start:
            return looked, []
        seen = set(looked)
        names = self.columns[0]
        return looked, [names[row] for row in range(start, end) if row not in seen]

    def derived(self, looked: list[int]) -> None:
        for row in looked:
            self.done[int(self.codes[row])] = row

    def finish(self) -> None:
        """Every module caught up to its last row of the chunk (the next chunk starts from there)."""
        if len(self.grid):
            for code, row in enumerate(self.latest[-1].tolist()):
                self._catch_up(code, row)

    def _catch_up(self, code: int, row: int) -> None:
        """The module's state as after ``row`` (its rows since the last looked-at one are quiet)."""
        done = self.done.get(code)
        if row < 0 or done is None or done >= row:
            return
        self.deriver.steady(
            self.names[code], self.columns[2][row], int(self.rank[row] - self.rank[done]), self.whens[self.run_of[row]]
        )
        self.done[code] = row


def _by_run(frame: pd.DataFrame) -> dict[str, list]:
    """run_id -> its rows (named tuples, in the frame's order): one pass, not a frame per run."""
    found: dict[str, list] = {}
    for row in frame.itertuples():
        found.setdefault(row.run_id, []).append(row)
    return found


def _replay_chunk(
    store,
    config,
    since,
    until,
    deriver,
    notifier,
    renderer,
    jumps_settings,
    feed_modules,
    module_levels,
    category_levels,
    all_events,
    messages,
    progress,
    skip_quiet=True,
) -> int:
    """The runs of (since, until], appended to ``all_events`` and ``messages``; returns how many."""
    span = [since.to_pydatetime(), until.to_pydatetime()]
    runs = store.runs(since, until)
    runs = runs[runs["time"] > since].reset_index(drop=True)
    scan = store.scan("module_status", since, until)
    has_labels = "labels" in store.sql(f"SELECT * FROM {scan} LIMIT 0").columns  # (older stores have none)
    statuses = store.sql(
        f"SELECT run_id, time, module, category, level, stale, message, "
        f"{'labels' if has_labels else 'NULL'} AS labels FROM {scan} "
        "WHERE time > ? AND time <= ? ORDER BY time, module",
        span,
        arrow=True,  # (the same frame, strings kept in Arrow: a third of the cost)
    )
    categories = store.sql(
        f"SELECT run_id, time, category, level FROM {store.scan('category_status', since, until)} "
        "WHERE time > ? AND time <= ?",
        span,
        arrow=True,
    )
    statuses = _with_levels(statuses, module_levels, "module")
    categories = _with_levels(categories, category_levels, "category")
    metrics = pd.DataFrame(columns=["time", "run_id", "module", "metric", "value"])
    if store.has_table("metrics") and (jumps_settings is not None or feed_modules):
        warm = since - pd.Timedelta(days=7)
        metrics = store.sql(
            f"SELECT time, run_id, module, metric, value FROM {store.scan('metrics', warm, until)} "
            "WHERE time > ? AND time <= ? ORDER BY time, module, metric",
            [warm.to_pydatetime(), until.to_pydatetime()],
            arrow=True,
        )
    jumps = batch_jumps(metrics, jumps_settings, deriver.modules) if jumps_settings is not None else None
    jumps_by_run = {} if jumps is None else _by_run(jumps[jumps["time"] > since])
    feed_by_run = {}
    if feed_modules:
        feed = metrics[metrics["module"].isin(feed_modules) & (metrics["time"] > since)]
        feed_by_run = {k: g for k, g in feed.groupby("run_id")}
    stored = pd.DataFrame()
    if store.has_table(m.TABLE):
        stored = store.sql(
            f"SELECT * EXCLUDE (day) FROM {store.scan(m.TABLE, since, until)} WHERE time > ? AND time <= ? "
            f"AND kind IN ({', '.join('?' for _ in ROW_KINDS)})",
            [*span, *ROW_KINDS],
        )
    rows_by_run = _by_run(stored) if not stored.empty else {}
    cats: dict[str, dict] = {}  # run_id -> {category: level}, in one pass (a groupby of 3,000 runs costs a second)
    for run_id, category, level in zip(*(categories[c].tolist() for c in ("run_id", "category", "level"))):
        cats.setdefault(run_id, {})[category] = level
    run_ids = statuses["run_id"].to_numpy()
    bounds = np.flatnonzero(run_ids[1:] != run_ids[:-1]) + 1
    starts = np.concatenate([[0], bounds]) if len(run_ids) else np.array([], dtype=int)
    ends = np.concatenate([bounds, [len(run_ids)]]) if len(run_ids) else np.array([], dtype=int)
    columns = [statuses[c].tolist() for c in ("module", "category", "level", "stale", "message")]
    columns[3] = [bool(v) for v in columns[3]]
    columns.append(statuses["labels"].tolist())  # as stored; read (from_json) for the rows looked at
    times = dict(zip(runs["run_id"], runs["time"]))
    whens = [
        pd.Timestamp(times[run_ids[start]] if run_ids[start] in times else statuses["time"].iat[start])
        for start in starts
    ]
    quiet = Quiet(columns, starts, ends, whens, deriver, skip_quiet)
    names, cats_of, levels, stale, texts, labels = columns
    steps = enumerate(zip(starts, ends))
    event_rows, outbox_rows, categories_before = [], [], None
    for number, (start, _end) in progress(steps, total=len(starts)) if progress else steps:
        run_id, when = run_ids[start], whens[number]
        looked, steady = quiet.rows(number)
        modules = [ModuleRow(names[i], cats_of[i], levels[i], stale[i], texts[i], from_json(labels[i])) for i in looked]
        feed_rows = feed_by_run.get(run_id)
        run_metrics = (
            {}
            if feed_rows is None
            else {(a, b): float(v) for a, b, v in zip(feed_rows["module"], feed_rows["metric"], feed_rows["value"])}
        )
        run = RunView(run_id, when, modules, cats.get(run_id, {}), run_metrics, {}, steady)
        events = deriver.derive(run)
        quiet.derived(looked)
        if run_id in jumps_by_run:
            events += [_jump_event(r, deriver.modules, deriver.state.levels) for r in jumps_by_run[run_id]]
        if run_id in rows_by_run:
            for r in rows_by_run[run_id]:
                events.append(
                    m.Event(
                        r.kind,
                        r.subject,
                        r.text,
                        r.category,
                        r.module,
                        r.level,
                        r.before,
                        r.after,
                        r.value,
                        json.loads(r.labels) if r.labels else {},
                    )
                )
        event_rows += [e.row(run_id, when, config.site) for e in events]
        if notifier.active:
            same = skip_quiet and not looked and not events and run.categories == categories_before
            if not (same and notifier.unchanged(when)):  # (a quiet run changes nothing it could say)
                sent, _ = notifier.evaluate(run, events, deriver.state)
                if sent:
                    outbox_rows += renderer.outbox_records(sent)
        categories_before = run.categories
    quiet.finish()
    # one frame per chunk, not per run (a frame costs milliseconds, a year has 35,000 runs)
    if event_rows:
        all_events.append(m.rows_frame(event_rows))
    if outbox_rows:
        messages.append(renderer.outbox_frame(outbox_rows))
    return len(starts)
