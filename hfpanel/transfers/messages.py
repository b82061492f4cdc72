"""FTS and XRootD monitoring messages -> flat rows for the raw tables (see docs/transfers.md).

Bodies arrive as the producers wrote them: FTS appends one byte after the JSON (a space since 3.6,
EOT before), XRootD's Python collector writes epoch milliseconds where the Go port writes seconds,
``throughput`` is -1 when FTS did not time the copy. All of that is settled here, once, so every
later step sees one unit per column. ``parse()`` is pure and raises ``MessageError`` with the reason
a quarantined message is stored with.
"""

from __future__ import annotations

import functools
import json
import re

import pyarrow as pa

from .raw import SCHEMAS

try:  # optional: a faster decoder when installed (same results)
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

KINDS = ("fts_complete", "fts_start", "fts_state", "xrootd")
TABLE_OF_KIND = {
    "fts_complete": "fts_complete",
    "fts_start": "fts_state",
    "fts_state": "fts_state",
    "xrootd": "xrootd_close",
}
DOMAIN_OF_TABLE = {"fts_complete": "fts", "fts_state": "fts", "xrootd_close": "xrootd"}
#: epoch values above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973)
MS_THRESHOLD = 100_000_000_000

_PATTERNS = [
    (re.compile(p, re.IGNORECASE), r)
    for p, r in (
        (r"\b[a-z][a-z0-9+.-]*://\S+", "<url>"),
        (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>"),
        (r"(?<![\w.])/[^\s:,;()\[\]'\"]+", "<path>"),
        (r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,})\b", "<hex>"),
        (r"\d+(?:\.\d+)?", "<n>"),
    )
]


class MessageError(ValueError):
    """A body that cannot become a row; ``str()`` is the quarantine reason."""


