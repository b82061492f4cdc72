"""``ingest_rate``: the feed watching itself, per 10-minute bin, source domain and destination.

Counts accumulate in memory and each commit rewrites the touched days of ``ingest_rate`` (at most
144 bins x destinations per day, small), so the table holds exactly one row per bin and a restart
continues the counts it finds in the store.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from ..store import Store
from ..transfers.messages import DOMAIN_OF_TABLE, TABLE_OF_KIND

BIN = 600
COUNTS = ("messages", "stored", "duplicates", "quarantined", "backlog")


def day_of(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def domain_of(destination: str, kind: str | None) -> str:
    """``fts`` or ``xrootd`` from the configured kind, else guessed from the destination name."""
    if kind in TABLE_OF_KIND:
        return DOMAIN_OF_TABLE[TABLE_OF_KIND[kind]]
    lowered = destination.lower()
    return "fts" if "fts" in lowered else "xrootd" if "xrootd" in lowered else "unknown"


class RateBook:
    """The ``ingest_rate`` rows of the days this process touched."""

    def __init__(self, root):
        self.root = root
        self.rows: dict[tuple, dict] = {}
        self._days: set[str] = set()
        self.touched: set[str] = set()

    def _load_day(self, day: str) -> None:
        """Continue the counts a previous run committed for ``day`` (call with the writer lock held)."""
        self._days.add(day)
        if not Path(self.root).is_dir():
            return
        with Store(self.root) as store:
            if not store.has_table("ingest_rate"):
                return
            frame = store.sql(
                f"SELECT t, source, destination, {', '.join(COUNTS)}, epoch_us(last_message) AS last_us "
                f"FROM {store.scan('ingest_rate', since=day, until=day)}"
            )
        for row in frame.to_dict("records"):
            key = (int(row["t"]), row["source"], row["destination"])
            self.rows[key] = {
                "time": key[0] * 1_000_000,
                "t": key[0],
                "source": key[1],
                "destination": key[2],
                **{c: int(row[c]) for c in COUNTS},
                "last_message": None if pd.isna(row["last_us"]) else int(row["last_us"]),
            }

    def _row(self, t: int, source: str, destination: str) -> dict:
        bin_t = t - t % BIN
        day = day_of(bin_t)
        if day not in self._days:
            self._load_day(day)
        self.touched.add(day)
        key = (bin_t, source, destination)
        if key not in self.rows:
            self.rows[key] = {
                "time": bin_t * 1_000_000,
                "t": bin_t,
                "source": source,
                "destination": destination,
                **dict.fromkeys(COUNTS, 0),
                "last_message": None,
            }
        return self.rows[key]

    def count(self, received: float, source: str, destination: str, field: str, n: int = 1) -> None:
        self._row(int(received), source, destination)[field] += n

    def seen(self, received: float, destination: str) -> None:
        """The newest message of ``destination``: ``last_message`` of every row of its bin."""
        bin_t = int(received) - int(received) % BIN
        stamp = int(received * 1_000_000)
        for (t, _source, dest), row in self.rows.items():
            if t == bin_t and dest == destination:
                row["last_message"] = max(row["last_message"] or 0, stamp)

    def backlog(self, now: float, pending: dict, kinds: dict) -> None:
        """Record the spool's backlog per destination in the current bin (0 for drained ones)."""
        destinations = set(pending) | {d for (t, s, d) in self.rows if t == int(now) - int(now) % BIN}
        for destination in destinations:
            self._row(int(now), domain_of(destination, kinds.get(destination)), destination)["backlog"] = int(
                pending.get(destination, 0)
            )

    def take(self) -> tuple[list[dict], list[str]]:
        """Every row of the touched days (to replace those days) and the days; resets ``touched``."""
        days, self.touched = sorted(self.touched), set()
        rows = [row for row in self.rows.values() if day_of(row["t"]) in days]
        old = time.time() - 3 * 86400
        self.rows = {k: v for k, v in self.rows.items() if k[0] >= old}
        self._days = {d for d in self._days if d >= day_of(int(old))}
        return rows, days
