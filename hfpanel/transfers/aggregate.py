"""Raw transfer rows → 10-minute and daily statistics, incrementally, exactly, in portable SQL.

Why this shape (docs/transfers.md "Aggregation"): the watermark is the manifest generation
stamped on raw rows (``commit``) and it moves in the same manifest commit as the statistics it
describes, so a crash never loses or doubles a batch. A run reads only rows with
``commit > watermark`` to learn which 10-minute bins they touch, recomputes exactly those bins
from raw (a late message lands in its own bin, a re-run changes nothing), keeps the untouched
bins of those days, and replaces whole stats days (``replace_days``). The SQL files in ``sql/``
run unchanged on DuckDB (here) and Spark (``spark.py``).

Public API: :func:`aggregate` / :func:`aggregate_into` (the ingest daemon, which holds the
writer), :func:`recompute` (after a topology change), :func:`prune` (retention), :func:`compute`
(engine-neutral core), :class:`Summary`.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfpanel.store import StoreWriter
from hfpanel.store.manifest import MANIFEST

from .sites import SiteResolver

log = logging.getLogger("hfpanel.transfers.aggregate")
SQL_DIR = Path(__file__).with_name("sql")
WATERMARK = "transfers.watermark"
#: state key prefix: the first raw day kept by the last prune, per raw table
HORIZON = "transfers.horizon"
BIN, DAY = 600, 86400
#: up to this many bins a run is "small": it checks keys for duplicates (bigger rebuilds trust the
#: raw tables' own dedup) and computes its source rows once instead of once per query
SMALL_RUN_BINS = 7 * 144
_S, _I = pa.string(), pa.int64()
_LINK = [("t", _I), ("src_site", _S), ("dst_site", _S), ("vo", _S), ("activity", _S)]
_COUNTS = ["transfers", "successes", "failures", "bytes", "duration_ms", "failures_source",
           "failures_destination", "failures_transfer", "failures_other"]
_ACCESS = [("t", _I), ("site", _S), ("vo", _S), ("operation", _S), ("records", _I), ("bytes_read", _I),
           ("bytes_written", _I), ("clients", _I), ("client_domains", _I)]
SCHEMAS = {
    "transfer_stats_10m": pa.schema(_LINK + [(c, _I) for c in _COUNTS]),
    "transfer_stats_1d": pa.schema(_LINK + [(c, _I) for c in _COUNTS]),
    "transfer_errors_10m": pa.schema(_LINK + [("error_scope", _S), ("error_category", _S), ("error_pattern", _S),
                                              ("failures", _I), ("example", _S)]),
    "xrootd_stats_10m": pa.schema(_ACCESS),
    "xrootd_stats_1d": pa.schema(_ACCESS),
}
#: raw table → (its source view, a ``sql/`` file with a ``_dedup`` twin; host columns; stats tables)
FAMILIES = {
    "fts_complete": ("fts_attempts", ["src_hostname", "dst_hostname"],
                     ["transfer_stats_10m", "transfer_errors_10m", "transfer_stats_1d"]),
    "xrootd_close": ("xrootd_records", ["server_host"], ["xrootd_stats_10m", "xrootd_stats_1d"]),
}
STATS_TABLES = [t for _, _, tables in FAMILIES.values() for t in tables]


def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``, exactly as both engines run it."""
    return (SQL_DIR / f"{name}.sql").read_text()


def day_of(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(int(t) - int(t) % DAY))


def with_time(table: pa.Table) -> pa.Table:
    """Prepend the store's ``time`` column (the bin start). Rows stay in the engine's order:
    sorting millions of rows with strings costs more than the aggregation, and readers select by
    day partition and ``t`` anyway."""
    stamps = pc.cast(pc.multiply(table.column("t"), 1_000_000), pa.timestamp("us"))
    return table.add_column(0, "time", stamps)


@dataclasses.dataclass
class Summary:
    """What one run did; ``nothing_new`` means it read nothing beyond the manifest."""
    watermark: int = 0
    previous: int = 0
    bins: int = 0
    days: dict = dataclasses.field(default_factory=dict)
    rows: dict = dataclasses.field(default_factory=dict)
    duplicates: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    nothing_new: bool = False


