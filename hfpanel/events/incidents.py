"""Rules turn each run's state and events into alerts; alerts group into incidents; incidents into messages.

After every run, ``Notifier.evaluate`` asks each rule which subjects match now:

* ``level_changed`` (the default kind): every module whose level the rule matches (a *condition*,
  true as long as the level stays);
* ``category_level_changed``: every category whose level matches;
* ``stale``, ``silent``, ``feed_silent``, ``backlog_high``, ``flapping_started``: true from that
  event until the one that ends it (fresh, reporting, …);
* ``row_appeared``, ``row_vanished``, ``metric_jump``, ``collection_gap``: one-shot, this run's events.

An alert is *pending* until its condition held ``for`` N runs or a duration (one that ends sooner
sends nothing), then *firing*; it resolves once its condition has been false for ``keep_firing``.
A flapping module's level alert is frozen (neither fires nor resolves) until it settles. Modules in
downtime start nothing, nor for ``downtime_grace_runs`` runs after it ends (no burst of stale
alarms); an ``inhibit`` rule's firing source freezes its targets likewise.

Firing alerts with the same rule and ``group_by`` labels (default site and category) are one
*incident*: one message when it opens (30 modules going critical in one run: one message listing
them), one when new alerts join it, a reminder every ``repeat`` while it lasts, and one *resolved*
message with its duration — also when it was acknowledged or silenced, if its opening was sent.
Acknowledgements (sticky, or cleared by any change of level; optionally expiring) stop reminders and
updates; silences (matchers, start, end) hold back every message of the alerts they match but the
resolved one. Everything here is plain data, committed with the run (``snapshot``/``restore``).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json

import pandas as pd

from ..durations import format_duration
from ..levels import DOWNTIME, SEVERITY
from . import model as m
from .rules_config import Matcher, Rule, RuleSettings

#: condition kinds and how the deriver's state answers "is it true now" for a module
CONDITION_KINDS = (m.STALE, m.SILENT, m.FEED_SILENT, m.BACKLOG_HIGH, m.FLAPPING_STARTED)
ONE_SHOT_KINDS = (m.ROW_APPEARED, m.ROW_VANISHED, m.METRIC_JUMP, m.GAP)
#: how many (rule, module, level, labels) answers are remembered before the memo starts again
MATCH_MEMO = 200_000


def _iso(value) -> str | None:
    return None if value is None else pd.Timestamp(value).isoformat()


def _ts(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value)


@dataclasses.dataclass
class Alert:
    rule: str
    subject: str
    labels: dict
    text: str
    active_since: str | None = None
    runs_active: int = 0
    firing_since: str | None = None
    inactive_since: str | None = None
    incident: str | None = None
    one_shot: bool = False

    @property
    def firing(self) -> bool:
        return self.firing_since is not None

    @property
    def key(self) -> str:
        return f"{self.rule}|{self.subject}"


@dataclasses.dataclass
class Incident:
    incident_id: str
    rule: str
    group: dict  # the group_by labels
    opened: str
    run_id: str
    alerts: dict = dataclasses.field(default_factory=dict)  # subject -> {level, text, labels, since, resolved}
    notified: bool = False  # its opening message was sent
    last_notified: str | None = None
    messages: int = 0
    status: str = "open"  # open | resolved
    resolved: str | None = None
    ack: dict | None = None  # {author, comment, time, expires, sticky}
    silenced: bool = False
    version: int = 0
    one_shot: bool = False

    def firing(self) -> dict:
        return {s: a for s, a in self.alerts.items() if not a.get("resolved")}

    def worst(self) -> str:
        levels = [a["level"] for a in self.firing().values()] or [a["level"] for a in self.alerts.values()]
        return min(levels, key=lambda lvl: SEVERITY.get(lvl, 9)) if levels else ""


@dataclasses.dataclass
class Message:
    """One notification of an incident, before it is rendered for a receiver."""

    message_id: str
    incident: Incident
    kind: str  # firing | update | reminder | resolved | notice
    rule: Rule
    run_id: str
    time: pd.Timestamp
    alerts: list  # [(subject, alert dict)] the message is about
    new: list = dataclasses.field(default_factory=list)  # subjects new in this message (update)


def incident_id(rule: str, group: dict, opened) -> str:
    key = json.dumps([rule, group, _iso(opened)], sort_keys=True)
    return "inc-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def message_id(incident: str, number: int, kind: str) -> str:
    """The idempotency key of a message: the same incident, sequence and kind, the same key —
    so a message re-sent after a crash carries the key of its first sending."""
    return hashlib.sha1(f"{incident}|{number}|{kind}".encode()).hexdigest()[:20]


class Notifier:
    """Alerts and incidents of one site, evaluated after each run."""

    def __init__(self, config, settings: RuleSettings | None = None):
        self.config = config
        self.settings = settings or config.notifications.notify
        self.rules = {r.name: r for r in self.settings.rules}
        self.modules = {mod.name: mod for mod in config.modules}
        self.alerts: dict[str, Alert] = {}
        self.incidents: dict[str, Incident] = {}  # open ones
        self.grace: dict[str, int] = {}  # module -> runs left after its downtime ended
        self.downtime: set[str] = set()
        self.downtime_ended: dict[str, str] = {}  # module -> when its last downtime ended
        self.messages_text: dict[str, str] = {}  # module -> its latest message
        self.acks: list[dict] = []  # every ack/unack row, oldest first
        self.silences: dict[str, dict] = {}  # silence_id -> latest version
        self._matches: dict[tuple, bool] = {}  # (rule, module, level, labels) -> does the rule match
        self.replaying = False
        self.flapping_now: set[str] = set()
        self._last_now: pd.Timestamp | None = None  # the latest evaluation's time
        self._counted: list[str] = []  # the alerts it counted a run for (matched, not frozen)
        self._bounds: tuple | None = None  # (acks, silences) seen, sorted times they change at

    @property
    def active(self) -> bool:
        return bool(self.rules)

    # -- state --------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        alerted = {a.labels.get("module") for a in self.alerts.values()}
        return {
            "alerts": {k: dict(vars(a)) for k, a in self.alerts.items()},
            "incidents": {k: dict(vars(i)) for k, i in self.incidents.items()},
            "grace": self.grace,
            "downtime": sorted(self.downtime),
            "downtime_ended": self.downtime_ended,
            # the latest message of the modules alerts are about (the others' are re-read each run)
            "texts": {n: t for n, t in self.messages_text.items() if n in alerted},
        }

    def restore(self, data: dict | None) -> None:
        data = data or {}
        self.alerts = {k: Alert(**a) for k, a in data.get("alerts", {}).items() if a.get("rule") in self.rules}
        self.incidents = {k: Incident(**i) for k, i in data.get("incidents", {}).items()}
        self.grace = dict(data.get("grace", {}))
        self.downtime = set(data.get("downtime", []))
        self.downtime_ended = dict(data.get("downtime_ended", {}))
        self.messages_text = dict(data.get("texts", {}))

    # -- labels -----------------------------------------------------------------------------------
    def module_labels(self, module: str, level: str, kind: str, provided: dict | None = None) -> dict:
        """An alert's labels: the collector's (``provided``, hfpanel.labels), the module's own from
        site.yaml over them, and what hfpanel sets over both."""
        mod = self.modules.get(module)
        return {
            **(provided or {}),
            **(mod.labels if mod is not None else {}),
            "site": self.config.site,
            "category": mod.category if mod else "",
            "module": module,
            "collector": mod.collector if mod else "",
            "level": level,
            "kind": kind,
        }

    # -- acknowledgements and silences -------------------------------------------------------------
    def silenced(self, labels: dict, now: pd.Timestamp) -> str | None:
        for silence in self.silences.values():
            start, end = _ts(silence["start"]), _ts(silence["end"])
            if start <= now < end and silence_matcher(silence).matches(labels):
                return silence["silence_id"]
        return None

    def apply_acks(self, now: pd.Timestamp) -> list[Incident]:
        """The latest ack or unack of each open incident, expiry honoured; returns those changed."""
        latest = {}
        for row in self.acks:
            if self.replaying and _ts(row["time"]) > now:
                continue  # a replay sees an acknowledgement from when it was given
            latest[row["incident_id"]] = row
        changed = []
        for incident in self.incidents.values():
            row = latest.get(incident.incident_id)
            want = None
            if row is not None and row["action"] == "ack":
                expires = _ts(row.get("expires"))
                if expires is None or now < expires:
                    want = {
                        "author": row["author"],
                        "comment": row["comment"],
                        "time": _iso(row["time"]),
                        "expires": _iso(expires),
                        "sticky": bool(row["sticky"]),
                    }
            if want is not None and incident.ack and incident.ack.get("cleared") == want["time"]:
                want = None  # cleared by a change of level since: stays cleared
            keep = {k: v for k, v in (incident.ack or {}).items() if k != "cleared"} or None
            if want != keep and not (want is None and incident.ack and "cleared" in incident.ack):
                incident.ack = want
                changed.append(incident)
        return changed

    # -- the evaluation -----------------------------------------------------------------------------
    def candidates(self, run, events: list, dstate) -> dict[str, tuple[Rule, str, dict, str, bool]]:
        """alert key -> (rule, subject, labels, text, one_shot) of everything a rule matches now."""
        found = {}
        levels = {name: level for name, level in dstate.levels.items() if name in self.modules}
        for rule in self.rules.values():
            for kind in rule.kinds:
                if kind == m.LEVEL:
                    for module, level in levels.items():
                        provided = dstate.labels.get(module)
                        memo = (rule.name, module, level, tuple(provided.items()) if provided else ())
                        if memo not in self._matches:  # labels change with the level or the answer: ask once
                            self._matches[memo] = rule.match.matches(self.module_labels(module, level, kind, provided))
                        if self._matches[memo]:
                            labels = self.module_labels(module, level, kind, provided)
                            text = self.messages_text.get(module, "")
                            found[f"{rule.name}|module/{module}"] = (rule, f"module/{module}", labels, text, False)
                elif kind == m.CATEGORY:
                    for category, level in dstate.categories.items():
                        labels = {"site": self.config.site, "category": category, "module": "", "level": level}
                        labels["kind"] = kind
                        if rule.match.matches(labels):
                            subject = f"category/{category}"
                            found[f"{rule.name}|{subject}"] = (rule, subject, labels, f"category {category}", False)
                elif kind in CONDITION_KINDS:
                    for module, subject, text in self._conditions(kind, dstate):
                        labels = self.module_labels(module, levels.get(module, ""), kind, dstate.labels.get(module))
                        if rule.match.matches(labels):
                            found[f"{rule.name}|{subject}|{kind}"] = (rule, subject, labels, text, False)
                else:
                    for event in events:
                        if event.kind != kind:
                            continue
                        labels = {
                            **self.module_labels(event.module, event.level, kind, dstate.labels.get(event.module)),
                            **event.labels,
                        }
                        if not event.module:
                            labels.update(category="", module="", collector="")
                        if rule.match.matches(labels):
                            found[f"{rule.name}|{event.subject}|{kind}"] = (
                                rule,
                                event.subject,
                                labels,
                                event.text,
                                True,
                            )
        return found

    def _conditions(self, kind: str, dstate):
        """(module, subject, text) of every module for which ``kind`` holds now."""
        if kind == m.STALE:
            return [(n, f"module/{n}", f"{n}: data older than its max age") for n, s in dstate.stale.items() if s]
        if kind == m.SILENT:
            return [(n, f"module/{n}", f"{n}: no result") for n in sorted(dstate.silent)]
        if kind == m.FLAPPING_STARTED:
            return [(n, f"module/{n}", f"{n}: flapping") for n in sorted(dstate.flaps.flapping)]
        which = "silent" if kind == m.FEED_SILENT else "backlog"
        text = "transfer feed silent" if kind == m.FEED_SILENT else "transfer feed backlog high"
        return [(n, f"feed/{n}", text) for n, s in sorted(dstate.feed.items()) if s.get(which)]

    def evaluate(self, run, events: list, dstate) -> tuple[list[Message], list[Incident]]:
        """Messages to send and incidents that changed, after ``run`` (its events derived)."""
        now = pd.Timestamp(run.time)
        for row in run.modules:
            self.messages_text[row.module] = " ".join(str(row.message).split())
        self._track_downtime(dstate, now)
        changed: dict[str, Incident] = {i.incident_id: i for i in self.apply_acks(now)}
        if len(self._matches) > MATCH_MEMO:  # labels that change every run (host lists) must not grow it forever
            self._matches.clear()
        found = self.candidates(run, events, dstate)
        frozen = self._frozen(found, dstate, now)
        fired: list[Alert] = []
        for key, (rule, subject, labels, text, one_shot) in found.items():
            if key in frozen:
                continue
            alert = self.alerts.get(key)
            if alert is None:
                alert = self.alerts[key] = Alert(rule.name, subject, labels, text, one_shot=one_shot)
            level_before = alert.labels.get("level")
            alert.labels, alert.text, alert.inactive_since = labels, text or alert.text, None
            if alert.active_since is None:
                alert.active_since, alert.runs_active = _iso(now), 0
            alert.runs_active += 1
            if not alert.firing and self._due(rule, alert, now):
                alert.firing_since = _iso(now)
                fired.append(alert)
            elif alert.firing and alert.incident in self.incidents:
                incident = self.incidents[alert.incident]
                entry = incident.alerts.get(subject)
                if entry is not None:
                    entry.update(level=labels.get("level", ""), text=alert.text)
                    if level_before != labels.get("level") and incident.ack and not incident.ack.get("sticky"):
                        incident.ack = {**incident.ack, "cleared": incident.ack["time"]}
                    changed[incident.incident_id] = incident
        ended = []
        for key, alert in list(self.alerts.items()):
            if key in found or key in frozen:
                continue
            rule = self.rules[alert.rule]
            if not alert.firing:
                del self.alerts[key]  # ended while pending: nothing was said, nothing to say
                continue
            if alert.inactive_since is None:
                alert.inactive_since = _iso(now)
            if alert.one_shot or (now - _ts(alert.inactive_since)).total_seconds() >= rule.keep_firing:
                ended.append(alert)
                del self.alerts[key]
        self.flapping_now = set(dstate.flaps.flapping)
        messages = self._incidents(run, now, fired, ended, changed)
        for key in [k for k, a in self.alerts.items() if a.one_shot and a.firing]:
            del self.alerts[key]  # a one-shot alert is said once
        self._counted = [key for key in found if key not in frozen]
        self._last_now = now
        return messages, list(changed.values())

    def unchanged(self, now: pd.Timestamp) -> bool:
        """For a replay: True when evaluating a run at ``now`` that derived no event, changed no
        module's row or category since the run before (the deriver's state as at the latest
        evaluation) would only count one more run for the active alerts — which this then does —
        so the run needs no evaluation. It could do more if an alert is pending (``for``) or waits
        out ``keep_firing``, a module is in its grace runs or a downtime's end is remembered (a rule's
        ``after_downtime``, forgotten after a day), an
        incident opened at the latest evaluation (acknowledgements are applied before incidents
        open) or is due a reminder, or an acknowledgement or silence begins or ends since the
        latest evaluation."""
        last = self._last_now
        if last is None or self.grace or not self.replaying:
            return False
        if self.downtime_ended and (
            any(rule.after_downtime for rule in self.rules.values())
            or any((now - _ts(ended)).total_seconds() > 86400 for ended in self.downtime_ended.values())
        ):
            return False  # (a day after, _track_downtime forgets a downtime's end)
        if any(not alert.firing or alert.inactive_since is not None for alert in self.alerts.values()):
            return False
        for incident in self.incidents.values():
            if _ts(incident.opened) >= last:
                return False
            rule = self.rules.get(incident.rule)
            if rule is not None and rule.repeat and incident.last_notified is not None:
                if (now - _ts(incident.last_notified)).total_seconds() >= rule.repeat:
                    return False
        bounds = self._changes()
        if bisect.bisect_right(bounds, now) != bisect.bisect_right(bounds, last):
            return False
        for key in self._counted:
            alert = self.alerts.get(key)
            if alert is not None:
                alert.runs_active += 1
        return True

    def _changes(self) -> list[pd.Timestamp]:
        """When acknowledgements and silences begin or end, sorted (a replay's are fixed)."""
        seen = (len(self.acks), len(self.silences))
        if self._bounds is None or self._bounds[0] != seen:
            times = [_ts(row["time"]) for row in self.acks] + [_ts(row.get("expires")) for row in self.acks]
            for silence in self.silences.values():
                times += [_ts(silence["start"]), _ts(silence["end"])]
            self._bounds = (seen, sorted(t for t in times if t is not None))
        return self._bounds[1]

    def _track_downtime(self, dstate, now=None) -> None:
        """Modules leaving a downtime get ``downtime_grace_runs`` runs before they may alert (and a
        rule's ``after_downtime`` time, for sources that look back over hours)."""
        for name, ended in list(self.downtime_ended.items()):
            if now is not None and (now - _ts(ended)).total_seconds() > 86400:
                del self.downtime_ended[name]
        for name in list(self.grace):
            self.grace[name] -= 1
            if self.grace[name] < 0:
                del self.grace[name]
        now_down = {n for n, lvl in dstate.levels.items() if lvl == DOWNTIME}
        for name in self.downtime - now_down:
            if self.settings.downtime_grace_runs:
                self.grace[name] = self.settings.downtime_grace_runs - 1
            if now is not None:
                self.downtime_ended[name] = _iso(now)
        self.downtime = now_down

    def _frozen(self, found: dict, dstate, now=None) -> set[str]:
        """Alert keys that neither start nor end this run: flapping modules' levels, modules in
        downtime (for kinds other than their level) or in their grace runs, inhibited targets."""
        frozen = set()
        for key, (rule, _subject, labels, _, _) in found.items():
            module = labels.get("module", "")
            if module in self.grace or (module in self.downtime and labels.get("kind") != m.LEVEL):
                frozen.add(key)
            elif (
                rule.after_downtime
                and module in self.downtime_ended
                and now is not None
                and (now - _ts(self.downtime_ended[module])).total_seconds() < rule.after_downtime
            ):
                frozen.add(key)  # its results still hold the downtime's failures (a look-back window)
            elif labels.get("kind") == m.LEVEL and module in dstate.flaps.flapping:
                frozen.add(key)
        for key, alert in self.alerts.items():
            module = alert.labels.get("module", "")
            # (a flapping module's firing alert may end — once calm for keep_firing — but nothing
            # new starts until it settles: one "resolved" at most, no re-firing)
            if key not in found and module in self.grace and alert.firing:
                frozen.add(key)
        for number, inhibit in enumerate(self.settings.inhibit):
            # a source is a firing alert, or a module whose state matches now (e.g. the storage
            # element in a scheduled downtime: level downtime, which no alert is about)
            sources = [a.labels for a in self.alerts.values() if a.firing and inhibit.source.matches(a.labels)]
            for module, level in dstate.levels.items():
                provided = dstate.labels.get(module)
                memo = (f"inhibit{number}", module, level, tuple(provided.items()) if provided else ())
                if memo not in self._matches:
                    self._matches[memo] = inhibit.source.matches(self.module_labels(module, level, m.LEVEL, provided))
                if self._matches[memo]:
                    sources.append(self.module_labels(module, level, m.LEVEL, provided))
            if not sources:
                continue
            for key, (_, _, labels, _, _) in found.items():
                if inhibit.source.matches(labels) or not inhibit.target.matches(labels):
                    continue
                if any(all(labels.get(e) == s.get(e) for e in inhibit.equal) for s in sources):
                    frozen.add(key)
        return frozen

    @staticmethod
    def _due(rule: Rule, alert: Alert, now: pd.Timestamp) -> bool:
        if alert.one_shot:
            return True
        if rule.for_runs and alert.runs_active < rule.for_runs:
            return False
        return not rule.for_seconds or (now - _ts(alert.active_since)).total_seconds() >= rule.for_seconds

    # -- incidents ------------------------------------------------------------------------------
    def _group(self, rule: Rule, labels: dict) -> dict:
        return {g: labels.get(g, "") for g in rule.group_by}

    def _message(self, incident: Incident, kind: str, run, now, alerts, new=()) -> Message:
        incident.messages += 1
        incident.last_notified = _iso(now)
        return Message(
            message_id(incident.incident_id, incident.messages, kind),
            incident,
            kind,
            self.rules[incident.rule],
            run.run_id,
            now,
            alerts,
            list(new),
        )

    def _incidents(self, run, now, fired: list[Alert], ended: list[Alert], changed: dict) -> list[Message]:
        messages: list[Message] = []
        joined: dict[str, list[str]] = {}
        for alert in fired:
            rule = self.rules[alert.rule]
            group = self._group(rule, alert.labels)
            incident = next(
                (
                    i
                    for i in self.incidents.values()
                    if i.rule == rule.name and i.group == group and i.one_shot == alert.one_shot
                ),
                None,
            )
            if incident is None:
                incident = Incident(
                    incident_id(rule.name, group, now), rule.name, group, _iso(now), run.run_id, one_shot=alert.one_shot
                )
                self.incidents[incident.incident_id] = incident
            alert.incident = incident.incident_id
            incident.alerts[alert.subject] = {
                "level": alert.labels.get("level", ""),
                "text": alert.text,
                "labels": {k: v for k, v in alert.labels.items() if isinstance(v, str)},
                "since": alert.active_since,
                "resolved": None,
                "silenced": self.silenced(alert.labels, now),
            }
            joined.setdefault(incident.incident_id, []).append(alert.subject)
            if incident.ack and not incident.ack.get("sticky") and incident.notified:
                incident.ack = {**incident.ack, "cleared": incident.ack["time"]}
            changed[incident.incident_id] = incident
        for alert in ended:
            incident = self.incidents.get(alert.incident or "")
            if incident is not None and alert.subject in incident.alerts:
                incident.alerts[alert.subject]["resolved"] = alert.inactive_since
                changed[incident.incident_id] = incident
        for incident in list(self.incidents.values()):
            for _subject, entry in incident.alerts.items():
                if not entry.get("resolved"):
                    entry["silenced"] = self.silenced({**entry["labels"], "level": entry["level"]}, now)
            firing = incident.firing()
            loud = [(s, a) for s, a in firing.items() if not a.get("silenced")]
            incident.silenced = bool(firing) and not loud
            new = joined.get(incident.incident_id, [])
            if incident.one_shot:
                if loud:
                    messages.append(self._message(incident, "notice", run, now, loud))
                incident.notified = bool(loud)
                self._resolve(incident, now, changed)
                continue
            if not firing:
                if incident.notified:
                    every = sorted(incident.alerts.items())
                    messages.append(self._message(incident, "resolved", run, now, every))
                self._resolve(incident, now, changed)
                continue
            if not incident.notified:
                if loud:
                    messages.append(self._message(incident, "firing", run, now, sorted(loud)))
                    incident.notified = True
                    changed[incident.incident_id] = incident
                continue
            acked = incident.ack is not None and "cleared" not in incident.ack
            fresh = [s for s in new if s in dict(loud)]
            if fresh and not (acked and incident.ack.get("sticky")):
                messages.append(self._message(incident, "update", run, now, sorted(loud), fresh))
                changed[incident.incident_id] = incident
                continue
            rule = self.rules[incident.rule]
            settled = [a for _, a in loud if a["labels"].get("module") not in self.flapping_now]
            if (
                rule.repeat
                and settled  # a flapping module's alert is frozen: "still" would not be true
                and not acked
                and (now - _ts(incident.last_notified)).total_seconds() >= rule.repeat
            ):
                messages.append(self._message(incident, "reminder", run, now, sorted(loud)))
                changed[incident.incident_id] = incident
        return messages

    def _resolve(self, incident: Incident, now, changed: dict) -> None:
        incident.status = "resolved"
        ends = [_ts(a["resolved"]) for a in incident.alerts.values() if a.get("resolved")]
        incident.resolved = _iso(max(ends) if ends and not incident.one_shot else now)
        changed[incident.incident_id] = incident
        del self.incidents[incident.incident_id]


def silence_matcher(silence: dict) -> Matcher:
    data = json.loads(silence["matchers"]) if isinstance(silence["matchers"], str) else silence["matchers"]
    return Matcher(patterns={k: v for k, v in data.items() if k != "labels"}, labels=data.get("labels", {}))


def duration_text(incident: Incident) -> str:
    if not incident.resolved:
        return ""
    return format_duration((_ts(incident.resolved) - _ts(incident.opened)).total_seconds())
