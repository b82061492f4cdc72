"""MONIT's HDFS archive → the raw tables, with the live ingest's parser, dedup and quarantine rules.

The archive keeps, per producer and type, one folder per day, ``<source>/YYYY/MM/DD/``, of files
(gzipped or plain) holding one JSON document per line: ``{"data": <the message as its producer
sent it>, "metadata": {"timestamp": ms, "kafka_timestamp": ms, "_id": ..., ...}}``. Marker,
hidden and in-progress files (``_SUCCESS``, ``.x``, ``*.tmp``) are skipped.

Each ``data`` goes through ``fastparse.row`` — the ingest's own body → row path — with
``metadata.kafka_timestamp`` (else ``metadata.timestamp``) as the time it was received. What the
ingest would quarantine is quarantined here (with the document's metadata as its headers), and so
is a line that is not a MONIT document. Dedup is the ingest's rule over the imported days: a key
already stored (those days and their neighbours) or seen earlier in the import is dropped, the
earliest received copy kept. So an import can be repeated or resumed: it adds only what is missing.

Parsing runs where the engine runs files (``Engine.map_files``): in this process for DuckDB, on
Spark's executors for Spark. Dedup and the commit happen here, through the one ``StoreWriter``,
one commit per chunk of files (a chunk's rows are invisible until it commits).
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import gzip
import json
import logging
import time

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfpanel.store import StoreWriter

from .. import raw
from ..engine import local_path
from ..fastparse import row as parse_row
from ..messages import KINDS, TABLE_OF_KIND, MessageError
from ..retention import day_of, parts_by_day

log = logging.getLogger("hfpanel.transfers.importers.monit")
#: a message larger than this is quarantined ("oversized"), as the ingest's default does
MAX_BYTES = 1_000_000
#: files are parsed and committed in chunks of about this many compressed bytes (memory, progress)
CHUNK_BYTES = 256 * 2**20
QUARANTINE = "quarantine"


class _Envelope(msgspec.Struct):
    data: msgspec.Raw = msgspec.UNSET
    metadata: dict | None = None


_decode = msgspec.json.Decoder(_Envelope).decode


def import_schema(table: str) -> pa.Schema:
    """What parsing one file yields: the raw table's columns without ``commit`` (stamped at the
    commit), times as epoch microseconds, plus ``quarantine``: the quarantine row as JSON on a
    line that did not become a row (all other columns then null)."""
    fields = [
        pa.field(f.name, pa.int64() if f.type == raw.TS else f.type) for f in raw.SCHEMAS[table] if f.name != "commit"
    ]
    return pa.schema(fields + [pa.field(QUARANTINE, pa.string())])


def _received_s(metadata) -> float | None:
    if not isinstance(metadata, dict):
        return None
    for name in ("kafka_timestamp", "timestamp"):
        value = metadata.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return value / 1000
    return None


def _quarantine(source: str, received_us: int, reason: str, body: bytes, metadata) -> str:
    """The quarantine row of the ingest (``time`` = ``received``, source, reason, body, headers)."""
    return json.dumps(
        {
            "time": received_us,
            "received": received_us,
            "source": source,
            "reason": reason,
            "body": body.decode("utf-8", errors="backslashreplace"),
            "headers": json.dumps(metadata if isinstance(metadata, dict) else {}, sort_keys=True),
        }
    )


def parse_line(line: bytes, kind: str, source: str, fallback_us: int, max_bytes: int = MAX_BYTES):
    """(row tuple in ``raw.ROW_COLUMNS`` order, None) or (None, quarantine JSON) for one line."""
    try:
        document = _decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        return None, _quarantine(source, fallback_us, f"not a MONIT document: {str(error)[:200]}", line, None)
    received = _received_s(document.metadata)
    if document.data is msgspec.UNSET or received is None:
        missing = "'data'" if document.data is msgspec.UNSET else "metadata.kafka_timestamp or metadata.timestamp"
        return None, _quarantine(source, fallback_us, f"MONIT document without {missing}", line, document.metadata)
    body = bytes(document.data)
    received_us = int(received * 1_000_000)
    if len(body) > max_bytes:
        return None, _quarantine(
            source,
            received_us,
            f"oversized: {len(body)} bytes > max_message_bytes {max_bytes}",
            body,
            document.metadata,
        )
    try:
        table, row = parse_row(body, kind, received)
    except MessageError as error:
        return None, _quarantine(source, received_us, str(error), body, document.metadata)
    if table != TABLE_OF_KIND[kind]:  # cannot happen for one kind per folder; kept as the ingest keeps it
        return None, _quarantine(source, received_us, f"a {table} row in a {kind} archive", body, document.metadata)
    return row, None


def parse_file(path: str, content: bytes, kind: str, fallback_us: int, max_bytes: int = MAX_BYTES) -> pa.Table:
    """Every line of one archive file (gzipped or not) as an :func:`import_schema` table."""
    table = TABLE_OF_KIND[kind]
    schema = import_schema(table)
    source = f"monit:{local_path(path)}"  # Spark names local files file:/...; the same file, the same name
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as error:  # a truncated file: what was readable is not trusted either
            reason = f"unreadable gzip file: {error}"
            return pa.table(
                {
                    **{f.name: pa.nulls(1, f.type) for f in schema},
                    QUARANTINE: [_quarantine(source, fallback_us, reason, b"", None)],
                },
                schema=schema,
            )
    rows, bad = [], []
    for line in content.split(b"\n"):
        if not line.strip():
            continue
        row, quarantined = parse_line(line, kind, source, fallback_us, max_bytes)
        if row is not None:
            rows.append(row)
        else:
            bad.append(quarantined)
    names = raw.ROW_COLUMNS[table]
    columns = dict(zip(names, zip(*rows))) if rows else {}
    arrays = {}
    for field in schema:
        if field.name == QUARANTINE:
            arrays[field.name] = pa.array([None] * len(rows) + bad, pa.string())
        else:
            arrays[field.name] = pa.concat_arrays(
                [pa.array(columns.get(field.name, ()), field.type), pa.nulls(len(bad), field.type)]
            )
    return pa.table(arrays, schema=schema)


@dataclasses.dataclass
class ImportSummary:
    files: int = 0
    documents: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    commits: int = 0
    seconds: float = 0.0


def day_folder(source: str, day: str) -> str:
    year, month, date = day.split("-")
    return f"{str(source).rstrip('/')}/{year}/{month}/{date}"


def chunks(files: list[tuple[str, int]], limit: int = CHUNK_BYTES) -> list[list[str]]:
    """Files grouped in order into chunks of at most ``limit`` bytes (a bigger file alone)."""
    groups, current, size = [], [], 0
    for path, length in files:
        if current and size + length > limit:
            groups.append(current)
            current, size = [], 0
        current.append(path)
        size += length
    return groups + ([current] if current else [])


def stored_keys(writer: StoreWriter, table: str, days: set[str]) -> pa.Array:
    """The keys already in the store for ``days`` (the days imported and their neighbours)."""
    by_day = parts_by_day(writer.manifest, table)
    keys = [
        pq.read_table(writer.root / part, columns=["key"], partitioning=None).column("key")
        for day in sorted(days)
        for part in by_day.get(day, [])
    ]
    return pa.chunked_array(keys, pa.string()).combine_chunks() if keys else pa.array([], pa.string())


def stored_quarantine(writer: StoreWriter, days: set[str]) -> set[tuple[str, str]]:
    """(source, body) of the quarantined documents already stored for ``days``: a repeated
    import quarantines each bad document once."""
    by_day = parts_by_day(writer.manifest, "quarantine")
    found = set()
    for part in (p for day in sorted(days) for p in by_day.get(day, [])):
        rows = pq.read_table(writer.root / part, columns=["source", "body"], partitioning=None)
        found.update(zip(rows.column("source").to_pylist(), rows.column("body").to_pylist()))
    return found


def first_of_each_key(rows: pa.Table, known: pa.Array) -> pa.Table:
    """One row per key not in ``known``: the earliest received (then earliest time, then file
    order), as the ingest keeps the first arrival."""
    if rows.num_rows == 0:
        return rows
    rows = rows.append_column("__order", pa.array(range(rows.num_rows), pa.int64()))
    rows = rows.sort_by(
        [("key", "ascending"), ("received", "ascending"), ("time", "ascending"), ("__order", "ascending")]
    )
    keys = rows.column("key").combine_chunks()
    first = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1))
    keep = pa.concat_arrays([pa.array([True]), first.fill_null(True)])
    if len(known):
        keep = pc.and_(keep, pc.invert(pc.is_in(keys, value_set=known)))
    return rows.filter(keep).sort_by("__order").drop_columns(["__order"])


def _raw_table(rows: pa.Table, table: str, commit: int) -> pa.Table:
    schema = raw.SCHEMAS[table]
    arrays = []
    for field in schema:
        if field.name == "commit":
            arrays.append(pa.array([commit] * rows.num_rows, pa.int64()))
        else:
            arrays.append(pc.cast(rows.column(field.name), field.type))
    return pa.table(arrays, schema=schema)


def _quarantine_rows(rows: pa.Table, known: set) -> list[dict]:
    """The new quarantine rows of a chunk (``known`` grows by them)."""
    fresh = []
    for row in map(json.loads, rows.column(QUARANTINE).to_pylist()):
        if (row["source"], row["body"]) not in known:
            known.add((row["source"], row["body"]))
            fresh.append(row)
    return fresh


def _epoch(day: str) -> int:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


def import_days(
    store,
    source: str,
    days: list[str],
    kind: str,
    engine,
    wait: float | None = 60.0,
    max_bytes: int = MAX_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
    progress=None,
) -> ImportSummary:
    """Import the archive's ``days`` (``YYYY-MM-DD``) of ``kind`` from ``source`` into ``store``.
    ``engine`` (an ``engine.Engine``) lists and parses the files; this process dedups and commits."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    table = TABLE_OF_KIND[kind]
    schema = import_schema(table)
    summary, start = ImportSummary(), time.perf_counter()
    with StoreWriter(store, wait=wait) as writer:
        neighbours = {day_of(_epoch(d) + shift) for d in days for shift in (-86400, 0, 86400)}
        known = stored_keys(writer, table, neighbours)
        known_bad = stored_quarantine(writer, neighbours)
        for day in days:
            files = engine.list_files(day_folder(source, day))
            if not files:
                log.warning("no archive files in %s", day_folder(source, day))
                continue
            parse = functools.partial(parse_file, kind=kind, fallback_us=_epoch(day) * 1_000_000, max_bytes=max_bytes)
            for group in chunks(files, chunk_bytes):
                parsed = engine.map_files(group, parse, schema)
                bad = parsed.filter(pc.is_valid(parsed.column(QUARANTINE)))
                good = parsed.filter(pc.is_null(parsed.column(QUARANTINE))).drop_columns([QUARANTINE])
                kept = first_of_each_key(good, known)
                tables = {}
                if kept.num_rows:
                    tables[table] = _raw_table(kept, table, writer.next_generation)
                quarantined = _quarantine_rows(bad, known_bad)
                if quarantined:
                    tables["quarantine"] = raw.to_table("quarantine", quarantined)
                if tables:
                    writer.write(tables)
                    summary.commits += 1
                if kept.num_rows:
                    known = pa.concat_arrays([known, kept.column("key").combine_chunks()])
                summary.files += len(group)
                summary.documents += parsed.num_rows
                summary.stored += kept.num_rows
                summary.quarantined += len(quarantined)
                summary.duplicates += good.num_rows - kept.num_rows + bad.num_rows - len(quarantined)
                log.info(
                    "%s: %d files, %d documents -> %d rows, %d duplicates, %d quarantined",
                    day,
                    len(group),
                    parsed.num_rows,
                    kept.num_rows,
                    good.num_rows - kept.num_rows,
                    len(quarantined),
                )
                if progress is not None:
                    progress(len(group))
    summary.seconds = time.perf_counter() - start
    return summary
