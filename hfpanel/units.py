"""Numbers as people read them: 41.3T jobs, 1.6 GB, 33 MB/s, 48 s, 93.1 %.

One place for every unit shown by the app, the notebooks, the CLI and the API's text fields; the
raw value is always kept next to the shown one (tables sort and download raw values).
"""

from __future__ import annotations

import math

import pandas as pd

from .durations import format_duration


def is_missing(value) -> bool:
    """None, NaN, NaT or pandas' NA (a list or array is never 'missing' as a whole)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_time(value, seconds: bool = False) -> str:
    """A time as a shifter reads it: 2026-11-20 14:00 UTC (seconds when it has them)."""
    if value is None or pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if seconds or stamp.second else "%Y-%m-%d %H:%M") + " UTC"


def fmt_age(seconds) -> str:
    """ "12m ago", "in 5m"."""
    if seconds is None or pd.isna(seconds):
        return "—"
    if seconds < 0:
        return f"in {format_duration(-seconds)}"
    return f"{format_duration(seconds)} ago"


def fmt_status(value) -> str:
    """A status float: 0.93, "−1 (no info)"."""
    if value is None or pd.isna(value):
        return "—"
    return "−1 (no info)" if value < 0 else f"{value:.2f}"


def iso(value) -> str:
    """The URL form of a time: 2026-11-20T14:00:00 (with microseconds when it has them, so that
    the link of a run made at 14:00:00.25 still shows that run and not the one before)."""
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f" if stamp.microsecond else "%Y-%m-%dT%H:%M:%S")


def format_number(value) -> str:
    """Counts and plain numbers: 0.93, 352, 41.3T (of any size, no unit)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    for size, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


def format_bytes(value) -> str:
    """``1234567`` → ``"1.23 MB"`` (decimal units, as volumes and disk sizes are quoted)."""
    if is_missing(value):
        return "—"
    value = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1000.0
    return ""  # pragma: no cover


def format_rate(value) -> str:
    """Bytes per second: ``33.2 MB/s``."""
    return "—" if is_missing(value) else format_bytes(value) + "/s"


def format_percent(value) -> str:
    """A fraction 0…1 as ``93.1%``."""
    return "—" if is_missing(value) else f"{100 * float(value):.1f}%"


def format_seconds(value) -> str:
    """A duration in seconds: ``48s``, ``12m``, ``3h 5m``."""
    if is_missing(value):
        return "—"
    value = float(value)
    return f"{value:.2g}s" if 0 < abs(value) < 1 else format_duration(value)


def plural(count, word: str) -> str:
    """``word`` for a count of one, else its plural: pool → pools, search → searches."""
    if int(count) == 1:
        return word
    return word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")


def format_id(value) -> str:
    """Identifiers are names, not quantities: no thousands separator, no decimals."""
    if is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_millis(value) -> str:
    """A duration in milliseconds, as ``format_seconds`` says it: ``transfer_ms`` 48200 → ``48s``."""
    return "—" if is_missing(value) else format_seconds(float(value) / 1000.0)


#: column names that look like a unit and are not one (epoch times in seconds)
_NOT_A_UNIT = ("start_s", "end_s", "t")
#: column-name endings (or beginnings, ``bytes_read``) → the unit of the column (the first match wins)
_UNIT_BY_NAME = (
    (("_id", "id", "jobid", "clusterid", "procid", "pid", "_code", "commit"), "id"),
    (("throughput", "bytes_per_s", "bytes_s", "_bps", "rate_bytes"), "rate"),
    (("bytes", "_size", "filesize", "size_b", "volume", "_free", "_total", "_used", "precious", "removable"), "bytes"),
    (("_ms",), "millis"),
    (("duration_s", "_seconds", "_s", "duration", "age_s", "elapsed"), "seconds"),
    (("efficiency", "fraction", "ratio", "availability"), "percent"),
)
_UNIT_BY_START = (("bytes_", "bytes"),)
FORMATTERS = {
    "id": format_id,
    "rate": format_rate,
    "bytes": format_bytes,
    "millis": format_millis,
    "seconds": format_seconds,
    "percent": format_percent,
}
#: a "duration" above this many seconds (30 years) is a point in time (epoch), shown as a plain number
_EPOCH_SECONDS = 30 * 365 * 86400.0


def unit_of(column: str) -> str | None:
    """The unit a column's name implies (``transferred_bytes`` → bytes), or None for plain numbers."""
    name = str(column).lower()
    if name in _NOT_A_UNIT:
        return None
    for endings, unit in _UNIT_BY_NAME:
        if any(name == e.strip("_") or name.endswith(e) for e in endings):
            return unit
    return next((unit for start, unit in _UNIT_BY_START if name.startswith(start)), None)


def column_units(frame: pd.DataFrame) -> dict[str, str]:
    """The unit of each numeric column of ``frame``, by its name and checked against its values: a
    "ratio" holding 90.2 is already a percentage (no unit), a "_ms" column holding 1.8e12 is an epoch
    time, an "id" (plain digits, no thousands separator)."""
    units = {}
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        unit = unit_of(column)
        values = pd.to_numeric(series, errors="coerce").dropna()
        if unit == "percent" and not values.empty and not values.between(0, 1.0001).all():
            unit = None
        if unit in ("seconds", "millis") and not values.empty:
            largest = values.abs().max() / (1000.0 if unit == "millis" else 1.0)
            unit = "id" if largest > _EPOCH_SECONDS else unit
        if unit:
            units[str(column)] = unit
    return units
