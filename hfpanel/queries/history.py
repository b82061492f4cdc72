"""Cached loaders for the history views: status strips, what changed, why this colour, search.

Like ``data.py``: every answer is cached process-wide through ``loaders.cached`` (keyed by the store
root, the manifest stamp and the arguments), so sessions asking the same question cost one query.
Every query here reads only the day partitions it needs (``store.scan(table, since, until)``) and
binds user input as parameters — nothing a user types is ever formatted into SQL.

Cached frames are shared between sessions: treat them as read-only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import DEFAULTS, DUE_SLACK
from ..durations import parse_duration
from ..store import Store
from ..store.reader import STATUS_LOOKBACK, detail_table_name
from ..units import is_missing
from . import loaders
from .loaders import _key_time

#: columns of a stored detail table that are the store's bookkeeping, not the source's content
BOOKKEEPING = ("run_id", "time", "module", "day")
#: SQL for the severity of a level (worst first), as ``levels.SEVERITY``
SEVERITY_SQL = (
    "CASE level WHEN 'critical' THEN 0 WHEN 'noinfo' THEN 1 WHEN 'warning' THEN 2 "
    "WHEN 'downtime' THEN 3 WHEN 'ok' THEN 4 ELSE 5 END"
)
#: the empty answer of ``strip``
STRIP_COLUMNS = ["kind", "category", "name", "title", "cell", "time", "level", "status", "message", "state"]
CELL_COLUMNS = ["cell", "time", "first", "runs"]
#: per strip row of a bin: its latest row (what holds after the bin)
LAST_COLUMNS = ["last", "last_level", "last_status", "last_message"]
#: a module's interval when neither the config nor the stored config names one
DEFAULT_INTERVAL = parse_duration(DEFAULTS["interval"])
CHANGE_COLUMNS = [
    "module",
    "category",
    "title",
    "time",
    "from_level",
    "to_level",
    "from_status",
    "to_status",
    "from_time",
    "message",
]


def _py(stamp: pd.Timestamp):
    return pd.Timestamp(stamp).to_pydatetime()


def window_end(store: Store, at=None) -> pd.Timestamp | None:
    """The time a window ending at ``at`` really ends: the latest run at or before it."""
    run = loaders.latest_run(store, at)
    return None if run is None else pd.Timestamp(run["time"])


# -- status strips -------------------------------------------------------------------------------
def strip(
    store: Store,
    since,
    until,
    category: str | None = None,
    max_cells: int = 400,
    intervals: dict[str, float] | None = None,
    default_interval: float = DEFAULT_INTERVAL,
) -> dict:
    """Every category's and module's levels in (``since``, ``until``], one cell per run.

    One SQL over the window's day partitions only (``runs``, ``module_status``,
    ``category_status``). With more than ``max_cells`` runs in the window, the window is cut into
    ``max_cells`` equal time bins and each bin shows its worst level (clicking it goes to the
    bin's last run). Returns ``{"rows": frame, "cells": frame}``: ``rows`` has one row per
    (kind, name, cell) that shows something (kind "category" or "module"; ``time`` is the time of
    the row shown), ``cells`` one row per cell (``time`` = the cell's last run, ``first`` its first).

    A module runs every ``intervals[name]`` seconds (else ``default_interval``), so a run without a
    row of a 30-minute module is not a gap: its last result holds until the next one is due. Each
    row's ``state`` says which: ``run`` (a stored row), ``held`` (the last result, still current:
    level, status, message and time are that result's) or ``missing`` (a result was due and no run
    brought it: level "", ``time`` the last result's). A module without an earlier row (not
    configured yet) has no row.
    """
    since, until = pd.Timestamp(since), pd.Timestamp(until)
    intervals = {str(k): float(v) for k, v in (intervals or {}).items()}
    key = (
        _key_time(since),
        _key_time(until),
        category or "",
        int(max_cells),
        tuple(sorted(intervals.items())),
        float(default_interval),
    )
    return loaders.cached(
        "strip",
        store,
        key,
        lambda: _hold(
            store,
            _strip(store, since, until, category, int(max_cells)),
            since,
            category,
            intervals,
            float(default_interval),
        ),
    )


def _strip(store: Store, since, until, category, max_cells) -> dict:
    empty = {"rows": pd.DataFrame(columns=STRIP_COLUMNS), "cells": pd.DataFrame(columns=CELL_COLUMNS)}
    if not store.has_table("module_status"):
        return empty
    width = max((until - since).total_seconds() / max_cells, 1e-6)
    where_cat = " AND category = ?" if category else ""
    status_sources = [("module", "module", "module_status")]
    if store.has_table("category_status"):
        status_sources.append(("category", "category", "category_status"))
    selects, params = [], []
    for kind, name, table in status_sources:
        selects.append(
            f"SELECT '{kind}' AS kind, category, {name} AS name, title, time, level, status, message "
            f"FROM {store.scan(table, since, until)} WHERE time > ? AND time <= ?{where_cat}"
        )
        params += [_py(since), _py(until)] + ([category] if category else [])
    # the cells: the runs in the window (or, in a store without a runs table, the status times)
    runs = (
        f"SELECT time FROM {store.scan('runs', since, until)} WHERE time > ? AND time <= ?"
        if store.has_table("runs")
        else f"SELECT DISTINCT time FROM {store.scan('module_status', since, until)} WHERE time > ? AND time <= ?"
    )
    # worst first; among equally bad rows of a bin, the latest
    rank = f"{SEVERITY_SQL.replace('level', 's.level')} * 1e15 - epoch(s.time)"
    query = f"""
        WITH r AS ({runs}),
        numbered AS (
            SELECT time,
                   CASE WHEN (SELECT count(*) FROM r) <= ? THEN (row_number() OVER (ORDER BY time)) - 1
                        ELSE least(CAST(floor((epoch(time) - epoch(CAST(? AS TIMESTAMP))) / ?) AS BIGINT), ? - 1)
                   END AS cell
            FROM r),
        bins AS (SELECT cell AS bin, max(time) AS time, min(time) AS first, count(*) AS runs
                 FROM numbered GROUP BY cell),
        -- cells numbered 0..n-1 without gaps (a bin without a run is left out)
        cells AS (SELECT *, (row_number() OVER (ORDER BY bin)) - 1 AS cell FROM bins),
        s AS ({" UNION ALL ".join(selects)}),
        -- per strip and bin: the worst level (the latest row among equally bad ones)
        binned AS (
            SELECT s.kind, s.category, s.name, n.cell AS bin,
                   arg_max(s.title, s.time) AS title,
                   arg_min(s.time, {rank}) AS time,
                   arg_min(s.level, {rank}) AS level,
                   arg_min(s.status, {rank}) AS status,
                   arg_min(s.message, {rank}) AS message,
                   -- the bin's latest row: the result that holds after the bin
                   max(s.time) AS last,
                   arg_max(s.level, s.time) AS last_level,
                   arg_max(s.status, s.time) AS last_status,
                   arg_max(s.message, s.time) AS last_message
            FROM s JOIN numbered n ON s.time = n.time
            GROUP BY s.kind, s.category, s.name, n.cell)
        SELECT 'cell' AS kind, NULL AS category, NULL AS name, NULL AS title, cell, time, NULL AS level,
               NULL AS status, NULL AS message, first, runs,
               NULL AS last, NULL AS last_level, NULL AS last_status, NULL AS last_message FROM cells
        UNION ALL
        SELECT b.kind, b.category, b.name, b.title, c.cell, b.time, b.level, b.status, b.message, NULL, NULL,
               b.last, b.last_level, b.last_status, b.last_message
        FROM binned b JOIN cells c ON b.bin = c.bin
        ORDER BY kind, name, cell
    """
    frame = store.sql(
        query, [_py(since), _py(until), int(max_cells), _py(since), float(width), int(max_cells), *params]
    )
    if frame.empty:
        return empty
    is_cell = (frame["kind"] == "cell").to_numpy()
    cells = frame.loc[is_cell, CELL_COLUMNS].reset_index(drop=True)
    cells = cells.astype({"cell": int, "runs": int})
    rows = frame.loc[~is_cell, STRIP_COLUMNS[:-1] + LAST_COLUMNS].reset_index(drop=True)
    rows = rows.astype({"cell": int, "status": float, "last_status": float}).assign(state="run")
    return {"rows": rows, "cells": cells}


def _previous(store: Store, since, lookback: float, category) -> pd.DataFrame:
    """Each module's latest row in (``since`` - ``lookback`` s, ``since``]: what holds as the window
    opens (only the partitions of that stretch are read)."""
    start = since - pd.Timedelta(seconds=lookback)
    if not store.has_table("module_status") or lookback <= 0:
        return pd.DataFrame(columns=["name", "category", "title", *LAST_COLUMNS])
    where_cat = " AND category = ?" if category else ""
    return store.sql(
        f"""SELECT module AS name, arg_max(category, time) AS category, arg_max(title, time) AS title,
                   max(time) AS last, arg_max(level, time) AS last_level, arg_max(status, time) AS last_status,
                   arg_max(message, time) AS last_message
            FROM {store.scan("module_status", start, since)} WHERE time > ? AND time <= ?{where_cat}
            GROUP BY module""",
        [_py(start), _py(since)] + ([category] if category else []),
    )


def _hold(store: Store, answer: dict, since, category, intervals: dict, default: float) -> dict:
    """The cells of module strips without a row: ``held`` while the module's last result is
    current (the next run of it was not due yet: as the runner decides, ``config.DUE_SLACK``
    early), else ``missing``. Categories are rolled up in every run and are never held."""
    rows, cells = answer["rows"], answer["cells"]
    if cells.empty:
        return {"rows": rows[STRIP_COLUMNS], "cells": cells}
    modules = rows[rows["kind"] == "module"]
    longest = max([default, *intervals.values()])
    before = _previous(store, since, longest, category)
    names = sorted(set(modules["name"]) | set(before["name"]))
    if not names:
        return {"rows": rows[STRIP_COLUMNS], "cells": cells}
    n = len(cells)
    # one line per module × cell, the window's rows on theirs, the row before the window at cell -1
    full = pd.DataFrame({"name": np.repeat(names, n + 1), "cell": np.tile(np.arange(-1, n), len(names))})
    seed = before.assign(cell=-1, state="before")
    found = pd.concat([seed, modules], ignore_index=True) if not seed.empty else modules
    full = full.merge(found, on=["name", "cell"], how="left").sort_values(["name", "cell"], kind="stable")
    carried = full.groupby("name", sort=False)[["category", "title", *LAST_COLUMNS]].ffill()
    previous = carried.groupby(full["name"], sort=False).shift(1)  # the result before each cell
    empty = full["state"].isna().to_numpy() & (full["cell"] >= 0).to_numpy()
    had = previous["last"].notna().to_numpy()
    firsts = pd.to_datetime(cells.set_index("cell")["first"])
    first = full["cell"].map(firsts)
    every = full["name"].map(lambda name: intervals.get(name, default)).astype(float)
    due = pd.to_datetime(previous["last"]) + pd.to_timedelta(every - DUE_SLACK, unit="s")
    held = empty & had & (first < due).to_numpy()
    missing = empty & had & ~held
    filled = pd.DataFrame(
        {
            "kind": "module",
            "category": previous["category"],
            "name": full["name"],
            "title": previous["title"],
            "cell": full["cell"],
            "time": pd.to_datetime(previous["last"]),
            "level": previous["last_level"],
            "status": previous["last_status"].astype(float),
            "message": previous["last_message"],
            "state": np.where(held, "held", "missing"),
        }
    )[held | missing]
    filled.loc[filled["state"] == "missing", ["level", "status", "message"]] = ["", np.nan, ""]
    out = pd.concat([rows[STRIP_COLUMNS], filled[STRIP_COLUMNS]], ignore_index=True)
    out = out.sort_values(["kind", "name", "cell"], kind="stable").reset_index(drop=True)
    return {"rows": out, "cells": cells}


# -- what changed ------------------------------------------------------------------------------------
def level_changes(store: Store, since, until) -> pd.DataFrame:
    """Every level change of every module in (``since``, ``until``]: from (its previous row, up to
    a week before ``since``) → to, and when. A module without an earlier row has ``from_level`` None."""
    since, until = pd.Timestamp(since), pd.Timestamp(until)
    return loaders.cached(
        "level_changes", store, (_key_time(since), _key_time(until)), lambda: _level_changes(store, since, until)
    )


def _level_changes(store: Store, since, until) -> pd.DataFrame:
    if not store.has_table("module_status") or until <= since:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    start = since - STATUS_LOOKBACK
    frame = store.sql(
        f"""
        WITH s AS (SELECT module, category, title, time, level, status, message
                   FROM {store.scan("module_status", start, until)} WHERE time > ? AND time <= ?),
        w AS (SELECT *, lag(level) OVER (PARTITION BY module ORDER BY time) AS from_level,
                        lag(status) OVER (PARTITION BY module ORDER BY time) AS from_status,
                        lag(time) OVER (PARTITION BY module ORDER BY time) AS from_time FROM s)
        SELECT module, category, title, time, from_level, level AS to_level, from_status, status AS to_status,
               from_time, message
        FROM w WHERE time > ? AND from_level IS DISTINCT FROM level ORDER BY time, module""",
        [_py(start), _py(until), _py(since)],
    )
    frame["from_level"] = frame["from_level"].astype(object).where(frame["from_level"].notna(), None)
    return frame[CHANGE_COLUMNS]


def detail_frame(store: Store, module: str, table: str = "rows", at=None) -> pd.DataFrame:
    """The module's detail table as of ``at`` (cached; the same answer as ``Store.detail``)."""
    return loaders.detail(store, module, table, at)


def source_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A stored detail table as its collector produced it: without the store's bookkeeping columns
    and with ``source_run_id``/``source_time``/``source_module`` named back."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    out = frame.drop(columns=[c for c in BOOKKEEPING if c in frame.columns])
    renames = {f"source_{c}": c for c in ("run_id", "time", "module") if f"source_{c}" in out.columns}
    return out.rename(columns=renames).reset_index(drop=True)


# -- why this colour -----------------------------------------------------------------------------
def status_row(store: Store, module: str, at=None) -> pd.Series | None:
    """The module's row at ``at`` (its latest at or before), or None."""
    status = loaders.status_at(store, at)
    if status.empty:
        return None
    found = status[status["module"] == module]
    return None if found.empty else found.iloc[0]


def metrics(store: Store, module: str, at=None) -> dict:
    """The metrics of the module's latest run at or before ``at``."""
    return loaders.cached("metrics", store, (module, _key_time(at)), lambda: store.metrics(module, at))


def metric_trend(store: Store, module: str, metric: str, start=None, end=None) -> pd.DataFrame:
    """One metric of one module over time (``time``, ``value``), reading only the window's days."""
    start_key, end_key = _key_time(start), _key_time(end)

    def compute():
        if not store.has_table("metrics"):
            return pd.DataFrame(columns=["time", "value"])
        low = start_key if start_key is not None else pd.Timestamp("1970-01-01")
        high = end_key if end_key is not None else pd.Timestamp("2200-01-01")
        scan = store.scan("metrics", start_key, end_key)
        return store.sql(
            f"SELECT time, value FROM {scan} WHERE module = ? AND metric = ? AND time BETWEEN ? AND ? ORDER BY time",
            [module, metric, _py(low), _py(high)],
        )

    return loaders.cached("metric_trend", store, (module, metric, start_key, end_key), compute)


# -- search -----------------------------------------------------------------------------------------
def last_success(store: Store, at=None) -> dict[str, pd.Timestamp]:
    """Each module's latest successful run at or before ``at`` (within the status look-back):
    the run whose detail tables ``Store.detail`` shows."""

    def compute():
        if not store.has_table("module_status"):
            return {}
        end = window_end(store, at)
        if end is None:
            return {}
        scan = store.scan("module_status", end - STATUS_LOOKBACK, end)
        frame = store.sql(
            f"SELECT module, max(time) AS t FROM {scan} WHERE status >= 0 AND time <= ? GROUP BY module", [_py(end)]
        )
        return {m: pd.Timestamp(t) for m, t in zip(frame["module"], frame["t"])}

    return loaders.cached("last_success", store, (_key_time(at),), compute)


def detail_table_names(store: Store) -> dict[str, list[str]]:
    """module -> its detail tables ("rows" first), from the manifest."""

    def compute():
        found: dict[str, list[str]] = {}
        for name in store.tables():
            if name.startswith("detail__"):
                module, _, table = name[len("detail__") :].rpartition("__")
                if module:
                    found.setdefault(module, []).append(table)
        return {m: sorted(t, key=lambda n: (n != "rows", n)) for m, t in found.items()}

    return loaders.cached("detail_table_names", store, (), compute)


def text_columns(store: Store, module: str, table: str, when: pd.Timestamp) -> list[str]:
    """The text (VARCHAR) columns of a detail table in the day partition of ``when``."""
    name = detail_table_name(module, table)

    def compute():
        described = store.sql(f"DESCRIBE SELECT * FROM {store.scan(name, when, when)}")
        return [
            c
            for c, t in zip(described["column_name"], described["column_type"])
            if str(t).upper() == "VARCHAR" and c not in BOOKKEEPING
        ]

    return loaders.cached("text_columns", store, (name, when.strftime("%Y-%m-%d")), compute)


def like_pattern(query: str) -> str:
    """``query`` as an ILIKE pattern matching it anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def search_detail(store: Store, module: str, table: str, query: str, at=None, limit: int = 500) -> pd.DataFrame:
    """The rows of one detail table, as of ``at`` (the module's latest successful run), with a text
    cell containing ``query`` (case-insensitive). One SQL; the query is a bound parameter."""

    def compute():
        when = last_success(store, at).get(module)
        name = detail_table_name(module, table)
        if when is None or not store.has_table(name):
            return pd.DataFrame()
        columns = text_columns(store, module, table, when)
        if not columns:
            return pd.DataFrame()
        pattern = like_pattern(query)
        where = " OR ".join(f"{quote_ident(c)} ILIKE ? ESCAPE '\\'" for c in columns)
        frame = store.sql(
            f"SELECT * EXCLUDE (day) FROM {store.scan(name, when, when)} "
            f"WHERE time = ? AND ({where}) LIMIT {int(limit)}",
            [_py(when), *[pattern] * len(columns)],
        )
        return frame.assign(_columns=[columns] * len(frame)) if not frame.empty else frame

    return loaders.cached("search_detail", store, (module, table, query, _key_time(at), int(limit)), compute)


# -- detail rows that changed ------------------------------------------------------------------------
ROW_CHANGE_COLUMNS = ["module", "table", "change", "key", "changed", "columns", "since_time", "until_time"]


def default_keys(frame: pd.DataFrame) -> list[str]:
    """The columns that identify a row when nobody said: every text column (not numbers, flags
    or times) of the source's table."""
    return [
        str(c)
        for c in frame.columns
        if not (
            pd.api.types.is_numeric_dtype(frame[c])
            or pd.api.types.is_bool_dtype(frame[c])
            or pd.api.types.is_datetime64_any_dtype(frame[c])
        )
    ]


def _text(value) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(a, b) -> bool:
    missing_a, missing_b = _text(a) == "" and not isinstance(a, str), _text(b) == "" and not isinstance(b, str)
    if missing_a or missing_b:
        return missing_a and missing_b
    try:
        return bool(a == b) or _text(a) == _text(b)
    except (TypeError, ValueError):
        return _text(a) == _text(b)


def diff_rows(old: pd.DataFrame, new: pd.DataFrame, keys: list[str] | None = None, ignore: tuple = ()) -> pd.DataFrame:
    """Rows of a detail table that appeared, vanished or changed from ``old`` to ``new``.

    Rows are matched on ``keys`` (default: ``default_keys``; all columns when there is no text
    column); rows sharing a key are matched in order. Returns change, key ("col=value, …"),
    changed ("col: old → new; …") and columns (the changed column names).
    """
    old, new = source_columns(old), source_columns(new)
    out_columns = ["change", "key", "changed", "columns"]
    if old.empty and new.empty:
        return pd.DataFrame(columns=out_columns)
    columns = list(dict.fromkeys([*map(str, new.columns), *map(str, old.columns)]))
    columns = [c for c in columns if c not in ignore]
    if keys is None:
        sample = new if not new.empty else old
        keys = [c for c in default_keys(sample) if c in columns] or columns
    keys = [k for k in keys if k in columns] or columns
    values = [c for c in columns if c not in keys]

    def keyed(frame):
        frame = frame.reindex(columns=columns).reset_index(drop=True)
        frame["_key"] = [
            ", ".join(f"{k}={_text(v)}" for k, v in zip(keys, row)) for row in frame[keys].itertuples(index=False)
        ]
        frame["_n"] = frame.groupby("_key").cumcount()
        return frame.set_index(["_key", "_n"])

    before, after = keyed(old), keyed(new)
    rows = []
    for key in after.index.difference(before.index, sort=False):
        rows.append({"change": "appeared", "key": key[0], "changed": "", "columns": []})
    for key in before.index.difference(after.index, sort=False):
        rows.append({"change": "vanished", "key": key[0], "changed": "", "columns": []})
    common = after.index.intersection(before.index, sort=False)
    if values and len(common):
        a, b = before.loc[common, values], after.loc[common, values]
        for key, left, right in zip(common, a.itertuples(index=False), b.itertuples(index=False)):
            changed = [(c, x, y) for c, x, y in zip(values, left, right) if not _same(x, y)]
            if changed:
                rows.append(
                    {
                        "change": "changed",
                        "key": key[0],
                        "changed": "; ".join(f"{c}: {_text(x) or '—'} → {_text(y) or '—'}" for c, x, y in changed),
                        "columns": [c for c, _, _ in changed],
                    }
                )
    return pd.DataFrame(rows, columns=out_columns)


def row_changes(
    store: Store, module: str, table: str, since, until, keys: tuple | None = None, ignore: tuple = ()
) -> pd.DataFrame:
    """How the module's detail table changed from as-of ``since`` to as-of ``until``."""
    since, until = pd.Timestamp(since), pd.Timestamp(until)

    def compute():
        old = detail_frame(store, module, table, since)
        new = detail_frame(store, module, table, until)
        old_time = pd.Timestamp(old["time"].max()) if not old.empty and "time" in old else None
        new_time = pd.Timestamp(new["time"].max()) if not new.empty and "time" in new else None
        if old_time == new_time and (old_time is not None or (old.empty and new.empty)):
            return pd.DataFrame(columns=ROW_CHANGE_COLUMNS)
        diff = diff_rows(old, new, list(keys) if keys else None, ignore)
        return diff.assign(module=module, table=table, since_time=old_time, until_time=new_time)[ROW_CHANGE_COLUMNS]

    return loaders.cached(
        "row_changes", store, (module, table, _key_time(since), _key_time(until), keys, ignore), compute
    )
