"""The store's questions behind a what-if: module and category rows of a window, the run times, and
what a module's collector produced in each run (metrics, detail tables) so a rule can be applied
again. Read-only; every window reads only its day partitions.
"""

from __future__ import annotations

import pandas as pd

from ..store.reader import detail_table_name
from .history import source_columns

STATUS_COLUMNS = (
    "run_id",
    "time",
    "category",
    "module",
    "status",
    "level",
    "error",
    "downtime",
    "weight",
    "title",
    "missing",
    "collector",
)


def _py(value):
    return pd.Timestamp(value).to_pydatetime()


def _have(store, table: str) -> set[str]:
    return set(store.sql(f'SELECT * FROM "{table}" LIMIT 0').columns)


def status_rows(store, since, until) -> pd.DataFrame:
    """Module rows with time in (since, until], oldest first (missing columns as empty)."""
    if not store.has_table("module_status"):
        return pd.DataFrame(columns=list(STATUS_COLUMNS))
    have = _have(store, "module_status")
    cols = ", ".join(f'"{c}"' if c in have else f"NULL AS {c}" for c in STATUS_COLUMNS)
    frame = store.sql(
        f"SELECT {cols} FROM {store.scan('module_status', since, until)} WHERE time > ? AND time <= ? ORDER BY time",
        [_py(since), _py(until)],
        arrow=True,
    )
    return frame.assign(
        error=frame["error"].fillna("").astype(str),
        downtime=frame["downtime"].fillna("").astype(str),
        missing=frame["missing"].fillna("").astype(str),
        collector=frame["collector"].fillna("").astype(str),
        weight=frame["weight"].fillna(1.0).astype(float),
    )


def category_rows(store, since, until) -> pd.DataFrame:
    if not store.has_table("category_status"):
        return pd.DataFrame(columns=["time", "category", "status", "level"])
    return store.sql(
        f"SELECT time, category, status, level FROM {store.scan('category_status', since, until)} "
        "WHERE time > ? AND time <= ? ORDER BY time",
        [_py(since), _py(until)],
    )


def run_times(store, since, until) -> list[pd.Timestamp]:
    if not store.has_table("runs"):
        return []
    frame = store.sql(
        f"SELECT DISTINCT time FROM {store.scan('runs', since, until)} WHERE time > ? AND time <= ? ORDER BY time",
        [_py(since), _py(until)],
    )
    return [pd.Timestamp(t) for t in frame["time"]]


def module_metrics(store, module: str, since, until) -> dict[str, dict[str, float]]:
    """run_id → {metric: value} of ``module`` in (since, until]."""
    if not store.has_table("metrics"):
        return {}
    frame = store.sql(
        f"SELECT run_id, metric, value FROM {store.scan('metrics', since, until)} "
        "WHERE module = ? AND time > ? AND time <= ?",
        [module, _py(since), _py(until)],
    )
    out: dict[str, dict[str, float]] = {}
    for run_id, metric, value in zip(frame["run_id"], frame["metric"], frame["value"]):
        out.setdefault(run_id, {})[metric] = float(value)
    return out


def module_tables(store, module: str, since, until) -> dict[str, dict[pd.Timestamp, pd.DataFrame]]:
    """table name → {run time → the rows of that run} of ``module`` in (since, until]."""
    prefix = detail_table_name(module, "")
    out = {}
    for table in store.tables():
        if not table.startswith(prefix):
            continue
        frame = store.sql(
            f"SELECT * EXCLUDE (day) FROM {store.scan(table, since, until)} WHERE time > ? AND time <= ?",
            [_py(since), _py(until)],
        )
        out[table[len(prefix) :]] = {
            pd.Timestamp(when): source_columns(rows.dropna(axis=1, how="all")) for when, rows in frame.groupby("time")
        }
    return out


def metric_values(store, metrics: dict[str, str], since, until) -> pd.DataFrame:
    """``module``, ``run_id``, ``value`` of one metric per module (``{module: metric}``) in (since, until],
    in one scan."""
    if not store.has_table("metrics") or not metrics:
        return pd.DataFrame(columns=["module", "run_id", "value"])
    pairs = " OR ".join("(module = ? AND metric = ?)" for _ in metrics)
    return store.sql(
        f"SELECT module, run_id, value FROM {store.scan('metrics', since, until)} "
        f"WHERE time > ? AND time <= ? AND ({pairs})",
        [_py(since), _py(until), *[x for pair in metrics.items() for x in pair]],
        arrow=True,
    )