def _cast(table: pa.Table, name: str) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.table([pc.cast(table.column(f.name), f.type) for f in schema], schema=schema)


def compute(engine, resolver: SiteResolver, raw_tables, prior: dict | None = None, check_duplicates: bool = True,
            summary: Summary | None = None, bins=None, materialize: bool = False) -> dict[str, pa.Table]:
    """Statistics for the bins in the engine's ``bins`` relation, by the SQL files.

    The engine already has ``bins`` and, per raw table in ``raw_tables``, a view of that table's
    rows of the days being rebuilt. ``prior`` holds existing stats rows of those days (Arrow);
    rows of bins not being rebuilt are kept, so each returned table covers whole days (``bins``:
    the same bin starts as an Arrow array, when the caller has them at hand). ``materialize``
    computes the source view once instead of in every query (small incremental runs).
    """
    prior, out = prior or {}, {}
    for raw in raw_tables:
        view, host_columns, tables = FAMILIES[raw]
        define = engine.materialize if materialize else engine.view
        define(view, sql_text(view))
        if check_duplicates:
            engine.view("candidates", f"SELECT key FROM {view}")
            duplicates = engine.query(sql_text("duplicate_keys")).column(0)[0].as_py()
            if duplicates:
                log.warning("%d keys of %s occur more than once; counting each once", duplicates, raw)
                define(view, sql_text(f"{view}_dedup"))
            if summary is not None:
                summary.duplicates[raw] = duplicates
        hosts = " UNION ".join(f"SELECT {column} AS host FROM {view}" for column in host_columns)
        engine.table("host_sites", resolver.relation(engine.query(hosts).column(0).to_pylist()))
        for name in tables:
            result = _cast(engine.query(sql_text(name)), name)
            if name.endswith("_10m") and prior.get(name) is not None:
                bins = bins if bins is not None else engine.query("SELECT t FROM bins").column(0)
                keep = prior[name].filter(pc.invert(pc.is_in(prior[name].column("t"), bins)))
                result = pa.concat_tables([_cast(keep, name), result])
            if name == "transfer_stats_10m":
                engine.table("transfer_stats_10m", result)
            out[name] = result
    return out