def unframe(body) -> str:
    """The JSON text of a body: bytes decoded, one trailing ' ' or EOT removed."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise MessageError(f"body is not UTF-8 ({error.reason} at byte {error.start})") from None
    if body[-1:] in (" ", "\x04"):
        body = body[:-1]
    return body


def decode(body) -> dict:
    text = unframe(body)
    try:
        doc = _loads(text)
    except ValueError as error:
        raise MessageError(f"invalid JSON: {str(error).splitlines()[0][:200]}") from None
    if not isinstance(doc, dict):
        raise MessageError(f"expected a JSON object, got {type(doc).__name__}")
    return doc


def detect(doc: dict) -> str:
    """The message kind from its fields (for --replay and streams that mix kinds)."""
    if "t_final_transfer_state" in doc or "tr_id" in doc:
        return "fts_complete"
    if "transfer_id" in doc:
        return "fts_start"
    if "file_state" in doc and "vo_name" in doc:
        return "fts_state"
    if "file_lfn" in doc or "filename" in doc:
        return "xrootd"
    if {"remote", "data"} <= set(doc):
        raise MessageError("shoveler envelope (raw XRootD UDP packets): not decoded by hfpanel")
    raise MessageError("unknown message type (neither FTS nor XRootD fields)")


@functools.lru_cache(maxsize=4096)  # the same few causes repeat thousands of times
def error_pattern(message: str | None) -> str:
    """The message with URLs, UUIDs, paths, hex and numbers replaced, so equal causes group."""
    if not message:
        return ""
    for pattern, replacement in _PATTERNS:
        message = pattern.sub(replacement, message)
    return message


def _need(doc: dict, name: str):
    value = doc.get(name)
    if value is None or value == "":
        raise MessageError(f"missing field {name!r}")
    return value


def _int(doc: dict, name: str, required: bool = False):
    value = _need(doc, name) if required else doc.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise MessageError(f"field {name!r} is not a number: {str(value)[:50]!r}") from None


def _host(url) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    return url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]") or None


def _se(url) -> str | None:
    host = _host(url)
    return f"{url.split('://', 1)[0]}://{host}" if host else None


def _domain(host) -> str | None:
    return ".".join(host.split(".")[-2:]) if isinstance(host, str) and host else None


def _seconds(value):
    """Epoch seconds from seconds or milliseconds (XRootD's two collectors disagree)."""
    return None if value is None else (value // 1000 if abs(value) > MS_THRESHOLD else value)


def _meta(doc: dict, name: str):
    meta = doc.get("file_metadata")
    return meta.get(name) if isinstance(meta, dict) else None


def fts_complete(doc: dict, received_ms: int) -> dict:
    endpnt, job_id = _need(doc, "endpnt"), _need(doc, "job_id")
    file_id, start = _int(doc, "file_id", True), _int(doc, "tr_timestamp_start", True)
    ms = _int(doc, "tr_timestamp_complete") or _int(doc, "timestamp_tr_comp") or received_ms
    throughput = doc.get("throughput")
    state = doc.get("t_final_transfer_state")
    return {
        "time": ms * 1000,
        "t": ms // 1000,
        "key": f"{endpnt}|{job_id}|{file_id}|{start}",
        "endpnt": endpnt,
        "vo": doc.get("vo"),
        "activity": doc.get("activity"),
        "job_id": job_id,
        "file_id": file_id,
        "src_hostname": doc.get("src_hostname"),
        "dst_hostname": doc.get("dst_hostname"),
        "src_se": doc.get("src_se"),
        "dst_se": doc.get("dst_se"),
        "protocol": doc.get("protocol"),
        "state": state,
        "success": state == "Ok",
        "file_size": _int(doc, "file_size") if "file_size" in doc else _int(doc, "f_size"),
        "bytes": _int(doc, "tr_bt_transfered"),
        "transfer_ms": _int(doc, "transfer_time"),
        "operation_ms": _int(doc, "operation_time"),
        "throughput": float(throughput) if isinstance(throughput, (int, float)) and throughput >= 0 else None,
        "error_code": _int(doc, "t_error_code"),
        "error_scope": doc.get("tr_error_scope"),
        "error_category": doc.get("tr_error_category"),
        "error_phase": doc.get("t_failure_phase"),
        "error_message": doc.get("t__error_message"),
        "error_pattern": error_pattern(doc.get("t__error_message")),
        "retry": _int(doc, "retry"),
        "retry_max": _int(doc, "retry_max"),
        "ipver": doc.get("ipver"),
        "src_rse": _meta(doc, "src_rse"),
        "dst_rse": _meta(doc, "dst_rse"),
        "is_recoverable": doc.get("is_recoverable"),
    }


def fts_state(doc: dict, received_ms: int, start: bool = False) -> dict:
    endpnt, job_id = _need(doc, "endpnt"), _need(doc, "job_id")
    file_id, ms = _int(doc, "file_id", True), _int(doc, "timestamp", True)
    message, file_state = ("start", "STARTED") if start else ("state", _need(doc, "file_state"))
    return {
        "time": ms * 1000,
        "t": ms // 1000,
        "key": f"{endpnt}|{job_id}|{file_id}|{message}|{file_state}|{ms}",
        "endpnt": endpnt,
        "vo": doc.get("vo" if start else "vo_name"),
        "job_id": job_id,
        "file_id": file_id,
        "message": message,
        "job_state": doc.get("job_state"),
        "file_state": file_state,
        "source_se": doc.get("source_se") or _se(doc.get("src_url")),
        "dest_se": doc.get("dest_se") or _se(doc.get("dst_url")),
        "src_hostname": doc.get("src_hostname") or _host(doc.get("src_url")),
        "dst_hostname": doc.get("dst_hostname") or _host(doc.get("dst_url")),
        "retry_counter": _int(doc, "retry_counter"),
        "user_filesize": _int(doc, "user_filesize"),
        "reason": doc.get("reason"),
    }


def xrootd_close(doc: dict, received_ms: int) -> dict:
    wlcg = "file_lfn" in doc
    get = (lambda w, o: doc.get(w)) if wlcg else (lambda w, o: doc.get(o))
    server, client = get("server_host", "server_hostname"), get("client_host", "host")
    lfn = get("file_lfn", "filename")
    if not server or not lfn:
        raise MessageError(
            "missing field 'server_host' or 'file_lfn'" if wlcg else "missing field 'server_hostname' or 'filename'"
        )
    start, end = _seconds(_int(doc, "start_time")), _seconds(_int(doc, "end_time"))
    if end is None:
        raise MessageError("missing field 'end_time'")
    if wlcg:
        read, single, vector = _int(doc, "read_bytes"), _int(doc, "read_single_bytes"), _int(doc, "read_vector_bytes")
        write, operation = _int(doc, "write_bytes"), doc.get("operation")
    else:
        single, vector, write = _int(doc, "read") or 0, _int(doc, "readv") or 0, _int(doc, "write") or 0
        read = single + vector
        operation = "write" if write else ("read" if read else "unknown")
    size = _int(doc, "file_size" if wlcg else "filesize")
    return {
        "time": end * 1_000_000,
        "t": end,
        "key": f"{server}|{client}|{lfn}|{start}|{end}|{read}|{write}",
        "format": "wlcg" if wlcg else "osg",
        "server_site": get("server_site", "site") or doc.get("site_name"),
        "server_host": server,
        "server_domain": get("server_domain", None) or _domain(server),
        "client_host": client,
        "client_domain": get("client_domain", "user_domain") or _domain(client),
        "vo": doc.get("vo"),
        "user_protocol": get("user_protocol", "protocol"),
        "file_lfn": lfn,
        "file_size": size if size is None or size >= 0 else None,
        "read_bytes": read,
        "read_single_bytes": single,
        "read_vector_bytes": vector,
        "write_bytes": write,
        "operation": operation,
        "start_s": start,
        "end_s": end,
        "operation_time_s": _int(doc, "operation_time"),
        "ipv6": doc.get("ipv6"),
        "unique_id": doc.get("unique_id"),
    }


_PARSERS = {
    "fts_complete": fts_complete,
    "fts_state": fts_state,
    "xrootd": xrootd_close,
    "fts_start": lambda doc, received_ms: fts_state(doc, received_ms, start=True),
}


def parse(body, kind: str | None = None, received_ms: int = 0) -> tuple[str, dict]:
    """(table name, row) for one message body; ``kind`` None detects it from the fields."""
    doc = decode(body)
    found = detect(doc)
    if kind and TABLE_OF_KIND[found] != TABLE_OF_KIND[kind]:
        raise MessageError(f"a {found} message on a destination configured for {kind}")
    table = TABLE_OF_KIND[found]
    row = _PARSERS[found](doc, received_ms)
    _check_types(table, row)
    return table, row


@functools.cache
def _typed_columns(table: str) -> tuple[tuple[str, type], ...]:
    """(column, Python type) of the table's text and boolean columns (numbers are converted)."""
    kinds = {pa.string(): str, pa.bool_(): bool}
    return tuple((f.name, kinds[f.type]) for f in SCHEMAS[table] if f.type in kinds)


def _check_types(table: str, row: dict) -> None:
    """A value the table cannot hold ("vo": 5, a list for a host) is the message's fault: it
    goes to the quarantine here instead of failing the whole batch's Arrow conversion (which
    would stop the ingest on every retry)."""
    for column, kind in _typed_columns(table):
        value = row.get(column)
        if value is not None and type(value) is not kind:
            raise MessageError(
                f"field for {column!r} is not {'text' if kind is str else 'true/false'}: {str(value)[:50]!r}"
            )
