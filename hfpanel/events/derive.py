"""Events from one run compared with the runs before it.

``Deriver.derive(run)`` looks at a run (``RunView``: its module rows, category levels, metrics and
keyed detail tables) against what it remembers of earlier runs (``DeriveState``) and returns the
events: level changes of modules and categories, stale/fresh, silent/reporting sources (from each
module's interval and max_age), a gap in collection, keyed detail rows appearing or vanishing,
metric jumps against each metric's own recent runs, and the transfer feed's silence and backlog.

The state is plain dicts and deques, so the same code serves the collector after each run (state
from memory, bootstrapped from the store on a process's first run: :func:`bootstrap`) and a replay
over a year of stored runs. What cannot be re-read cheaply from the store (which sources are silent,
which metrics are off their baseline, the feed's state) is a small JSON (``small()``) committed in
the manifest's state with the run.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math

import numpy as np
import pandas as pd

from ..collector import collector_class
from ..durations import format_duration
from ..labels import from_json
from ..levels import OK
from ..store.reader import detail_table_name
from . import model as m
from .config import EventSettings
from .flapping import FlapDetector

log = logging.getLogger("hfpanel.events")
#: the collector whose modules watch the transfer feed (their metrics: backlog, silence_s)
FEED_COLLECTOR = "ingest_health"
STATE_KEY = "events"


@dataclasses.dataclass
class ModuleRow:
    module: str
    category: str
    level: str
    stale: bool = False
    message: str = ""
    labels: dict = dataclasses.field(default_factory=dict)  # what the collector said it is about


@dataclasses.dataclass
class RunView:
    """What one run committed, as the deriver needs it."""

    run_id: str
    time: pd.Timestamp
    modules: list[ModuleRow]
    categories: dict  # category -> level (every category of the site)
    metrics: dict = dataclasses.field(default_factory=dict)  # (module, metric) -> value, this run's
    #: (module, table) -> set of row keys, for the keyed tables of modules that succeeded this run
    rows: dict = dataclasses.field(default_factory=dict)
    #: modules with a row this run that ``modules`` leaves out because it repeats their previous
    #: run's (a replay's quiet modules; the caller catches their state up: ``Deriver.steady``)
    steady: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DeriveState:
    levels: dict = dataclasses.field(default_factory=dict)  # module -> level
    stale: dict = dataclasses.field(default_factory=dict)  # module -> bool
    labels: dict = dataclasses.field(default_factory=dict)  # module -> its latest row's labels
    last_time: dict = dataclasses.field(default_factory=dict)  # module -> time of its last row
    categories: dict = dataclasses.field(default_factory=dict)  # category -> level
    windows: dict = dataclasses.field(default_factory=dict)  # (module, metric) -> deque of values
    row_keys: dict = dataclasses.field(default_factory=dict)  # (module, table) -> set of keys
    last_run: pd.Timestamp | None = None
    silent: set = dataclasses.field(default_factory=set)  # modules silent now
    jumped: set = dataclasses.field(default_factory=set)  # "module:metric" off their baseline now
    feed: dict = dataclasses.field(default_factory=dict)  # module -> {"silent": bool, "backlog": bool}
    flaps: FlapDetector | None = None  # each module's recent levels and whether it flaps

    def small(self) -> dict:
        """What is committed with each run (the rest is re-read from the store)."""
        return {
            "silent": sorted(self.silent),
            "jumped": sorted(self.jumped),
            "feed": self.feed,
            "flapping": sorted(self.flaps.flapping) if self.flaps else [],
        }

    def restore_small(self, data: dict | None) -> None:
        data = data or {}
        self.silent = set(data.get("silent", []))
        self.jumped = set(data.get("jumped", []))
        self.feed = dict(data.get("feed", {}))
        if self.flaps is not None:
            self.flaps.flapping = set(data.get("flapping", []))


def robust_baseline(values) -> tuple[float, float]:
    """The baseline of a metric's recent values: (median, spread), the spread being IQR / 1.349 (a
    standard deviation's estimate that a few outliers do not move). Numpy's linear percentiles, as
    pandas' rolling quantiles compute them, so the replay's vectorized path agrees."""
    q1, median, q3 = np.percentile(np.asarray(values, dtype="float64"), [25, 50, 75])
    return float(median), float(q3 - q1) / 1.349


def is_jump(value: float, median: float, spread: float, settings) -> bool:
    """A jump: further from the median than ``z`` spreads, ``min_change`` of the median and ``min_delta``."""
    delta = abs(value - median)
    return delta > settings.z * spread and delta > settings.min_change * abs(median) and delta > settings.min_delta


def _fmt(value: float) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.4g}"


class Deriver:
    """Derives each run's events; holds what it needs of the runs before (``state``)."""

    def __init__(self, config, settings: EventSettings | None = None):
        self.config = config
        self.settings = settings or config.notifications.events
        self.modules = {mod.name: mod for mod in config.modules}
        self.flapping = config.notifications.flapping
        self.state = self.new_state()
        longest = max((mod.interval + mod.max_age for mod in config.modules), default=3600.0)
        #: no run for longer than this is a gap in collection
        self.gap_after = longest
        self._row_keys: dict | None = None
        self._watch: dict[tuple, bool] = {}  # (module, metric) -> watched (the patterns asked once)

    def new_state(self) -> DeriveState:
        return DeriveState(flaps=FlapDetector(self.flapping))

    # -- keyed tables ---------------------------------------------------------------------------
    def row_keys(self) -> dict[str, dict[str, list[str]]]:
        """module -> {table: key columns}: the collectors' own declarations, then the config's."""
        if self._row_keys is not None:
            return self._row_keys
        keys = {}
        for mod in self.config.modules:
            try:
                declared = dict(getattr(collector_class(mod.collector), "event_keys", {}) or {})
            except Exception:  # an unknown collector fails its module's run; no rows to watch then
                declared = {}
            declared.update(self.settings.rows.get(mod.name, {}))
            if declared:
                keys[mod.name] = declared
        self._row_keys = keys
        return keys

    @staticmethod
    def keys_of(frame: pd.DataFrame, columns: list[str]) -> set[str] | None:
        """The row keys of a detail table ("pool=p01", "host=ce1,flavour=CE"); None if a key
        column is missing (the table cannot be watched)."""
        if frame is None:
            return None
        if any(c not in frame.columns for c in columns):
            return None if not frame.empty else set()
        parts = [frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in columns]
        return {",".join(f"{c}={v}" for c, v in zip(columns, values)) for values in zip(*parts)}

    # -- the derivation ---------------------------------------------------------------------------
    def derive(self, run: RunView) -> list[m.Event]:
        state, events = self.state, []
        site = self.config.site
        if state.last_run is not None and (run.time - state.last_run).total_seconds() > self.gap_after:
            gap = (run.time - state.last_run).total_seconds()
            events.append(
                m.Event(
                    m.GAP,
                    f"site/{site}",
                    f"no collection run for {format_duration(gap)} (from {state.last_run:%Y-%m-%d %H:%M} UTC): "
                    "was the collector stopped?",
                    value=gap,
                )
            )
        ran = set(run.steady)  # present, unchanged: no event, not silent
        for row in run.modules:
            ran.add(row.module)
            events += self._module(row, run)
        for name, mod in self.modules.items():
            if name in ran or name in state.silent:
                continue
            last = state.last_time.get(name)
            if last is not None and (run.time - last).total_seconds() > mod.interval + mod.max_age:
                state.silent.add(name)
                events.append(
                    m.Event(
                        m.SILENT,
                        f"module/{name}",
                        f"{mod.title} ({name}): no result for {format_duration((run.time - last).total_seconds())}"
                        f" (runs every {format_duration(mod.interval)}, max age {format_duration(mod.max_age)})",
                        category=mod.category,
                        module=name,
                        level=state.levels.get(name, ""),
                    )
                )
        for category, level in run.categories.items():
            before = state.categories.get(category)
            if before is not None and before != level:
                title = next((c.title for c in self.config.categories if c.name == category), category)
                events.append(
                    m.Event(
                        m.CATEGORY,
                        f"category/{category}",
                        f"category {title}: {before} → {level}",
                        category=category,
                        level=level,
                        before=before,
                        after=level,
                    )
                )
            state.categories[category] = level
        events += self._metrics(run)
        events += self._rows(run)
        events += self._feed(run)
        state.last_run = run.time
        return events

    def steady(self, module: str, level: str, runs: int, time) -> None:
        """The state ``runs`` more rows of ``module`` at its unchanged level, stale flag, message and
        labels, the last at ``time``, would have left (``_module`` derives nothing from them): a replay
        skips a module's quiet runs and catches it up in one step when it next changes."""
        self.state.flaps.repeat(module, level, runs)
        self.state.last_time[module] = time

    def _module(self, row: ModuleRow, run: RunView) -> list[m.Event]:
        state, events = self.state, []
        mod = self.modules.get(row.module)
        title = f"{mod.title} ({row.module})" if mod and mod.title != row.module else row.module
        common = {"category": row.category, "module": row.module, "level": row.level}
        before = state.levels.get(row.module)
        message = " ".join(str(row.message).split())
        subject = f"module/{row.module}"
        flap, percent = state.flaps.observe(row.module, row.level)
        if flap == "started":
            runs = len(state.flaps.history[row.module])
            text = (
                f"{title}: flapping ({percent:.0f} % state change over its last {runs} runs, now {row.level}): "
                "quiet until it settles"
            )
            events.append(
                m.Event(
                    m.FLAPPING_STARTED, subject, text, value=percent, before=before or "", after=row.level, **common
                )
            )
        elif flap == "stopped":
            text = f"{title}: stopped flapping ({percent:.0f} %), now {row.level}" + (
                f" — {message}" if message else ""
            )
            events.append(m.Event(m.FLAPPING_STOPPED, subject, text, value=percent, after=row.level, **common))
        elif row.module in state.flaps.flapping:
            pass  # flapping: its level changes are not events until it settles
        elif (before is not None and before != row.level) or (before is None and row.level != OK):
            text = f"{title}: {before or 'new'} → {row.level}" + (f" — {message}" if message else "")
            events.append(
                m.Event(m.LEVEL, subject, text, before=before or "", after=row.level, labels=dict(row.labels), **common)
            )
        was_stale = state.stale.get(row.module)
        if was_stale is not None and was_stale != row.stale:
            text = f"{title}: data {'older than its max age' if row.stale else 'fresh again'}"
            kind = m.STALE if row.stale else m.FRESH
            events.append(m.Event(kind, f"module/{row.module}", text, **common))
        if row.module in state.silent:
            state.silent.discard(row.module)
            events.append(m.Event(m.REPORTING, f"module/{row.module}", f"{title}: reporting again", **common))
        state.levels[row.module], state.stale[row.module], state.last_time[row.module] = row.level, row.stale, run.time
        if row.labels:
            state.labels[row.module] = row.labels
        else:
            state.labels.pop(row.module, None)
        return events

    def _metrics(self, run: RunView) -> list[m.Event]:
        settings, state, events = self.settings.metric_jumps, self.state, []
        if settings is None:
            return events
        judged = []  # (module, metric, value, window) of the series with a baseline to judge against
        for (module, metric), value in run.metrics.items():
            if value is None or math.isnan(value):
                continue
            window = state.windows.get((module, metric))
            if window is None:
                window = state.windows[(module, metric)] = collections.deque(maxlen=settings.window)
            if len(window) >= settings.min_runs and self._watched(module, metric):
                judged.append((module, metric, float(value), window))
        # every baseline at once: one percentile call per window length (a deque copied to an array
        # row each), not one per series — 5,000 series cost milliseconds, not a second
        by_length: dict[int, list[int]] = {}
        for index, item in enumerate(judged):
            by_length.setdefault(len(item[3]), []).append(index)
        baselines = [None] * len(judged)
        for indexes in by_length.values():
            quartiles = np.percentile(np.array([judged[i][3] for i in indexes], dtype="float64"), [25, 50, 75], axis=1)
            for column, i in enumerate(indexes):
                baselines[i] = (float(quartiles[1, column]), float(quartiles[2, column] - quartiles[0, column]) / 1.349)
        for (module, metric, value, window), (median, spread) in zip(judged, baselines):
            name = f"{module}:{metric}"
            if not is_jump(value, median, spread, settings):
                state.jumped.discard(name)
            elif name not in state.jumped:
                state.jumped.add(name)
                mod = self.modules.get(module)
                events.append(
                    m.Event(
                        m.METRIC_JUMP,
                        f"metric/{module}/{metric}",
                        f"{module} {metric}: {_fmt(value)} (usually {_fmt(median)}, over its last {len(window)} runs)",
                        category=mod.category if mod else "",
                        module=module,
                        level=state.levels.get(module, ""),
                        before=_fmt(median),
                        after=_fmt(value),
                        value=value,
                    )
                )
        for (module, metric), value in run.metrics.items():
            if value is not None and not math.isnan(value):
                state.windows[(module, metric)].append(float(value))
        return events

    def _watched(self, module: str, metric: str) -> bool:
        key = (module, metric)
        if key not in self._watch:
            self._watch[key] = self.settings.metric_jumps.watches(module, metric)
        return self._watch[key]

    def _rows(self, run: RunView) -> list[m.Event]:
        state, events, limit = self.state, [], self.settings.max_row_events
        for (module, table), keys in run.rows.items():
            before = state.row_keys.get((module, table))
            state.row_keys[(module, table)] = keys
            if before is None or keys is None:
                continue
            mod = self.modules.get(module)
            common = {"category": mod.category if mod else "", "module": module, "level": state.levels.get(module, "")}
            for kind, changed, verb in (
                (m.ROW_APPEARED, sorted(keys - before), "appeared"),
                (m.ROW_VANISHED, sorted(before - keys), "vanished"),
            ):
                if len(changed) > limit:
                    shown = ", ".join(changed[:3])
                    events.append(
                        m.Event(
                            kind,
                            f"row/{module}/{table}/*",
                            f"{module} {table}: {len(changed)} rows {verb} ({shown}, …)",
                            value=float(len(changed)),
                            **common,
                        )
                    )
                    continue
                for key in changed:
                    events.append(
                        m.Event(
                            kind,
                            f"row/{module}/{table}/{key}",
                            f"{module} {table}: {key} {verb}",
                            after=key if kind == m.ROW_APPEARED else "",
                            before=key if kind == m.ROW_VANISHED else "",
                            labels={"table": table, "key": key},
                            **common,
                        )
                    )
        return events

    def _feed(self, run: RunView) -> list[m.Event]:
        settings, state, events = self.settings.feed, self.state, []
        for name, mod in self.modules.items():
            if mod.collector != FEED_COLLECTOR or (name, "backlog") not in run.metrics:
                continue
            backlog = run.metrics.get((name, "backlog"), float("nan"))
            silence = run.metrics.get((name, "silence_s"), float("nan"))
            now = {
                "silent": math.isnan(silence) or silence > settings.silence,
                "backlog": not math.isnan(backlog) and backlog > settings.backlog_limit,
            }
            before = state.feed.get(name, {"silent": False, "backlog": False})
            common = {"category": mod.category, "module": name, "level": state.levels.get(name, "")}
            if now["silent"] != before["silent"]:
                quiet = "in the last day" if math.isnan(silence) else f"for {format_duration(silence)}"
                events.append(
                    m.Event(
                        m.FEED_SILENT if now["silent"] else m.FEED_RESUMED,
                        f"feed/{name}",
                        f"transfer feed: no message {quiet}" if now["silent"] else "transfer feed: messages again",
                        value=silence,
                        **common,
                    )
                )
            if now["backlog"] != before["backlog"]:
                events.append(
                    m.Event(
                        m.BACKLOG_HIGH if now["backlog"] else m.BACKLOG_NORMAL,
                        f"feed/{name}/backlog",
                        f"transfer feed backlog {backlog:,.0f} "
                        + ("above" if now["backlog"] else "back under")
                        + f" {settings.backlog_limit:,.0f}",
                        value=backlog,
                        before=_fmt(float(settings.backlog_limit)),
                        after=_fmt(backlog),
                        **common,
                    )
                )
            state.feed[name] = now
        return events


