"""What an event is: one change the store's history shows, as a row of the ``events`` table.

An event is derived after a run by comparing what the run committed with what came before (see
:mod:`hfpanel.events.derive`); it is stored in the same commit as its run, so the two are never seen
apart. The schema below is a contract (docs/events.md): the shift handover reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pandas as pd

TABLE = "events"

# -- kinds -----------------------------------------------------------------------------------------
LEVEL = "level_changed"  # a module's level changed
CATEGORY = "category_level_changed"  # a category's level changed
STALE = "stale"  # a module's last good data became older than its max_age
FRESH = "fresh"  # ... and is fresh again
SILENT = "silent"  # a module has no row for longer than interval + max_age
REPORTING = "reporting"  # ... and reports again
GAP = "collection_gap"  # no run at all for longer than the longest interval + max_age
ROW_APPEARED = "row_appeared"  # a keyed detail row appeared (a new error, a new host)
ROW_VANISHED = "row_vanished"  # ... or vanished (a host gone, an error cleared)
METRIC_JUMP = "metric_jump"  # a metric left its own recent baseline
FLAPPING_STARTED = "flapping_started"
FLAPPING_STOPPED = "flapping_stopped"
FEED_SILENT = "feed_silent"  # the transfer feed received nothing for too long
FEED_RESUMED = "feed_resumed"
BACKLOG_HIGH = "backlog_high"  # the transfer feed's backlog passed its limit
BACKLOG_NORMAL = "backlog_normal"

KINDS = (
    LEVEL,
    CATEGORY,
    STALE,
    FRESH,
    SILENT,
    REPORTING,
    GAP,
    ROW_APPEARED,
    ROW_VANISHED,
    METRIC_JUMP,
    FLAPPING_STARTED,
    FLAPPING_STOPPED,
    FEED_SILENT,
    FEED_RESUMED,
    BACKLOG_HIGH,
    BACKLOG_NORMAL,
)

#: kinds that end what another kind began (a rule matches the beginning; these resolve it)
RESOLVING_KINDS = (FRESH, REPORTING, FEED_RESUMED, BACKLOG_NORMAL, FLAPPING_STOPPED)
#: what began -> what ends it; kinds in neither are one-shot (a row appeared, a metric jumped, a gap)
CONDITIONS = {
    STALE: FRESH,
    SILENT: REPORTING,
    FEED_SILENT: FEED_RESUMED,
    BACKLOG_HIGH: BACKLOG_NORMAL,
    FLAPPING_STARTED: FLAPPING_STOPPED,
}

#: the ``events`` table's columns, in order (docs/events.md describes each)
COLUMNS = (
    "event_id",
    "run_id",
    "time",
    "site",
    "category",
    "module",
    "subject",
    "kind",
    "level",
    "before",
    "after",
    "value",
    "text",
    "labels",
)


@dataclasses.dataclass
class Event:
    """One event. ``subject`` names what changed (``module/sam_ce``, ``category/storage``,
    ``row/dcache_pools/pools/pool=p01``, ``metric/condor_jobs/held``, ``site/T2_X``); ``level`` is
    the level of the module (or category) after the event, what rules match on."""

    kind: str
    subject: str
    text: str
    category: str = ""
    module: str = ""
    level: str = ""
    before: str = ""
    after: str = ""
    value: float = float("nan")
    labels: dict = dataclasses.field(default_factory=dict)

    def row(self, run_id: str, time, site: str) -> dict:
        return {
            "event_id": event_id(run_id, self.kind, self.subject),
            "run_id": run_id,
            "time": time,
            "site": site,
            "category": self.category,
            "module": self.module,
            "subject": self.subject,
            "kind": self.kind,
            "level": self.level,
            "before": self.before,
            "after": self.after,
            "value": float(self.value),
            "text": self.text,
            "labels": json.dumps(self.labels, sort_keys=True) if self.labels else "",
        }


def event_id(run_id: str, kind: str, subject: str) -> str:
    """Stable id: the same run, kind and subject always give the same id (replays compare by it)."""
    return hashlib.sha1(f"{run_id}|{kind}|{subject}".encode()).hexdigest()[:16]


def frame(events: list[Event], run_id: str, time, site: str) -> pd.DataFrame:
    """The ``events`` rows of one run (an empty frame with the columns when there are none)."""
    return rows_frame([e.row(run_id, time, site) for e in events])


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Event rows (``Event.row``) of any number of runs as one frame: a replay builds one a month,
    not one per run (a frame costs milliseconds, a year has 35,000 runs)."""
    result = pd.DataFrame(rows, columns=list(COLUMNS))
    if not result.empty:
        result["time"] = pd.to_datetime(result["time"]).astype("datetime64[us]")
        result["value"] = result["value"].astype("float64")
    return result
