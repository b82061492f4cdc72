"""Raw rows → statistics by the SQL files in ``sql/``, on any engine of ``engine.py`` (DuckDB, Spark).

The engine is handed, per raw table, a view named like the raw table holding exactly the rows to
count: whole days of raw rows for a rebuild, or only the rows committed since the watermark for an
incremental run (``aggregate.py``). The SQL does not know which; every FTS statistic is additive,
so an incremental run's result is a *delta* that readers and :func:`merge_sql` sum per key.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from hfpanel.store import manifest

from .sites import SiteResolver

log = logging.getLogger("hfpanel.transfers.compute")
SQL_DIR = Path(__file__).with_name("sql")
BIN, DAY = 600, 86400
_S, _I = pa.string(), pa.int64()
_LINK = [("t", _I), ("src_site", _S), ("dst_site", _S), ("vo", _S), ("activity", _S)]
_COUNTS = [
    "transfers",
    "successes",
    "failures",
    "bytes",
    "duration_ms",
    "failures_source",
    "failures_destination",
    "failures_transfer",
    "failures_other",
]
_ACCESS = [
    ("t", _I),
    ("site", _S),
    ("vo", _S),
    ("operation", _S),
    ("records", _I),
    ("bytes_read", _I),
    ("bytes_written", _I),
    ("clients", _I),
    ("client_domains", _I),
]
SCHEMAS = {
    "transfer_stats_10m": pa.schema(_LINK + [(c, _I) for c in _COUNTS]),
    "transfer_stats_1d": pa.schema(_LINK + [(c, _I) for c in _COUNTS]),
    "transfer_errors_10m": pa.schema(
        _LINK + [("error_scope", _S), ("error_category", _S), ("error_pattern", _S), ("failures", _I), ("example", _S)]
    ),
    "xrootd_stats_10m": pa.schema(_ACCESS),
    "xrootd_stats_1d": pa.schema(_ACCESS),
}
#: raw table → (its source view, a ``sql/`` file with a ``_dedup`` twin; host columns; stats tables)
FAMILIES = {
    "fts_complete": (
        "fts_attempts",
        ["src_hostname", "dst_hostname"],
        ["transfer_stats_10m", "transfer_errors_10m", "transfer_stats_1d"],
    ),
    "xrootd_close": ("xrootd_records", ["server_host"], ["xrootd_stats_10m", "xrootd_stats_1d"]),
}
STATS_TABLES = [t for _, _, tables in FAMILIES.values() for t in tables]
#: families whose statistics add up (counts and sums); XRootD's distinct client counts do not
ADDITIVE = {"fts_complete"}
#: per additive table: the columns kept as the smallest value when rows of one key are merged
MERGE_MIN = {"transfer_errors_10m": {"example"}}


#: statistics tables whose SQL file is shared, with the bin width it is run with
SHARED_SQL = {"xrootd_stats_10m": ("xrootd_stats", BIN), "xrootd_stats_1d": ("xrootd_stats", DAY)}


def sql_text(name: str) -> str:
    """The SQL computing ``name`` (a view or a statistics table), exactly as both engines run it:
    ``sql/<name>.sql``, or a shared file with its ``{bin}`` filled in."""
    file, width = SHARED_SQL.get(name, (name, None))
    text = (SQL_DIR / f"{file}.sql").read_text()
    return text if width is None else text.replace("{bin}", str(width))


def with_time(table: pa.Table) -> pa.Table:
    """Prepend the store's ``time`` column (the bin start). Rows stay in the engine's order:
    sorting millions of rows with strings costs more than the aggregation, and readers select by
    day partition and ``t`` anyway."""
    stamps = pc.cast(pc.multiply(table.column("t"), 1_000_000), pa.timestamp("us"))
    return table.add_column(0, "time", stamps)


def cast(table: pa.Table, name: str) -> pa.Table:
    """``table`` with exactly the columns and types of the statistics table ``name``."""
    schema = SCHEMAS[name]
    return pa.table([pc.cast(table.column(f.name), f.type) for f in schema], schema=schema)


def compute(
    engine, resolver: SiteResolver, raw_tables, check_duplicates: bool = True, summary=None, materialize: bool = False
) -> dict[str, pa.Table]:
    """Statistics of the rows in the engine's views named like ``raw_tables`` (no ``time`` column).

    ``check_duplicates`` counts keys seen twice among those rows and, if any, counts each once
    (first commit wins); ``materialize`` computes the source view once instead of in every query.
    ``summary`` (an ``aggregate.Summary``) receives the duplicates found.
    """
    out = {}
    for raw in raw_tables:
        view, host_columns, tables = FAMILIES[raw]
        (engine.materialize if materialize else engine.view)(f"{view}_rows", sql_text(view))
        engine.view(view, f"SELECT * FROM {view}_rows")
        if check_duplicates:
            engine.view("candidates", f"SELECT key FROM {view}")
            duplicates = engine.query(sql_text("duplicate_keys")).column(0)[0].as_py()
            if duplicates:
                log.warning("%d keys of %s occur more than once; counting each once", duplicates, raw)
                engine.view(view, sql_text(f"{view}_dedup"))
            if summary is not None:
                summary.duplicates[raw] = summary.duplicates.get(raw, 0) + duplicates
        hosts = " UNION ".join(f"SELECT {column} AS host FROM {view}" for column in host_columns)
        engine.table("host_sites", resolver.relation(engine.query(hosts).column(0).to_pylist()))
        for name in tables:
            result = cast(engine.query(sql_text(name)), name)
            if name == "transfer_stats_10m":
                engine.table("transfer_stats_10m", result)
            out[name] = result
    return out


def merge_sql(name: str, source: str) -> str:
    """SQL folding the rows of an additive statistics table ``source`` to one row per key:
    counts summed, ``MERGE_MIN`` columns kept as the smallest (as a full rebuild computes them)."""
    schema, smallest = SCHEMAS[name], MERGE_MIN.get(name, set())
    keys = [f.name for f in schema if (f.name == "t" or f.type == _S) and f.name not in smallest]
    values = [
        f"MIN({c}) AS {c}" if c in smallest else f"CAST(SUM({c}) AS BIGINT) AS {c}"
        for c in schema.names
        if c not in keys
    ]
    return f"SELECT {', '.join(keys)}, {', '.join(values)} FROM {source} GROUP BY {', '.join(keys)}"


def store_statistics(engine, root: str, resolver: SiteResolver, check_duplicates: bool = True) -> dict[str, pa.Table]:
    """Every statistic of every raw day of the store at ``root`` — a path or a URL the engine reads
    (``s3://``, ``hdfs://``) — computed from its live raw files, nothing written (a full rebuild,
    without ``time``). How a notebook or a check reads a store that this process cannot commit to."""
    base = str(root).rstrip("/")
    data = manifest.read(base, read_text=engine.read_text)
    out = {}
    for raw in FAMILIES:
        parts = data.parts(raw)
        if parts:
            engine.files(raw, [f"{base}/{part}" for part in parts])
            out.update(compute(engine, resolver, [raw], check_duplicates))
    engine.forget()
    return out