def bootstrap(deriver: Deriver, store, at, small: dict | None) -> DeriveState:
    """The state a deriver would have after the store's runs up to ``at``, read back: each module's
    and category's latest row, each metric's last runs, each keyed table's latest rows."""
    state = deriver.new_state()
    state.restore_small(small)
    statuses = store.status_at(at)
    for row in statuses.itertuples():
        state.levels[row.module] = row.level
        state.stale[row.module] = bool(row.stale)
        state.last_time[row.module] = pd.Timestamp(row.time)
        if labels := from_json(getattr(row, "labels", "")):
            state.labels[row.module] = labels
    if deriver.flapping.enabled and statuses is not None and not statuses.empty:
        since = pd.Timestamp(statuses["time"].max()) - pd.Timedelta(days=7)
        history = store.sql(
            f"SELECT module, level FROM {store.scan('module_status', since, at)} WHERE time > ? AND time <= ? "
            "QUALIFY row_number() OVER (PARTITION BY module ORDER BY time DESC) <= ? ORDER BY module, time",
            [since.to_pydatetime(), pd.Timestamp(at).to_pydatetime(), deriver.flapping.window],
        )
        for module, levels in history.groupby("module", sort=False)["level"]:
            state.flaps.seed(module, list(levels))
    for row in store.category_status_at(at).itertuples():
        state.categories[row.category] = row.level
    run = store.latest_run(at)
    state.last_run = pd.Timestamp(run["time"]) if run is not None else None
    jumps = deriver.settings.metric_jumps
    if jumps is not None and store.has_table("metrics") and state.last_run is not None:
        since = state.last_run - pd.Timedelta(days=7)
        frame = store.sql(
            f"SELECT module, metric, value FROM {store.scan('metrics', since, state.last_run)} "
            "WHERE time > ? AND time <= ? AND NOT isnan(value) "
            "QUALIFY row_number() OVER (PARTITION BY module, metric ORDER BY time DESC) <= ? "
            "ORDER BY module, metric, time",
            [since.to_pydatetime(), state.last_run.to_pydatetime(), jumps.window],
        )
        for (module, metric), values in frame.groupby(["module", "metric"], sort=False)["value"]:
            state.windows[(module, metric)] = collections.deque(values.astype(float), maxlen=jumps.window)
    for module, tables in deriver.row_keys().items():
        for table, columns in tables.items():
            if store.has_table(detail_table_name(module, table)):
                state.row_keys[(module, table)] = deriver.keys_of(store.detail(module, table, at), columns)
    return state
