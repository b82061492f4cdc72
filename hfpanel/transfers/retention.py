"""Retention of transfer tables: raw kept N days, statistics kept long, applied in one commit.

Why here and not in the store: a raw day may only go once its rows are aggregated (the watermark),
and late rows for a pruned day must not erase the statistics that day already has, so pruning
leaves a horizon (``transfers.horizon.<table>``) that :mod:`aggregate` respects.
"""

from __future__ import annotations

import calendar
import logging
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfpanel.store import StoreWriter
from hfpanel.store.manifest import MANIFEST
from hfpanel.store.retention import days_kept

from .compute import DAY, FAMILIES, STATS_TABLES

log = logging.getLogger("hfpanel.transfers.retention")
WATERMARK = "transfers.watermark"
#: state key prefix: the first raw day kept by the last prune, per raw table
HORIZON = "transfers.horizon"
RAW_TABLES = ["fts_complete", "fts_state", "xrootd_close", "quarantine"]
RETENTION = {"raw": "30d", "stats": "5y"}


def day_of(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(int(t) - int(t) % DAY))


def parts_by_day(manifest, table: str) -> dict[str, list[str]]:
    """The table's part paths (relative to the store) per ``YYYY-MM-DD`` day."""
    return manifest.parts_by_day(table)


def retention_days(value) -> int:
    """Whole days kept for a retention like ``30d``, ``5y`` or ``26w``; a number is seconds (as
    hfpanel.transfers.config parses durations)."""
    return days_kept(value, at_least_a_day=False)


def expired_days(days, keep_days: int, now: float | None = None) -> list[str]:
    """Days that end at least ``keep_days`` whole days before today (UTC): a day is dropped only
    when all of it is older than the limit, never the day the limit falls in."""
    today = int(now if now is not None else time.time()) // DAY * DAY
    limit = day_of(today - keep_days * DAY)
    return sorted(d for d in days if d < limit)


def prune(store_root, retention=None, now: float | None = None, wait: float | None = 60.0) -> dict[str, list[str]]:
    """Apply retention: raw tables keep ``raw`` days, statistics ``stats``. One manifest commit
    retires every expired day of every table, so readers see the store before or after, never
    half-pruned; raw days still holding rows not yet aggregated are kept (and logged)."""
    if not (Path(store_root) / MANIFEST).exists():
        return {}
    retention = {**RETENTION, **(retention or {})}
    keep = {"raw": retention_days(retention["raw"]), "stats": retention_days(retention["stats"])}
    with StoreWriter(store_root, wait=wait) as writer:
        mark = int(writer.state(WATERMARK, 0) or 0)
        plan, horizons = {}, {}
        for table in RAW_TABLES + STATS_TABLES + ["ingest_rate"]:
            kind = "raw" if table in RAW_TABLES else "stats"
            by_day = parts_by_day(writer.manifest, table)
            days = expired_days(by_day, keep[kind], now)
            if table in FAMILIES and days:
                waiting = [d for d in days if _unaggregated(writer.root, by_day[d], mark)]
                days = [d for d in days if d not in waiting]
                if days:  # the first raw day kept; late rows before it are not aggregated
                    after = day_of(calendar.timegm(time.strptime(days[-1], "%Y-%m-%d")) + DAY)
                    horizons[f"{HORIZON}.{table}"] = min([after] + waiting)
            if days:
                plan[table] = days
        if plan:
            writer.write({}, replace_days=plan, state=horizons)
            log.info("pruned %s", {t: len(d) for t, d in plan.items()})
    return plan


def _unaggregated(root: Path, parts: list[str], mark: int) -> bool:
    """Whether these raw files hold rows newer than the watermark (reads only ``commit``)."""
    for part in parts:
        column = pq.read_table(root / part, columns=["commit"], partitioning=None).column("commit")
        if len(column) and pc.max(column).as_py() > mark:
            log.warning("keeping %s: it holds rows not aggregated yet (run `hfpanel transfers aggregate`)", part)
            return True
    return False
