"""Rows -> Arrow tables with fixed schemas, the dedup window, and the one commit of a batch.

Schemas are spelled out (not inferred) so a day with only successes still has a DOUBLE
``throughput`` and BIGINT ids, and the aggregation SQL never meets a NULL-typed column.
"""

from __future__ import annotations

import logging
import operator
import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..store import manifest

log = logging.getLogger("hfpanel.transfers.raw")
TS, I64, F64, STR, BOOL = pa.timestamp("us"), pa.int64(), pa.float64(), pa.string(), pa.bool_()
_COMMON = [("time", TS), ("t", I64), ("key", STR), ("commit", I64), ("received", TS)]


def _schema(*columns) -> pa.Schema:
    return pa.schema(_COMMON + list(columns))


SCHEMAS = {
    "fts_complete": _schema(
        *[(c, STR) for c in ("endpnt", "vo", "activity", "job_id")],
        ("file_id", I64),
        *[(c, STR) for c in ("src_hostname", "dst_hostname", "src_se", "dst_se", "protocol", "state")],
        ("success", BOOL),
        ("file_size", I64),
        ("bytes", I64),
        ("transfer_ms", I64),
        ("operation_ms", I64),
        ("throughput", F64),
        ("error_code", I64),
        *[(c, STR) for c in ("error_scope", "error_category", "error_phase", "error_message", "error_pattern")],
        ("retry", I64),
        ("retry_max", I64),
        ("ipver", STR),
        ("src_rse", STR),
        ("dst_rse", STR),
        ("is_recoverable", BOOL),
    ),
    "fts_state": _schema(
        ("endpnt", STR),
        ("vo", STR),
        ("job_id", STR),
        ("file_id", I64),
        *[
            (c, STR)
            for c in ("message", "job_state", "file_state", "source_se", "dest_se", "src_hostname", "dst_hostname")
        ],
        ("retry_counter", I64),
        ("user_filesize", I64),
        ("reason", STR),
    ),
    "xrootd_close": _schema(
        *[
            (c, STR)
            for c in (
                "format",
                "server_site",
                "server_host",
                "server_domain",
                "client_host",
                "client_domain",
                "vo",
                "user_protocol",
                "file_lfn",
            )
        ],
        *[(c, I64) for c in ("file_size", "read_bytes", "read_single_bytes", "read_vector_bytes", "write_bytes")],
        ("operation", STR),
        ("start_s", I64),
        ("end_s", I64),
        ("operation_time_s", I64),
        ("ipv6", BOOL),
        ("unique_id", STR),
    ),
    "quarantine": pa.schema(
        [
            ("time", TS),
            ("received", TS),
            ("source", STR),
            ("reason", STR),
            ("body", STR),
            ("headers", STR),
            ("key", STR),
        ]
    ),
    "ingest_rate": pa.schema(
        [
            ("time", TS),
            ("t", I64),
            ("source", STR),
            ("destination", STR),
            *[(c, I64) for c in ("messages", "stored", "duplicates", "quarantined", "backlog")],
            ("last_message", TS),
        ]
    ),
}
RAW_TABLES = ("fts_complete", "fts_state", "xrootd_close")
#: the order of a row given as a tuple: every column but ``commit`` (stamped when committed)
ROW_COLUMNS = {name: tuple(f.name for f in schema if f.name != "commit") for name, schema in SCHEMAS.items()}


def to_table(name: str, rows: list, commit: int | None = None) -> pa.Table:
    """An Arrow table of ``rows`` with the table's schema; times as epoch microseconds. Rows are
    dicts, or tuples in ``ROW_COLUMNS[name]`` order (the ingest builds those: no dict per row,
    and the transpose is one ``zip``)."""
    schema = SCHEMAS[name]
    names = [f.name for f in schema if not (f.name == "commit" and commit is not None)]
    if rows and isinstance(rows[0], tuple):
        columns = dict(zip(ROW_COLUMNS[name], zip(*rows)))
    else:
        try:  # every row has every column (the parsers' rows do): one C-level transpose
            columns = dict(zip(names, zip(*map(operator.itemgetter(*names), rows)))) if rows else {}
        except KeyError:
            columns = {n: [row.get(n) for row in rows] for n in names}
    arrays = {}
    for field in schema:
        if field.name == "commit" and commit is not None:
            arrays["commit"] = pa.array(np.full(len(rows), commit, dtype=np.int64))
        elif field.type == TS:  # epoch µs: via int64, several times faster than timestamp from Python ints
            arrays[field.name] = pa.array(columns.get(field.name, ()), I64).cast(TS)
        else:
            arrays[field.name] = pa.array(columns.get(field.name, ()), field.type)
    return pa.table(arrays, schema=schema)


class KeyWindow:
    """Keys stored recently: a redelivery or a second report of the same transfer is dropped.

    Holds key -> time seen (epoch s) and forgets keys older than the window, so memory follows
    the message rate, not the store's size.
    """

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._seen: dict[str, float] = {}
        self._pruned = 0.0

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: str) -> bool:
        return key in self._seen

    def keys(self):
        """A live view of the keys (``in`` without a Python call: the ingest checks every message);
        valid until the next ``add()``."""
        return self._seen.keys()

    def add(self, keys, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._seen.update(dict.fromkeys(keys, now))
        if now - self._pruned > min(self.window_s / 10, 3600):
            cutoff = now - self.window_s
            self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
            self._pruned = now

    def load(self, root, now: float | None = None) -> int:
        """Keys from the store's raw tables: parts of days in the window, and parts written within
        the window (a late message lands in an old day, but its part file is new)."""
        now = time.time() if now is None else now
        cutoff = now - self.window_s
        first_day = time.strftime("%Y-%m-%d", time.gmtime(cutoff))
        data = manifest.read(root)
        before = len(self._seen)
        for table in RAW_TABLES:
            for part in data.parts(table):
                path = os.path.join(root, part)
                try:
                    recent = part.split("/")[1][4:] >= first_day or os.stat(path).st_mtime >= cutoff
                    if recent:
                        keys = pq.read_table(path, columns=["key"], partitioning=None).column("key")
                        self._seen.update(dict.fromkeys(keys.to_pylist(), now))
                except FileNotFoundError:
                    continue  # retired by a compaction since the manifest was read
        log.info("dedup window: %d keys loaded from %s", len(self._seen) - before, root)
        return len(self._seen) - before


def commit_batch(
    writer,
    rows: dict[str, list],
    quarantine: list[dict],
    rate: list[dict],
    rate_days: list[str],
    state: dict | None = None,
) -> int:
    """Write raw rows, quarantined bodies, the ingest-rate rows of ``rate_days`` and ``state`` (the
    spool position these rows came from) in one manifest replacement; returns the commit generation
    stamped on the rows."""
    generation = writer.next_generation
    tables = {name: to_table(name, batch, generation) for name, batch in rows.items() if batch}
    if quarantine:
        tables["quarantine"] = to_table("quarantine", quarantine)
    if rate:
        tables["ingest_rate"] = to_table("ingest_rate", rate)
    writer.write(tables, replace_days={"ingest_rate": rate_days} if rate_days else None, state=state)
    return generation
