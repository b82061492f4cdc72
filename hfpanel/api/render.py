"""Answers as bytes: JSON (times in RFC 3339 UTC, NaN as null, markup characters escaped) and CSV
(cells a spreadsheet would run as a formula made inert), plus the opaque page cursor.

Nothing a source wrote is interpreted here: JSON escapes ``<``, ``>`` and ``&`` (an answer pasted
into a page stays text), CSV prefixes a cell starting with ``= + - @`` or a tab with ``'``
(OWASP's rule against formula injection), and every answer is sent with ``nosniff``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math

import numpy as np
import orjson
import pandas as pd

from ..units import is_missing
from .errors import ApiError

_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rfc3339(value) -> str | None:
    """A stored (naive UTC) time as ``2026-11-20T14:00:00Z`` (microseconds when it has them)."""
    if is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if stamp.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def _times(series: pd.Series) -> list:
    """RFC 3339 text of a time column (``rfc3339`` for each value, done by numpy: a page of 10,000
    rows spent most of its time here when pandas formatted each timestamp)."""
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = series.to_numpy(dtype="datetime64[us]")
    missing = np.isnat(stamps)
    whole = stamps.astype("int64") % 1_000_000 == 0
    text = np.where(whole, np.datetime_as_string(stamps, unit="s"), np.datetime_as_string(stamps, unit="us"))
    text = np.char.add(text.astype(str), "Z").astype(object)
    text[missing] = None
    return text.tolist()


def _plain(value):
    """orjson's fallback: numpy scalars, timestamps, bytes, sets — as JSON understands them."""
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        return rfc3339(value)
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """A frame as JSON-ready rows: times as RFC 3339 text, NaN/NaT/NA as None."""
    if frame is None or frame.empty:
        return []
    frame = frame[columns] if columns is not None else frame
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[str(name)] = _times(column)
        elif pd.api.types.is_float_dtype(column):
            values = column.to_numpy(dtype=float)
            out[str(name)] = [None if math.isnan(v) else float(v) for v in values]
        elif pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
            out[str(name)] = column.astype(object).where(column.notna(), None).tolist()
        elif pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
            out[str(name)] = column.astype(object).where(column.notna(), None).tolist()  # text: NA is the gap
        else:
            out[str(name)] = [None if _missing_scalar(v) else v for v in column.tolist()]
    names = list(out)
    return [dict(zip(names, row)) for row in zip(*(out[n] for n in names))]


def _missing_scalar(value) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def to_json(data) -> bytes:
    text = orjson.dumps(data, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _inert(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict], columns: list[str]) -> bytes:
    """Rows (as ``records`` made them) as CSV with a header; cells that start a formula are made text."""
    frame = pd.DataFrame(rows, columns=columns)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(_inert)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


# -- the page cursor ---------------------------------------------------------------------------------
def encode_cursor(state: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_cursor(text: str) -> dict:
    """The state a ``next`` URL carries; a 400 for anything else (a cursor is opaque, not edited)."""
    try:
        state = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise ApiError(400, "query parameter 'cursor': not a cursor of this API (follow an answer's 'next')") from None
    if not isinstance(state, dict) or not isinstance(state.get("pin", {}), dict):
        raise ApiError(400, "query parameter 'cursor': not a cursor of this API (follow an answer's 'next')")
    return state
