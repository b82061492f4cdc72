"""The filters every transfer view shares: VO, activity, site and a time window.

A window is ``window`` (``"24h"``, ``"7d"``, …) before ``end``. ``end`` is the viewed time when one
is given, else the end of the newest statistics bin in the store: a view of "now" shows the
latest data there is (the summary says how old it is) rather than an empty stretch while the
aggregation catches up. Windows longer than ``DAILY_AFTER`` read the daily tables (one row per day
and pair instead of 144), shorter ones the 10-minute tables.

``Filters`` is frozen and hashable: it is the cache key of every loader in ``queries.py``.
Values typed by a user only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..durations import parse_duration
from . import loaders

#: the window presets offered by the page (any duration ``parse_duration`` reads is accepted)
WINDOWS = ("1h", "6h", "24h", "3d", "7d", "30d", "90d", "365d")
#: windows longer than this read the daily tables
DAILY_AFTER = pd.Timedelta(days=3)
#: longest window accepted
MAX_WINDOW = pd.Timedelta(days=400)
BIN = {"10m": pd.Timedelta(minutes=10), "1d": pd.Timedelta(days=1)}
STATS = {"10m": "transfer_stats_10m", "1d": "transfer_stats_1d"}
XROOTD = {"10m": "xrootd_stats_10m", "1d": "xrootd_stats_1d"}
ERRORS = "transfer_errors_10m"
RAW = "fts_complete"


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a view shows: rows with ``start <= time < end`` of the ``grain`` table ("10m"/"1d"),
    of this VO, activity and site ("" = all)."""

    start: pd.Timestamp
    end: pd.Timestamp
    grain: str = "10m"
    vo: str = ""
    activity: str = ""
    site: str = ""

    @property
    def bin(self) -> pd.Timedelta:
        return BIN[self.grain]

    def clause(
        self, site_columns=("src_site", "dst_site"), activity: bool = True, site: bool = True, time_column: str = "time"
    ) -> tuple[str, list]:
        """SQL ``WHERE`` text and its parameters. The site matches any of ``site_columns`` (a
        transfer belongs to its source and to its destination)."""
        parts = [f"{time_column} >= ?", f"{time_column} < ?"]
        params: list = [self.start.to_pydatetime(), self.end.to_pydatetime()]
        if self.vo:
            parts.append("vo = ?")
            params.append(self.vo)
        if self.activity and activity:
            parts.append("activity = ?")
            params.append(self.activity)
        if self.site and site and site_columns:
            parts.append("(" + " OR ".join(f"{c} = ?" for c in site_columns) + ")")
            params += [self.site] * len(site_columns)
        return " AND ".join(parts), params

    def bins(self) -> pd.DatetimeIndex:
        """Every bin start of the window (for plots without holes where nothing happened)."""
        return pd.date_range(self.start, self.end - self.bin, freq=self.bin)


def grain_for(window: pd.Timedelta) -> str:
    return "1d" if window > DAILY_AFTER else "10m"


def window_length(text: str) -> pd.Timedelta:
    """``"7d"`` → 7 days (ValueError naming the problem otherwise)."""
    length = pd.Timedelta(seconds=parse_duration(str(text)))
    if length <= pd.Timedelta(0):
        raise ValueError(f"window {text!r} is empty")
    if length > MAX_WINDOW:
        raise ValueError(f"window {text!r} is longer than {MAX_WINDOW.days} days")
    return length


def data_end(store, table: str) -> pd.Timestamp | None:
    """The end of the newest bin of ``table`` (None without rows); reads one day partition."""

    def compute():
        day = store.last_day(table)
        if day is None:
            return None
        latest = store.sql(f"SELECT max(time) AS t FROM {store.scan(table, day, day)}")["t"].iloc[0]
        if latest is None or pd.isna(latest):
            return None
        step = BIN["1d"] if table.endswith("_1d") else BIN["10m"]
        return pd.Timestamp(latest) + step

    return loaders.cached("transfers.data_end", store, (table,), compute)


#: the tables whose newest bin is "now" for the transfer views
TRANSFER_CLOCK = (STATS["10m"], ERRORS, STATS["1d"])


def make_filters(
    store, window: str, end=None, vo: str = "", activity: str = "", site: str = "", clock=TRANSFER_CLOCK
) -> Filters | None:
    """The Filters of a window ending at ``end`` (None: the newest bin of the first ``clock`` table with rows);
    None when the store holds no rows to end at."""
    length = window_length(window)
    grain = grain_for(length)
    if end is None:
        ends = [data_end(store, table) for table in clock if store.has_table(table)]
        ends = [e for e in ends if e is not None]
        if not ends:
            return None
        end = ends[0]  # the finest table that has rows: a daily row would end "now" at midnight
    end = pd.Timestamp(end)
    start = end - length
    if grain == "1d":  # whole days: the daily row of the first day counts in full
        start, end = start.floor("D"), end.ceil("D")
    return Filters(start=start, end=end, grain=grain, vo=vo or "", activity=activity or "", site=site or "")
