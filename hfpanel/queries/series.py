"""Time series over the store for the PlotBuilder: what can be plotted, and the binned queries.

A *series* is named by a string the analyst can type and paste:

* ``"module:metric"`` — one metric of the ``metrics`` table (e.g. ``"condor_held:held"``);
* ``"module.table:column"`` — one numeric column of the detail table ``detail__<module>__<table>``
  (e.g. ``"dcache_space_cms_disk.rows:free"``; the column may contain spaces: ``"frontier_squid.rows:Hit ratio"``).

Every query aggregates in DuckDB over only the day partitions of the window (``Store.scan``), with
the module, metric, times and interval as bound parameters. The only names put into SQL text are
identifiers checked against the table's schema (``DESCRIBE``) and then quoted, and the aggregate
function, taken from a fixed table. Answers go through ``loaders.cached`` (keyed by the manifest stamp),
so sessions asking the same question share one query; cached frames are read-only.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..store import Store
from ..store.reader import detail_table_name
from . import loaders

DETAIL_PREFIX = "detail__"
#: the store's own columns of a detail table: never a value to plot nor a group
BOOKKEEPING = ("run_id", "time", "module", "day")
#: DuckDB types whose values can be aggregated (BOOLEAN counts as 0/1: mean = fraction true)
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "REAL",
    "DOUBLE",
    "BOOLEAN",
)
#: the time bins offered; "auto" picks the finest one that keeps a series under MAX_POINTS
BINS = {"15min": 15 * 60, "1h": 3600, "1d": 86400, "1w": 7 * 86400}
BIN_INTERVALS = {"15min": "15 minutes", "1h": "1 hour", "1d": "1 day", "1w": "7 days"}
AUTO = "auto"
#: auto binning keeps each series at or below this many points (a year at 1 d = 365)
MAX_POINTS = 2000
#: an explicit bin may give more points than auto would, but not more than this
MAX_POINTS_EXPLICIT = 10_000
#: aggregate name -> SQL over the column ``value`` (the percentiles are DuckDB's ``quantile_cont``)
AGGREGATES = {
    "mean": "avg(value)",
    "sum": "sum(value)",
    "max": "max(value)",
    "min": "min(value)",
    "p50": "quantile_cont(value, 0.5)",
    "p90": "quantile_cont(value, 0.9)",
    "p99": "quantile_cont(value, 0.99)",
}
#: how the rows of one run are combined before binning ("" = every row is a sample)
PER_RUN = {
    "": None,
    "sum": "sum(value)",
    "mean": "avg(value)",
    "max": "max(value)",
    "min": "min(value)",
    "count": "count(value)",
}
#: at most this many groups per series by default (the groups with the most samples)
MAX_GROUPS = 20
#: the columns of every series frame
COLUMNS = ["time", "series", "group", "label", "value", "count"]


class SeriesError(ValueError):
    """A series, column, group or option that the store does not have or the builder does not know."""


@dataclasses.dataclass(frozen=True)
class SeriesRef:
    """A parsed series name: ``module:metric`` or ``module.table:column``."""

    key: str
    module: str
    column: str
    table: str | None = None  # None: the metrics table; else the detail table's short name ("rows")

    @property
    def is_metric(self) -> bool:
        return self.table is None

    @property
    def store_table(self) -> str:
        return "metrics" if self.table is None else detail_table_name(self.module, self.table)


def parse_series(key: str) -> SeriesRef:
    """``"module:metric"`` or ``"module.table:column"`` → SeriesRef (SeriesError if malformed)."""
    if not isinstance(key, str) or ":" not in key:
        raise SeriesError(f"not a series: {key!r} (use 'module:metric' or 'module.table:column')")
    left, column = key.split(":", 1)
    module, _, table = left.partition(".")
    if not module or not column or ("." in left and not table):
        raise SeriesError(f"not a series: {key!r} (use 'module:metric' or 'module.table:column')")
    return SeriesRef(key=key, module=module.strip(), column=column, table=table or None)


def quote(name: str) -> str:
    """A DuckDB identifier in double quotes (only ever called on names checked against a schema)."""
    return '"' + str(name).replace('"', '""') + '"'


def is_numeric(duck_type: str) -> bool:
    base = str(duck_type).upper().split("(")[0].strip()
    return base in NUMERIC_TYPES or base == "DECIMAL"


def is_text(duck_type: str) -> bool:
    return str(duck_type).upper().split("(")[0].strip() in ("VARCHAR", "TEXT", "STRING")


def split_detail_name(table: str) -> tuple[str, str]:
    """``detail__<module>__<table>`` → (module, table) (module names may hold single underscores)."""
    rest = table[len(DETAIL_PREFIX) :]
    module, _, short = rest.rpartition("__")
    return (module, short) if module else (rest, "rows")


# -- schemas ---------------------------------------------------------------------------------------
def schema(store: Store, table: str) -> dict[str, str]:
    """Column name → DuckDB type of one store table (its whole history, from ``DESCRIBE``)."""

    def compute():
        if not store.has_table(table):
            return {}
        frame = store.sql(f"DESCRIBE SELECT * FROM {quote(table)}")
        return dict(zip(frame["column_name"], frame["column_type"].astype(str)))

    return cached_copy("series.schema", store, (table,), compute)


def window_schema(store: Store, table: str, start, end) -> dict[str, str]:
    """Column name → type of the table's partitions in the window (a column may be younger than the table)."""

    def compute():
        frame = store.sql(f"DESCRIBE SELECT * FROM {store.scan(table, start, end)}")
        return dict(zip(frame["column_name"], frame["column_type"].astype(str)))

    return cached_copy("series.window_schema", store, (table, _day(start), _day(end)), compute)


