"""The notification tables of the store (a contract, docs/events.md): ``incidents`` (one row per
change of an incident: the latest version is its state), ``acks`` and ``silences`` (who and why,
with their history), ``outbox`` (every message, written with the run that caused it) and
``deliveries`` (every attempt to send one)."""

from __future__ import annotations

import json

import pandas as pd

INCIDENTS, ACKS, SILENCES, OUTBOX, DELIVERIES = "incidents", "acks", "silences", "outbox", "deliveries"

INCIDENT_COLUMNS = (
    "incident_id",
    "version",
    "time",
    "run_id",
    "site",
    "rule",
    "group_key",
    "category",
    "status",
    "level",
    "opened",
    "resolved",
    "alerts",
    "subjects",
    "notified",
    "messages",
    "silenced",
    "acked_by",
    "ack_comment",
    "ack_time",
    "ack_expires",
    "ack_sticky",
    "summary",
)
ACK_COLUMNS = ("ack_id", "incident_id", "time", "action", "author", "comment", "expires", "sticky")
SILENCE_COLUMNS = ("silence_id", "version", "time", "action", "author", "comment", "start", "end", "matchers")
DELIVERY_COLUMNS = ("message_id", "receiver", "time", "attempt", "ok", "final", "error", "detail", "next_attempt")
TIME_COLUMNS = ("time", "opened", "resolved", "ack_time", "ack_expires", "expires", "start", "end", "next_attempt")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as naive-UTC microseconds (the store's one convention), whatever their source."""
    for column in TIME_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def incident_rows(incidents, site: str, run_id: str, time) -> pd.DataFrame:
    rows = []
    for incident in incidents:
        incident.version += 1
        firing = incident.firing()
        subjects = [
            {"subject": s, **{k: a.get(k) for k in ("level", "text", "since", "resolved", "silenced")}}
            for s, a in sorted(incident.alerts.items())
        ]
        ack = incident.ack if incident.ack and "cleared" not in incident.ack else {}
        names = [s.split("/", 1)[-1] for s in sorted(firing or incident.alerts)]
        rows.append(
            {
                "incident_id": incident.incident_id,
                "version": incident.version,
                "time": time,
                "run_id": run_id,
                "site": site,
                "rule": incident.rule,
                "group_key": json.dumps(incident.group, sort_keys=True),
                "category": incident.group.get("category", ""),
                "status": incident.status,
                "level": incident.worst(),
                "opened": incident.opened,
                "resolved": incident.resolved,
                "alerts": len(firing),
                "subjects": json.dumps(subjects, sort_keys=True),
                "notified": incident.notified,
                "messages": incident.messages,
                "silenced": incident.silenced,
                "acked_by": ack.get("author", ""),
                "ack_comment": ack.get("comment", ""),
                "ack_time": ack.get("time"),
                "ack_expires": ack.get("expires"),
                "ack_sticky": bool(ack.get("sticky", False)),
                "summary": ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else ""),
            }
        )
    return typed(pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS)))
