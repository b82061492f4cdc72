"""The one clock and the one way to read a time a person typed.

Every "now" in hfpanel is ``utcnow()`` (a naive UTC timestamp, the store's convention), so tests,
backfills and replays can agree on it; every time given on the command line, in a URL or in a
notebook goes through ``parse_time``, so "2026-11-20 14:00", "2026-11-20T14:00Z" and "now" mean the
same everywhere and a mistake reads the same everywhere.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

#: shown with every "not a time" error
TIME_EXAMPLE = "e.g. 2026-11-20T14:00 (UTC) or now"


def utc_naive(value) -> pd.Timestamp:
    """Any time-like value as a naive UTC timestamp (the store's one convention)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def utcnow() -> pd.Timestamp:
    """Now, as naive UTC to the microsecond."""
    return pd.Timestamp(datetime.now(timezone.utc)).tz_localize(None).floor("us")


def parse_time(value) -> pd.Timestamp | None:
    """None, "" and "now" mean now (None); anything else becomes a naive-UTC timestamp.

    Raises ``ValueError("not a time: '…' (e.g. …)")`` for text that is not a time."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "now")):
        return None
    try:
        stamp = utc_naive(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(f"not a time: {value!r} ({TIME_EXAMPLE})") from error
    if pd.isna(stamp):
        return None
    return stamp.floor("us")