def cached_copy(kind, store, args, compute):
    """``loaders.cached`` for small mutable answers: each caller gets its own copy of the dict."""
    return dict(loaders.cached(kind, store, args, compute))


def _day(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def detail_tables(store: Store) -> list[str]:
    return [t for t in store.tables() if t.startswith(DETAIL_PREFIX)]


def available_series(store: Store) -> pd.DataFrame:
    """Everything that can be plotted: one row per series with ``series`` (the name to pass),
    ``source`` ("metric" / "detail"), ``module``, ``table`` (store table), ``column``, ``type`` and,
    for detail columns, ``groups`` (the table's columns usable as ``group_by``, text ones first)."""

    def compute():
        rows = []
        if store.has_table("metrics"):
            metrics = store.sql("SELECT DISTINCT module, metric FROM metrics ORDER BY module, metric")
            rows += [
                {
                    "series": f"{m}:{n}",
                    "source": "metric",
                    "module": m,
                    "table": "metrics",
                    "column": n,
                    "type": "DOUBLE",
                    "groups": (),
                }
                for m, n in zip(metrics["module"], metrics["metric"])
            ]
        for table in detail_tables(store):
            module, short = split_detail_name(table)
            columns = schema(store, table)
            groups = tuple(group_columns(columns))
            rows += [
                {
                    "series": f"{module}.{short}:{name}",
                    "source": "detail",
                    "module": module,
                    "table": table,
                    "column": name,
                    "type": kind,
                    "groups": groups,
                }
                for name, kind in columns.items()
                if name not in BOOKKEEPING and is_numeric(kind)
            ]
        frame = pd.DataFrame(rows, columns=["series", "source", "module", "table", "column", "type", "groups"])
        order = sorted(
            range(len(frame)),
            key=lambda i: (
                frame["module"].iloc[i],
                frame["source"].iloc[i] != "metric",
                frame["series"].iloc[i].lower(),
            ),
        )
        return frame.iloc[order].reset_index(drop=True)

    return loaders.cached("series.available", store, (), compute)


def group_columns(columns: dict[str, str]) -> list[str]:
    """The columns of a detail table a series can be grouped by: text first, then numbers and flags
    (a numeric group such as a hold reason code is shown as text)."""
    text = [c for c, t in columns.items() if c not in BOOKKEEPING and is_text(t)]
    other = [c for c, t in columns.items() if c not in BOOKKEEPING and not is_text(t) and is_numeric(t)]
    return text + other


# -- validation --------------------------------------------------------------------------------------
def validate(store: Store, ref: SeriesRef, group_by: str = "") -> None:
    """Raise SeriesError unless the series exists with a numeric column and ``group_by`` is a
    groupable column of the same detail table (metrics series cannot be grouped)."""
    if ref.is_metric:
        if not store.has_table("metrics"):
            raise SeriesError(f"unknown series {ref.key!r}: the store has no metrics table")
        known = available_series(store)
        if not ((known["source"] == "metric") & (known["series"] == ref.key)).any():
            metrics = sorted(known.loc[(known["source"] == "metric") & (known["module"] == ref.module), "column"])
            hint = (
                f"metrics of {ref.module!r}: {', '.join(metrics)}"
                if metrics
                else f"no metrics for module {ref.module!r}"
            )
            raise SeriesError(f"unknown series {ref.key!r} ({hint})")
        return
    table = ref.store_table
    if not store.has_table(table):
        raise SeriesError(
            f"unknown series {ref.key!r}: the store has no detail table {ref.table!r} of module "
            f"{ref.module!r} (no table {table})"
        )
    columns = schema(store, table)
    numeric = [c for c, t in columns.items() if c not in BOOKKEEPING and is_numeric(t)]
    if ref.column not in columns or ref.column in BOOKKEEPING:
        raise SeriesError(f"unknown column {ref.column!r} in {table} (numeric columns: {', '.join(numeric) or 'none'})")
    if ref.column not in numeric:
        raise SeriesError(
            f"column {ref.column!r} of {table} is {columns[ref.column]}, not numeric "
            f"(numeric columns: {', '.join(numeric) or 'none'})"
        )
    if group_by:
        groups = group_columns(columns)
        if group_by not in groups:
            raise SeriesError(
                f"cannot group {ref.key!r} by {group_by!r}: not a column of {table} "
                f"(columns to group by: {', '.join(groups) or 'none'})"
            )


# -- windows and bins ------------------------------------------------------------------------------
def auto_bin(span_seconds: float) -> str:
    """The finest bin that keeps a window of ``span_seconds`` at or below MAX_POINTS points."""
    for name, seconds in BINS.items():
        if span_seconds / seconds <= MAX_POINTS:
            return name
    return "1w"


def resolve_bin(bin_name: str, span_seconds: float) -> str:
    if bin_name == AUTO:
        return auto_bin(span_seconds)
    if bin_name not in BINS:
        raise SeriesError(f"unknown bin {bin_name!r} (one of: auto, {', '.join(BINS)})")
    points = span_seconds / BINS[bin_name]
    if points > MAX_POINTS_EXPLICIT:
        raise SeriesError(
            f"{bin_name} bins over this window would be {points:.0f} points per series "
            f"(at most {MAX_POINTS_EXPLICIT}): choose a coarser bin or 'auto'"
        )
    return bin_name


# -- the queries -----------------------------------------------------------------------------------
def _window_args(start, end) -> tuple:
    return pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()


def series_frame(
    store: Store,
    key: str,
    start,
    end,
    bin_name: str,
    agg: str = "mean",
    per_run: str = "",
    group_by: str = "",
    max_groups: int = MAX_GROUPS,
) -> pd.DataFrame:
    """One series binned over [start, end] (naive UTC, both included): columns ``time`` (the bin's
    start), ``series``, ``group`` ("" without group_by), ``label``, ``value`` and ``count`` (the
    samples in the bin). ``per_run`` first combines the rows of each run (e.g. "sum" of a column over
    all pools), then ``agg`` runs over the samples of each bin. Empty cells (NULL) are no samples, so
    with ``per_run="count"`` a run without any value gives a gap, not a zero. With ``group_by`` the
    ``max_groups`` groups with the most samples are kept. Cached per manifest stamp."""
    ref = parse_series(key)
    if agg not in AGGREGATES:
        raise SeriesError(f"unknown aggregate {agg!r} (one of: {', '.join(AGGREGATES)})")
    if per_run not in PER_RUN:
        choices = ", ".join(k for k in PER_RUN if k)
        raise SeriesError(f"unknown per-run combination {per_run!r} (one of: none, {choices})")
    if bin_name not in BINS:
        raise SeriesError(f"unknown bin {bin_name!r} (one of: {', '.join(BINS)})")
    if ref.is_metric and group_by:
        group_by = ""  # a metric is one number per run: nothing to group
    validate(store, ref, group_by)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    args = (key, start, end, bin_name, agg, per_run, group_by, int(max_groups))
    return loaders.cached(
        "series.frame",
        store,
        args,
        lambda: _query(store, ref, start, end, bin_name, agg, per_run, group_by, int(max_groups)),
    )


def _query(store, ref, start, end, bin_name, agg, per_run, group_by, max_groups) -> pd.DataFrame:
    table = ref.store_table
    params: list = []
    if ref.is_metric:
        source = (
            f"SELECT time, run_id, CAST(value AS DOUBLE) AS value, '' AS grp "
            f"FROM {store.scan(table, start, end)} WHERE module = ? AND metric = ? AND time >= ? AND time <= ?"
        )
        params += [ref.module, ref.column, *_window_args(start, end)]
    else:
        present = window_schema(store, table, start, end)
        if ref.column not in present or (group_by and group_by not in present):
            return empty_frame()  # the column is younger than the window: nothing to show, not an error
        group = _group_expression(group_by, present[group_by]) if group_by else "''"
        source = (
            f"SELECT time, run_id, TRY_CAST({quote(ref.column)} AS DOUBLE) AS value, {group} AS grp "
            f"FROM {store.scan(table, start, end)} WHERE module = ? AND time >= ? AND time <= ?"
        )
        params += [ref.module, *_window_args(start, end)]
    combine = PER_RUN[per_run]
    samples = (
        f"SELECT time, grp, {combine} AS value FROM src WHERE value IS NOT NULL GROUP BY run_id, time, grp"
        if combine
        else "SELECT time, grp, value FROM src"
    )
    top = ""
    if group_by:
        top = "AND grp IN (SELECT grp FROM samples GROUP BY grp ORDER BY count(*) DESC, grp LIMIT ?)"
    query = (
        f"WITH src AS ({source}), samples AS ({samples}) "
        f'SELECT time_bucket(?::INTERVAL, time) AS time, grp AS "group", {AGGREGATES[agg]} AS value, '
        f"count(value) AS count FROM samples WHERE value IS NOT NULL {top} "
        f'GROUP BY ALL ORDER BY "group", time'
    )
    params += [BIN_INTERVALS[bin_name]]
    if group_by:
        params.append(max_groups)
    frame = store.sql(query, params)
    if frame.empty:
        return empty_frame()
    frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
    frame["series"] = ref.key
    frame["group"] = frame["group"].astype(str)
    frame["label"] = [ref.key if not g else f"{ref.key} [{g}]" for g in frame["group"]]
    frame["value"] = frame["value"].astype(float)
    frame["count"] = frame["count"].astype("int64")
    return frame[COLUMNS].reset_index(drop=True)


def _group_expression(column: str, duck_type: str) -> str:
    """SQL for a group's label: the column as text, whole floats without ".0" (hold code 13, not 13.0)."""
    name = quote(column)
    if str(duck_type).upper() in ("DOUBLE", "FLOAT", "REAL"):
        text = (
            f"CASE WHEN isfinite({name}) AND {name} = trunc({name}) AND abs({name}) < 1e15 "
            f"THEN CAST(CAST({name} AS BIGINT) AS VARCHAR) ELSE CAST({name} AS VARCHAR) END"
        )
    else:
        text = f"CAST({name} AS VARCHAR)"
    return f"coalesce({text}, '(none)')"


def first_time(store: Store, keys, start, end) -> pd.Timestamp | None:
    """The first sample of any of the series ``keys`` in [start, end] (None: none there): where a
    window that fits the data begins. Reads only the window's day partitions; cached."""
    refs = []
    for key in dict.fromkeys(keys):
        try:
            refs.append(parse_series(key))
        except SeriesError:
            continue
    start, end = pd.Timestamp(start), pd.Timestamp(end)

    def compute():
        found = []
        for ref in refs:
            if not store.has_table(ref.store_table):
                continue
            metric = " AND metric = ?" if ref.is_metric else ""
            frame = store.sql(
                f"SELECT min(time) AS first FROM {store.scan(ref.store_table, start, end)} "
                f"WHERE module = ?{metric} AND time >= ? AND time <= ?",
                [ref.module, *([ref.column] if ref.is_metric else []), *_window_args(start, end)],
            )
            if not frame.empty and not pd.isna(frame["first"].iloc[0]):
                found.append(pd.Timestamp(frame["first"].iloc[0]))
        return min(found) if found else None

    return loaders.cached("series.first", store, (tuple(r.key for r in refs), start, end), compute)


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": pd.Series(dtype="datetime64[us]"),
            "series": pd.Series(dtype=object),
            "group": pd.Series(dtype=object),
            "label": pd.Series(dtype=object),
            "value": pd.Series(dtype=float),
            "count": pd.Series(dtype="int64"),
        }
    )


