"""A fast path for FTS completion bodies: msgspec decodes straight into a typed struct.

Why: at 2.4 kB and ~80 fields a message, building the whole dict (orjson) and then picking 30
values out of it in Python was half of the ingest's time. ``msgspec`` decodes the bytes into a
``Struct`` that names only the fields ``fts_complete`` keeps, skipping the rest in C, and checks
their types on the way, so the row is built with no per-field conversions.

It is an optimisation, never a second parser: ``complete()`` returns ``None`` for any body it is
not sure about (not ASCII/UTF-8, not a JSON object, a field of an unexpected type — a number as
text, a float id, a bool size —, a missing required field, no ``t_final_transfer_state``) and the
caller then uses ``messages.parse()``, which gives the reference row or the quarantine reason.
When it returns a row, that row equals ``messages.fts_complete()``'s (tests/transfers/test_transfer_fastparse.py).

One known difference: a number too large for a double (``1e400``) in a field the table does not
keep is skipped here, whereas orjson rejects the whole body as invalid JSON (Python's ``json``
reads it as ``inf``): such a message is stored instead of quarantined.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from .messages import error_pattern, parse
from .raw import ROW_COLUMNS

#: the order of ``complete()``'s tuple
COLUMNS = (
    "time",
    "t",
    "key",
    "received",
    "endpnt",
    "vo",
    "activity",
    "job_id",
    "file_id",
    "src_hostname",
    "dst_hostname",
    "src_se",
    "dst_se",
    "protocol",
    "state",
    "success",
    "file_size",
    "bytes",
    "transfer_ms",
    "operation_ms",
    "throughput",
    "error_code",
    "error_scope",
    "error_category",
    "error_phase",
    "error_message",
    "error_pattern",
    "retry",
    "retry_max",
    "ipver",
    "src_rse",
    "dst_rse",
    "is_recoverable",
)
if COLUMNS != ROW_COLUMNS["fts_complete"]:  # pragma: no cover - a schema change must be mirrored here
    raise ImportError("fastparse.COLUMNS no longer matches the fts_complete schema (raw.SCHEMAS)")

_S, _I = str | None, int | None


class _Metadata(msgspec.Struct, gc=False):
    src_rse: _S = None
    dst_rse: _S = None


class _Complete(msgspec.Struct, gc=False):
    """The fields ``fts_complete`` rows are made of; every other one is skipped undecoded. In
    jsoncpp's (sorted) key order: msgspec looks for the next declared field first (6% faster)."""

    activity: _S = None
    dst_hostname: _S = None
    dst_se: _S = None
    endpnt: _S = None
    f_size: _I = None
    file_id: _I = None
    file_metadata: _Metadata | None = None
    file_size: int | None | UnsetType = UNSET  # absent (not null): f_size instead
    ipver: _S = None
    is_recoverable: bool | None = None
    job_id: _S = None
    operation_time: _I = None
    protocol: _S = None
    retry: _I = None
    retry_max: _I = None
    src_hostname: _S = None
    src_se: _S = None
    t__error_message: _S = None
    t_error_code: _I = None
    t_failure_phase: _S = None
    t_final_transfer_state: str | None | UnsetType = UNSET  # absent: let detect() decide
    throughput: float | None = None  # an int becomes a float, as float() did
    timestamp_tr_comp: _I = None
    tr_bt_transfered: _I = None
    tr_error_category: _S = None
    tr_error_scope: _S = None
    tr_timestamp_complete: _I = None
    tr_timestamp_start: _I = None
    transfer_time: _I = None
    vo: _S = None


_decode = msgspec.json.Decoder(_Complete).decode
_Error = (msgspec.DecodeError, msgspec.ValidationError)
#: one object per distinct host, endpoint, VO, state ...: a batch then holds a few hundred strings
#: instead of 15 fresh ones per row, and the Arrow conversion reads them from cache (2-3x faster)
_SHARED: dict = {}
_SHARED_MAX = 200_000


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def complete(body: bytes, received_ms: int, received_us: int) -> tuple | None:
    """The ``fts_complete`` row of a body as a tuple in ``COLUMNS`` order, with the values
    ``messages.parse(body, "fts_complete", received_ms)`` gives (plus ``received``), or ``None``
    when the reference parser has to decide."""
    if not (body.isascii() or _utf8(body)):  # msgspec does not check the text of skipped fields
        return None
    if body[-1:] == b"\x04":  # the trailing space needs no cutting: JSON allows whitespace after the value
        body = memoryview(body)[:-1]
    try:
        doc = _decode(body)
    except _Error:
        return None
    endpnt, job_id, file_id, start, state = (
        doc.endpnt,
        doc.job_id,
        doc.file_id,
        doc.tr_timestamp_start,
        doc.t_final_transfer_state,
    )
    if not endpnt or not job_id or file_id is None or start is None or state is UNSET:
        return None
    ms = doc.tr_timestamp_complete or doc.timestamp_tr_comp or received_ms
    throughput, meta, size, message = doc.throughput, doc.file_metadata, doc.file_size, doc.t__error_message
    if len(_SHARED) > _SHARED_MAX:
        _SHARED.clear()
    share = _SHARED.setdefault
    src_rse, dst_rse = (meta.src_rse, meta.dst_rse) if meta is not None else (None, None)
    return (
        ms * 1000,
        ms // 1000,
        f"{endpnt}|{job_id}|{file_id}|{start}",
        received_us,
        share(endpnt, endpnt),
        share(doc.vo, doc.vo),
        share(doc.activity, doc.activity),
        job_id,
        file_id,
        share(doc.src_hostname, doc.src_hostname),
        share(doc.dst_hostname, doc.dst_hostname),
        share(doc.src_se, doc.src_se),
        share(doc.dst_se, doc.dst_se),
        share(doc.protocol, doc.protocol),
        share(state, state),
        state == "Ok",
        doc.f_size if size is UNSET else size,
        doc.tr_bt_transfered,
        doc.transfer_time,
        doc.operation_time,
        throughput if throughput is not None and throughput >= 0 else None,
        doc.t_error_code,
        share(doc.tr_error_scope, doc.tr_error_scope),
        share(doc.tr_error_category, doc.tr_error_category),
        share(doc.t_failure_phase, doc.t_failure_phase),
        message,
        error_pattern(message),
        doc.retry,
        doc.retry_max,
        share(doc.ipver, doc.ipver),
        share(src_rse, src_rse),
        share(dst_rse, dst_rse),
        doc.is_recoverable,
    )


def row(body: bytes, kind: str | None, received: float) -> tuple[str, tuple]:
    """(table, row tuple in ``raw.ROW_COLUMNS`` order) of one message body received at epoch
    ``received`` (seconds): this fast path for FTS completions, ``messages.parse`` for everything
    else and everything it declines. Raises ``MessageError`` (the quarantine reason). The ingest's
    flush and the MONIT importer both turn bodies into rows here."""
    if kind == "fts_complete":
        found = complete(body, int(received * 1000), int(received * 1_000_000))
        if found is not None:
            return "fts_complete", found
    table, parsed = parse(body, kind, int(received * 1000))
    parsed["received"] = int(received * 1_000_000)
    return table, tuple(map(parsed.get, ROW_COLUMNS[table]))