class DuckEngine:
    """The DuckDB side of the two engines: Parquet files as views, Arrow tables registered.

    Store files never change once written (new content gets a new name), so Parquet footers are
    cached across runs of a long-lived process such as the ingest daemon (see :func:`shared_engine`).
    """

    def __init__(self, threads: int | None = None):
        import duckdb
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET parquet_metadata_cache = true")
        self._registered: set[str] = set()
        self._materialized: set[str] = set()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def files(self, name: str, paths: list[str]) -> None:
        files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
        self.view(name, f"SELECT * FROM read_parquet({files}, hive_partitioning = false, union_by_name = true)")

    def table(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)
        self._registered.add(name)

    def forget(self) -> None:
        """Drop the Arrow tables registered and the rows materialized by a run, freeing their memory."""
        for name in self._registered:
            self.con.unregister(name)
        for name in self._materialized:
            self._drop(name)
        self._registered.clear()
        self._materialized.clear()

    def _drop(self, name: str) -> None:
        import duckdb
        try:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        except duckdb.CatalogException:  # it is a table (materialized by an earlier run)
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def view(self, name: str, sql: str) -> None:
        self._drop(name)
        self.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")

    def materialize(self, name: str, sql: str) -> None:
        """``sql`` computed once into a temporary table ``name`` (the SQL files do not care)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name}__next AS {sql}")
        self._drop(name)
        self.con.execute(f"ALTER TABLE {name}__next RENAME TO {name}")
        self._materialized.add(name)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


_shared: dict[str, DuckEngine] = {}
_shared_lock = threading.Lock()


def shared_engine() -> DuckEngine:
    """One DuckDB connection per process for incremental runs (connecting costs ~20 ms, and the
    footer cache pays off every ten minutes); callers hold ``_shared_lock`` while using it."""
    if "duck" not in _shared:
        _shared["duck"] = DuckEngine()
    return _shared["duck"]


def _parts_by_day(manifest: dict, table: str) -> dict[str, list[str]]:
    days: dict[str, list[str]] = {}
    for part in manifest["tables"].get(table, []):
        days.setdefault(part.split("/")[1][4:], []).append(part)
    return days


def _read_days(root: Path, parts_by_day: dict, days) -> pa.Table | None:
    parts = [root / p for d in sorted(days) for p in parts_by_day.get(d, [])]
    if not parts:
        return None
    return pa.concat_tables([pq.read_table(p, partitioning=None) for p in parts], promote_options="permissive")


def aggregate_into(writer: StoreWriter, resolver: SiteResolver, since: str | None = None,
                   check_duplicates: bool | None = None) -> Summary:
    """One incremental run with a writer the caller holds (the ingest daemon keeps one open).

    ``since`` (``YYYY-MM-DD``) also rebuilds every day from then on that still has raw rows
    (:func:`recompute`). Returns a :class:`Summary`; commits nothing when nothing is new.
    """
    start = time.perf_counter()
    manifest, root = writer.manifest, writer.root
    previous = int(writer.state(WATERMARK, 0) or 0)
    summary = Summary(watermark=previous, previous=previous)
    if manifest.get("generation", 0) <= previous and since is None:
        summary.nothing_new = True
        return summary
    _shared_lock.acquire()
    try:
        engine = shared_engine()
        plan = {}
        for raw in FAMILIES:
            by_day = _parts_by_day(manifest, raw)
            if not by_day:
                continue
            engine.files("everything", [str(root / p) for parts in by_day.values() for p in parts])
            bins = set(engine.query(f"SELECT DISTINCT t - t % {BIN} AS t FROM everything "
                                    f"WHERE commit > {previous}").column(0).to_pylist())
            for day in (d for d in by_day if since is not None and d >= since):
                first = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
                bins.update(range(first, first + DAY, BIN))
            horizon = writer.state(f"{HORIZON}.{raw}")
            stale = {b for b in bins if horizon and day_of(b) < horizon}
            if stale:  # recomputing those bins from the few late rows would erase their statistics
                log.warning("%s: ignoring rows in %d bins before %s, whose raw rows were pruned",
                            raw, len(stale), horizon)
                bins -= stale
            if bins:
                plan[raw] = (by_day, bins)
        if not plan:
            return summary
        tables, replace = {}, {}
        for raw, (by_day, bins) in plan.items():
            days = sorted({day_of(b) for b in bins})
            engine.files(raw, [str(root / p) for d in days for p in by_day.get(d, [])])
            stats = FAMILIES[raw][2]
            per_day = {d: 0 for d in days}
            for b in bins:
                per_day[day_of(b)] += 1
            partial = [d for d in days if per_day[d] < DAY // BIN]  # whole days need no prior rows
            prior = {name: _read_days(root, _parts_by_day(manifest, name), partial) for name in stats}
            small = len(bins) <= SMALL_RUN_BINS
            check = check_duplicates if check_duplicates is not None else small
            bin_array = pa.array(sorted(bins), pa.int64())
            engine.table("bins", pa.table({"t": bin_array}))
            for name, table in compute(engine, resolver, [raw], prior, check, summary, bin_array, small).items():
                tables[name] = with_time(table)
                replace[name] = days
                summary.rows[name] = table.num_rows
            summary.bins += len(bins)
            summary.days[raw] = days
        summary.watermark = writer.next_generation
        writer.write(tables, replace_days=replace, state={WATERMARK: summary.watermark})
    finally:
        if "duck" in _shared:
            _shared["duck"].forget()
        _shared_lock.release()
        summary.seconds = time.perf_counter() - start
    log.info("aggregated %d bins over %s in %.2fs (watermark %d → %d)", summary.bins,
             {k: len(v) for k, v in summary.days.items()}, summary.seconds, previous, summary.watermark)
    return summary


# -- entry points taking a store path and a configuration ------------------------------------------
RAW_TABLES = ["fts_complete", "fts_state", "xrootd_close", "quarantine"]
RETENTION = {"raw": "30d", "stats": "5y"}


def transfers_section(config) -> dict:
    """The ``transfers:`` settings as a dict from whatever the caller has: None, the section
    itself, a whole site YAML mapping, or a config object (hfpanel.transfers.config's)."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config.get("transfers", config) or {})
    section = getattr(config, "transfers", config)
    if isinstance(section, dict):
        return dict(section)
    return {key: getattr(section, key) for key in ("sites", "retention") if getattr(section, key, None) is not None}


def aggregate(store_root, config=None, since: str | None = None, wait: float | None = 60.0,
              resolver: SiteResolver | None = None) -> Summary:
    """Open the store's writer (waiting up to ``wait`` seconds for it) and run one incremental
    aggregation; the entry point for cron, the CLI and tests."""
    if not (Path(store_root) / MANIFEST).exists():  # no store (yet): nothing to do, and create nothing
        return Summary(nothing_new=True)
    resolver = resolver or SiteResolver.from_config(transfers_section(config).get("sites"))
    with StoreWriter(store_root, wait=wait) as writer:
        return aggregate_into(writer, resolver, since=since)


def recompute(store_root, since: str, config=None, wait: float | None = 60.0,
              resolver: SiteResolver | None = None) -> Summary:
    """Rebuild every statistic from ``since`` (``YYYY-MM-DD``) from raw with today's topology.
    Days whose raw rows are already pruned keep their statistics as they are."""
    return aggregate(store_root, config, since=str(since)[:10], wait=wait, resolver=resolver)


def retention_days(value) -> int:
    """Whole days kept for a retention like ``30d``, ``5y`` or ``26w``; a number is seconds (as
    hfpanel.transfers.config parses durations)."""
    from hfpanel.durations import parse_duration
    text = str(value).strip()
    if isinstance(value, str) and text.endswith("y"):
        return int(float(text[:-1]) * 365)
    return int(parse_duration(value) // DAY)


def expired_days(days, keep_days: int, now: float | None = None) -> list[str]:
    """Days that end at least ``keep_days`` whole days before today (UTC): a day is dropped only
    when all of it is older than the limit, never the day the limit falls in."""
    today = int(now if now is not None else time.time()) // DAY * DAY
    limit = day_of(today - keep_days * DAY)
    return sorted(d for d in days if d < limit)


def prune(store_root, retention=None, now: float | None = None, wait: float | None = 60.0) -> dict[str, list[str]]:
    """Apply retention: raw tables keep ``raw`` days, statistics ``stats``. One manifest commit
    retires every expired day of every table, so readers see the store before or after, never
    half-pruned; raw days still holding rows not yet aggregated are kept (and logged)."""
    if not (Path(store_root) / MANIFEST).exists():
        return {}
    retention = {**RETENTION, **(retention or {})}
    keep = {"raw": retention_days(retention["raw"]), "stats": retention_days(retention["stats"])}
    with StoreWriter(store_root, wait=wait) as writer:
        mark = int(writer.state(WATERMARK, 0) or 0)
        plan, horizons = {}, {}
        for table in RAW_TABLES + STATS_TABLES + ["ingest_rate"]:
            kind = "raw" if table in RAW_TABLES else "stats"
            by_day = _parts_by_day(writer.manifest, table)
            days = expired_days(by_day, keep[kind], now)
            if table in FAMILIES and days:
                waiting = [d for d in days if _unaggregated(writer.root, by_day[d], mark)]
                days = [d for d in days if d not in waiting]
                if days:  # the first raw day kept; late rows before it are not aggregated
                    after = day_of(calendar.timegm(time.strptime(days[-1], "%Y-%m-%d")) + DAY)
                    horizons[f"{HORIZON}.{table}"] = min([after] + waiting)
            if days:
                plan[table] = days
        if plan:
            writer.write({}, replace_days=plan, state=horizons)
            log.info("pruned %s", {t: len(d) for t, d in plan.items()})
    return plan


def _unaggregated(root: Path, parts: list[str], mark: int) -> bool:
    """Whether these raw files hold rows newer than the watermark (reads only ``commit``)."""
    for part in parts:
        column = pq.read_table(root / part, columns=["commit"], partitioning=None).column("commit")
        if len(column) and pc.max(column).as_py() > mark:
            log.warning("keeping %s: it holds rows not aggregated yet (run `hfpanel transfers aggregate`)", part)
            return True
    return False