def status_spans(store: Store, module: str, start, end) -> pd.DataFrame:
    """The module's level over [start, end] as spans: ``module``, ``level``, ``start``, ``end`` (the
    next change, or the window's end) and ``runs`` (its rows inside the window). The level in force
    at the window's start (its last row before it) opens the first span. Cached per manifest stamp."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)

    def compute():
        if not store.has_table("module_status"):
            return pd.DataFrame(columns=["module", "level", "start", "end", "runs"])
        lookback = start - pd.Timedelta(days=1)
        frame = store.sql(
            f"""WITH rows AS (
                    SELECT time, level FROM {store.scan("module_status", lookback, end)}
                    WHERE module = ? AND time <= ? AND time >= ?
                ), marked AS (
                    SELECT time, level,
                           CASE WHEN level IS DISTINCT FROM lag(level) OVER (ORDER BY time) THEN 1 ELSE 0 END AS change
                    FROM rows
                ), numbered AS (
                    SELECT time, level, sum(change) OVER (ORDER BY time) AS seg FROM marked
                )
                SELECT level, min(time) AS start, count(*) FILTER (WHERE time >= ?) AS runs
                FROM numbered GROUP BY seg, level ORDER BY start""",
            [module, end.to_pydatetime(), lookback.to_pydatetime(), start.to_pydatetime()],
        )
        if frame.empty:
            return pd.DataFrame(columns=["module", "level", "start", "end", "runs"])
        frame["start"] = pd.to_datetime(frame["start"])
        frame["end"] = list(frame["start"].iloc[1:]) + [end]
        frame = frame[frame["end"] > start].copy()  # spans wholly before the window only gave the opening level
        frame["start"] = frame["start"].clip(lower=start)
        frame.insert(0, "module", module)
        return frame[["module", "level", "start", "end", "runs"]].reset_index(drop=True)

    return loaders.cached("series.status_spans", store, (module, start, end), compute)
