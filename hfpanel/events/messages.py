"""A message of an incident as each receiver gets it: a subject line, plain text, HTML (escaped),
and a JSON body an Alertmanager-v4 webhook receiver already understands.

Every message names the incident, the shifter's instruction of each module, and links to the
time-travel view of the run that caused it (``base_url/?time=…&module=…``). What is rendered here is
what the outbox stores: a retry sends exactly what the first attempt sent.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

import pandas as pd

from ..durations import format_duration
from ..units import iso
from .incidents import Message

OUTBOX_COLUMNS = (
    "message_id",
    "seq",
    "incident_id",
    "run_id",
    "time",
    "receiver",
    "kind",
    "rule",
    "subject",
    "text",
    "html",
    "payload",
)
TITLES = {"firing": "PROBLEM", "update": "PROBLEM (updated)", "reminder": "STILL", "resolved": "RESOLVED"}
ZERO_TIME = "0001-01-01T00:00:00Z"


def link(base_url: str, at, module: str = "") -> str:
    """The time-travel view of a run (``/?time=…``), for one module when given."""
    query = {"time": iso(at)}
    if module:
        query["module"] = module
    return f"{base_url}/?{urlencode(query)}"


def _rfc3339(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ZERO_TIME


def _since(value, now) -> str:
    if not value:
        return ""
    when = pd.Timestamp(value)
    return f"since {when:%Y-%m-%d %H:%M} UTC ({format_duration((now - when).total_seconds())})"


class Renderer:
    """Renders messages for one site configuration."""

    def __init__(self, config):
        self.config = config
        self.base = config.notifications.notify.base_url
        self.modules = {mod.name: mod for mod in config.modules}

    def headline(self, message: Message) -> str:
        incident, alerts = message.incident, message.alerts
        what = ", ".join(f"{k}={v}" for k, v in incident.group.items() if v and k != "site") or message.rule.name
        names = [a["labels"].get("module") or subject.split("/", 1)[-1] for subject, a in alerts]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        if message.kind == "resolved":
            start = min((a["since"] for _, a in alerts if a.get("since")), default=incident.opened)
            took = format_duration(
                (pd.Timestamp(incident.resolved or message.time) - pd.Timestamp(start)).total_seconds()
            )
            return f"{self.config.site} RESOLVED {what} after {took}: {shown}"
        if message.kind == "notice":
            return f"{self.config.site} NOTICE {what}: {alerts[0][1]['text'] if len(alerts) == 1 else shown}"
        level = incident.worst().upper()
        count = f"{len(alerts)} alerts: " if len(alerts) > 1 else ""
        prefix = {"update": "PROBLEM (more)", "reminder": "STILL"}.get(message.kind, "")
        return f"{self.config.site} {prefix + ' ' if prefix else ''}{level} {what}: {count}{shown}"

    def _lines(self, message: Message) -> list[dict]:
        rows = []
        for subject, alert in message.alerts:
            module = alert["labels"].get("module", "")
            mod = self.modules.get(module)
            rows.append(
                {
                    "subject": subject,
                    "module": module,
                    "title": mod.title if mod else subject,
                    "level": alert.get("level", ""),
                    "text": alert.get("text", ""),
                    "since": _since(alert.get("since"), message.time),
                    "resolved": alert.get("resolved"),
                    "instruction": (mod.instruction if mod else "").strip(),
                    "link": link(self.base, message.time, module),
                    "new": subject in message.new,
                }
            )
        return rows

    def text(self, message: Message) -> str:
        incident = message.incident
        out = [
            self.headline(message),
            "",
            f"Incident {incident.incident_id} (rule {message.rule.name}), opened {incident.opened[:16].replace('T', ' ')}"
            f" UTC; run {message.run_id}.",
        ]
        if incident.ack and "cleared" not in incident.ack:
            out.append(f"Acknowledged by {incident.ack['author']}: {incident.ack['comment']}")
        out.append("")
        for row in self._lines(message):
            mark = " (new)" if row["new"] else ""
            out.append(f"* {row['level'].upper():8} {row['title']}{mark}: {row['text']}")
            if row["since"] and message.kind != "resolved":
                out.append(f"  {row['since']}")
            if row["instruction"] and message.kind not in ("resolved", "notice"):
                out.append("  What to do: " + " ".join(row["instruction"].split()))
            out.append(f"  View: {row['link']}")
        if message.kind not in ("resolved", "notice"):
            out += ["", f'Acknowledge: hfpanel ack {incident.incident_id} --author NAME --comment "…"']
        out.append(f"Time travel: {link(self.base, message.time)}")
        return "\n".join(out) + "\n"

    def html(self, message: Message) -> str:
        e = html.escape
        incident = message.incident
        rows = "".join(
            "<tr>"
            f"<td><b>{e(r['level'].upper())}</b></td>"
            f'<td><a href="{e(r["link"])}">{e(r["title"])}</a>{" <i>(new)</i>" if r["new"] else ""}</td>'
            f"<td>{e(r['text'])}<br><small>{e(r['since'])}</small>"
            + (
                f"<br><small>What to do: {e(' '.join(r['instruction'].split()))}</small>"
                if r["instruction"] and message.kind not in ("resolved", "notice")
                else ""
            )
            + "</td></tr>"
            for r in self._lines(message)
        )
        ack = (
            f"<p>Acknowledged by {e(incident.ack['author'])}: {e(incident.ack['comment'])}</p>"
            if incident.ack and "cleared" not in incident.ack
            else ""
        )
        return (
            f"<html><body><h3>{e(self.headline(message))}</h3>"
            f"<p>Incident {e(incident.incident_id)} (rule {e(message.rule.name)}), run {e(message.run_id)}</p>{ack}"
            f'<table cellpadding="4">{rows}</table>'
            f'<p><a href="{e(link(self.base, message.time))}">The site at that run</a></p></body></html>'
        )

    def webhook(self, message: Message, receiver: str) -> dict:
        """Alertmanager's webhook body (version 4), plus incidentId, runId and idempotencyKey."""
        incident = message.incident
        alerts = []
        for row, (_subject, alert) in zip(self._lines(message), message.alerts):
            resolved = message.kind == "resolved"
            labels = {"alertname": message.rule.name, **{k: v for k, v in alert["labels"].items() if v}}
            labels["level"] = alert.get("level", "")
            alerts.append(
                {
                    "status": "resolved" if resolved else "firing",
                    "labels": labels,
                    "annotations": {
                        "summary": row["text"],
                        "description": f"{row['title']}: {row['text']}",
                        "instruction": " ".join(row["instruction"].split()),
                    },
                    "startsAt": _rfc3339(alert.get("since")),
                    "endsAt": _rfc3339(alert.get("resolved") or incident.resolved) if resolved else ZERO_TIME,
                    "generatorURL": row["link"],
                    "fingerprint": _fingerprint(labels),
                }
            )
        common = dict(alerts[0]["labels"]) if alerts else {}
        for alert in alerts[1:]:
            common = {k: v for k, v in common.items() if alert["labels"].get(k) == v}
        return {
            "version": "4",
            "groupKey": json.dumps({"rule": message.rule.name, **incident.group}, sort_keys=True),
            "truncatedAlerts": 0,
            "status": "resolved" if message.kind == "resolved" else "firing",
            "receiver": receiver,
            "groupLabels": {"alertname": message.rule.name, **incident.group},
            "commonLabels": common,
            "commonAnnotations": {"summary": self.headline(message)},
            "externalURL": self.base,
            "alerts": alerts,
            "incidentId": incident.incident_id,
            "runId": message.run_id,
            "messageKind": message.kind,
            "idempotencyKey": message.message_id,
        }

    def outbox_rows(self, messages: list[Message]) -> pd.DataFrame:
        return self.outbox_frame(self.outbox_records(messages))

    def outbox_records(self, messages: list[Message]) -> list[dict]:
        """The outbox rows of one run's messages (``seq`` counts within the run)."""
        rows = []
        for message in messages:
            subject, text, body = self.headline(message), self.text(message), self.html(message)
            for receiver in message.rule.receivers:
                rows.append(
                    {
                        "message_id": message.message_id,
                        "seq": len(rows),  # the order within the run: a receiver gets them so
                        "incident_id": message.incident.incident_id,
                        "run_id": message.run_id,
                        "time": message.time,
                        "receiver": receiver,
                        "kind": message.kind,
                        "rule": message.rule.name,
                        "subject": subject,
                        "text": text,
                        "html": body,
                        "payload": json.dumps(self.webhook(message, receiver), sort_keys=True),
                    }
                )
        return rows

    @staticmethod
    def outbox_frame(rows: list[dict]) -> pd.DataFrame:
        """Outbox rows of any number of runs as one frame (a replay builds one a month)."""
        frame = pd.DataFrame(rows, columns=list(OUTBOX_COLUMNS))
        if not frame.empty:
            frame["time"] = pd.to_datetime(frame["time"]).astype("datetime64[us]")
        return frame


def _fingerprint(labels: dict) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
