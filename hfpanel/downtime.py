"""Announced downtimes turn a module's trouble into "downtime" instead of critical.

A site in a scheduled GOCDB outage is expected to fail its tests; CMS Site Readiness counts such
time as downtime, not as failure, and so does hfpanel. A module is in downtime when a host it is
configured to watch (``hosts:`` in site.yaml) is in an ongoing OUTAGE, or when every row that
made its rating bad (the ``label`` of a weakest_link or fraction rating, e.g. the host of a SAM
test) is such a host.
"""

from __future__ import annotations

import pandas as pd

#: the collector type whose ``downtimes`` table feeds this (columns: hostname, severity, start,
#: end, id, classification, description)
DOWNTIME_COLLECTOR = "gocdb_downtimes"


def ongoing_outages(downtimes: pd.DataFrame | None, now: pd.Timestamp) -> dict[str, str]:
    """Host → a one-line description of its OUTAGE ongoing at ``now``."""
    if downtimes is None or downtimes.empty:
        return {}
    rows = downtimes[
        (downtimes["severity"].astype(str).str.upper() == "OUTAGE")
        & (pd.to_datetime(downtimes["start"]) <= now)
        & (pd.to_datetime(downtimes["end"]) > now)
    ]
    outages = {}
    for row in rows.itertuples():
        kind = str(getattr(row, "classification", "") or "").lower() or "announced"
        outages.setdefault(
            str(row.hostname), f"{kind} GOCDB downtime {row.id} until {pd.Timestamp(row.end):%Y-%m-%d %H:%M} UTC"
        )
    return outages


def downtime_reason(hosts: list[str], bad_rows: list[str] | None, outages: dict[str, str]) -> str | None:
    """Why this module counts as in downtime, or None when it does not."""
    if not outages:
        return None
    if hosts:
        hit = [h for h in hosts if h in outages]
        return f"{hit[0]}: {outages[hit[0]]}" if hit else None
    if bad_rows and all(row in outages for row in bad_rows):
        return f"{bad_rows[0]}: {outages[bad_rows[0]]}" + (
            f" (+{len(bad_rows) - 1} more hosts)" if len(bad_rows) > 1 else ""
        )
    return None
