"""Raw transfer rows → 10-minute and daily statistics, incrementally, exactly, in portable SQL.

Why this shape (docs/transfers.md "Aggregation"): the watermark is the manifest generation
stamped on raw rows (``commit``) and it moves in the same manifest commit as the statistics it
describes, so a crash never loses or doubles a batch. Two ways to fold new rows in:

- **delta** (FTS, a normal incremental run): only the rows committed since the watermark are
  read and counted; their statistics are appended as a small part. Every FTS statistic is a
  count or a sum, so a key's rows add up (readers sum; a late message simply adds to its bin).
  When a stats day reaches ``COMPACT_PARTS`` parts the run that touches it folds the day into one
  part with one row per key (:func:`compute.merge_sql`), so readers never open many files.
- **rebuild** (``recompute --since``, a run with more than ``DELTA_MAX_ROWS`` new rows, and XRootD
  whose distinct client counts do not add up): the touched days are recomputed from all their
  raw rows and replace the days' statistics (``replace_days``).
The SQL here and in ``sql/`` runs unchanged on any engine of ``engine.py`` (DuckDB by default,
Spark with ``--engine spark``); only the commit is local: the one ``StoreWriter``.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from hfpanel.durations import parse_duration
from hfpanel.store import StoreWriter
from hfpanel.store.manifest import MANIFEST

from .compute import ADDITIVE, BIN, DAY, FAMILIES, cast, compute, merge_sql, with_time
from .engine import release_shared, shared_engine, shared_lock
from .raw import SCHEMAS as RAW_SCHEMAS
from .retention import HORIZON, WATERMARK, day_of, parts_by_day
from .sites import SiteResolver

log = logging.getLogger("hfpanel.transfers.aggregate")
#: up to this many new rows a run appends deltas; more (a backlog, a first run) rebuilds the days
DELTA_MAX_ROWS = 500_000
#: a stats day holding this many parts is folded into one by the next run that touches it
COMPACT_PARTS = 12
#: a rebuild of up to this many days checks keys for duplicates (bigger ones trust the raw tables)
CHECK_DAYS = 7
DEDUP_WINDOW = 2 * DAY


@dataclasses.dataclass
class Summary:
    """What one run did; ``nothing_new`` means it read nothing beyond the manifest."""

    watermark: int = 0
    previous: int = 0
    bins: int = 0
    days: dict = dataclasses.field(default_factory=dict)
    rows: dict = dataclasses.field(default_factory=dict)
    duplicates: dict = dataclasses.field(default_factory=dict)
    mode: dict = dataclasses.field(default_factory=dict)
    folded: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    nothing_new: bool = False


def _paths(root: Path, parts) -> list[str]:
    return [str(root / p) for p in parts]


def _epoch(day: str) -> int:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


class _Run:
    """One aggregation over one writer: plans each raw family, computes, commits once."""

    def __init__(self, writer: StoreWriter, resolver: SiteResolver, engine, since, check_duplicates, window):
        self.writer, self.resolver, self.engine = writer, resolver, engine
        self.root, self.manifest = writer.root, writer.manifest
        self.since, self.check, self.window = since, check_duplicates, window
        self.previous = int(writer.state(WATERMARK, 0) or 0)
        self.summary = Summary(watermark=self.previous, previous=self.previous)
        self.tables: dict[str, pa.Table] = {}
        self.replace: dict[str, list[str]] = {}

    def family(self, raw: str) -> None:
        by_day = parts_by_day(self.manifest, raw)
        if not by_day:
            return
        horizon = self.writer.state(f"{HORIZON}.{raw}")
        lower = _epoch(horizon) if horizon else 0
        self.engine.files("everything", _paths(self.root, [p for parts in by_day.values() for p in parts]))
        new = self.engine.query(
            f"SELECT t - t % {BIN} AS t, COUNT(*) AS n FROM everything "
            f"WHERE commit > {self.previous} GROUP BY t - t % {BIN}"
        )
        bins = dict(zip(new.column("t").to_pylist(), new.column("n").to_pylist()))
        stale = [b for b in bins if b < lower]
        if stale:  # their raw rows were pruned: recomputing from the few late ones would erase the day
            log.warning("%s: ignoring rows in %d bins before %s, whose raw rows were pruned", raw, len(stale), horizon)
            for b in stale:
                del bins[b]
        days = {day_of(b) for b in bins}
        if self.since is not None:
            days |= {d for d in by_day if d >= self.since and d >= (horizon or "")}
        if not days:
            return
        self.summary.bins += len(bins)
        self.summary.days[raw] = sorted(days)
        if raw in ADDITIVE and self.since is None and sum(bins.values()) <= DELTA_MAX_ROWS:
            self._delta(raw, by_day, sorted(days), lower)
        else:
            self._rebuild(raw, by_day, sorted(days))

    def _rebuild(self, raw: str, by_day: dict, days: list[str]) -> None:
        self.summary.mode[raw] = "rebuild"
        self.engine.files(raw, _paths(self.root, [p for d in days for p in by_day.get(d, [])]))
        small = len(days) <= CHECK_DAYS
        check = self.check if self.check is not None else small
        for name, table in compute(self.engine, self.resolver, [raw], check, self.summary, small).items():
            self._add(name, with_time(table), days)

    def _delta(self, raw: str, by_day: dict, days: list[str], lower: int) -> None:
        """Count only the rows committed since the watermark. A key can only be in the store
        already if the ingest's dedup window missed it: when the row arrived more than half the
        window after it happened (or its arrival is unknown), or twice in these rows."""
        self.summary.mode[raw] = "delta"
        engine = self.engine
        engine.files("raw_days", _paths(self.root, [p for d in days for p in by_day[d]]))
        engine.materialize("fresh", f"SELECT * FROM raw_days WHERE commit > {self.previous} AND t >= {lower}")
        # late: arrived more than half the window after it happened (seconds of ``time`` as ``t``)
        late_after = f"INTERVAL '{int(self.window // 2)}' SECOND"
        total, distinct, late = (
            engine.query(
                "SELECT COUNT(*), COUNT(DISTINCT key), COUNT(CASE WHEN received IS NULL OR "
                f"received > time + {late_after} THEN 1 END) FROM fresh"
            )
            .to_pylist()[0]
            .values()
        )
        if self.check is False or (total == distinct and not late):
            engine.view(raw, "SELECT * FROM fresh")
        else:
            seen = (
                f" AND NOT EXISTS (SELECT 1 FROM raw_days o WHERE o.commit <= {self.previous} AND o.key = f.key)"
                if late or self.check
                else ""
            )
            columns = ", ".join(f"f.{c}" for c in RAW_SCHEMAS[raw].names)
            engine.materialize(
                raw,
                f"SELECT {columns} FROM (SELECT r.*, row_number() OVER "
                f"(PARTITION BY r.key ORDER BY r.commit, r.t) AS copy FROM fresh r) f "
                f"WHERE f.copy = 1{seen}",
            )
            kept = engine.query(f"SELECT COUNT(*) FROM {raw}").column(0)[0].as_py()
            if total - kept:
                log.warning("%d rows of %s repeat a key already counted; counting each once", total - kept, raw)
            self.summary.duplicates[raw] = total - kept
        for name, table in compute(engine, self.resolver, [raw], False, self.summary).items():
            self._fold(name, with_time(table))

    def _fold(self, name: str, delta: pa.Table) -> None:
        """Append ``delta`` to its days, folding a day that has ``COMPACT_PARTS`` parts into one."""
        parts = parts_by_day(self.manifest, name)
        days = sorted({day_of(t) for t in pc.unique(delta.column("t")).to_pylist()})
        fold = [d for d in days if len(parts.get(d, [])) + 1 >= COMPACT_PARTS]
        if fold:
            starts = pa.array([_epoch(d) for d in fold], pa.int64())
            folding = pc.is_in(pc.multiply(pc.divide(delta.column("t"), DAY), DAY), starts)  # integer division
            columns = ", ".join(f.name for f in cast(delta.slice(0, 0), name).schema)
            self.engine.table("delta", delta.filter(folding))
            self.engine.files("existing", _paths(self.root, [p for d in fold for p in parts[d]]))
            merged = cast(
                self.engine.query(
                    merge_sql(name, f"(SELECT {columns} FROM existing UNION ALL SELECT {columns} FROM delta) u")
                ),
                name,
            )
            delta = pa.concat_tables([delta.filter(pc.invert(folding)), with_time(merged)])
            self.summary.folded[name] = fold
        self._add(name, delta, fold)

    def _add(self, name: str, table: pa.Table, replace_days: list[str]) -> None:
        self.tables[name] = table
        self.replace[name] = replace_days
        self.summary.rows[name] = table.num_rows

    def commit(self) -> None:
        self.summary.watermark = self.writer.next_generation
        self.writer.write(self.tables, replace_days=self.replace, state={WATERMARK: self.summary.watermark})


def aggregate_into(
    writer: StoreWriter,
    resolver: SiteResolver,
    since: str | None = None,
    check_duplicates: bool | None = None,
    dedup_window: float = DEDUP_WINDOW,
    engine=None,
) -> Summary:
    """One incremental run with a writer the caller holds (the ingest daemon keeps one open).

    ``since`` (``YYYY-MM-DD``) also rebuilds every day from then on that still has raw rows
    (:func:`recompute`). ``dedup_window`` is the ingest's (seconds): rows that arrived within
    half of it after they happened cannot repeat a stored key. ``engine`` (an ``engine.Engine``,
    e.g. Spark's) computes; by default the process's shared DuckDB connection. Whatever computes,
    this process commits, through ``writer``. Returns a :class:`Summary`; commits nothing when
    nothing is new.
    """
    start = time.perf_counter()
    previous = int(writer.state(WATERMARK, 0) or 0)
    if writer.manifest.generation <= previous and since is None:
        return Summary(watermark=previous, previous=previous, nothing_new=True)
    with shared_lock:
        computing = engine or shared_engine()
        try:
            run = _Run(writer, resolver, computing, since, check_duplicates, dedup_window)
            for raw in FAMILIES:
                run.family(raw)
            if run.tables or run.replace:
                run.commit()
        finally:
            if engine is None:
                release_shared()
            else:
                engine.forget()
    summary = run.summary
    summary.seconds = time.perf_counter() - start
    if summary.days:
        log.info(
            "aggregated %d bins over %s (%s) in %.2fs (watermark %d → %d)",
            summary.bins,
            {k: len(v) for k, v in summary.days.items()},
            summary.mode,
            summary.seconds,
            previous,
            summary.watermark,
        )
    return summary


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
    keys = ("sites", "retention", "dedup_window")
    return {key: getattr(section, key) for key in keys if getattr(section, key, None) is not None}


def aggregate(
    store_root,
    config=None,
    since: str | None = None,
    wait: float | None = 60.0,
    resolver: SiteResolver | None = None,
    engine=None,
) -> Summary:
    """Open the store's writer (waiting up to ``wait`` seconds for it) and run one incremental
    aggregation on ``engine`` (default: DuckDB); the entry point for cron, the CLI and tests."""
    if not (Path(store_root) / MANIFEST).exists():  # no store (yet): nothing to do, and create nothing
        return Summary(nothing_new=True)
    section = transfers_section(config)
    resolver = resolver or SiteResolver.from_config(section.get("sites"))
    window = parse_duration(section.get("dedup_window", DEDUP_WINDOW))
    with StoreWriter(store_root, wait=wait) as writer:
        return aggregate_into(writer, resolver, since=since, dedup_window=window, engine=engine)


def recompute(
    store_root, since: str, config=None, wait: float | None = 60.0, resolver: SiteResolver | None = None, engine=None
) -> Summary:
    """Rebuild every statistic from ``since`` (``YYYY-MM-DD``) from raw with today's topology.
    Days whose raw rows are already pruned keep their statistics as they are."""
    return aggregate(store_root, config, since=str(since)[:10], wait=wait, resolver=resolver, engine=engine)
