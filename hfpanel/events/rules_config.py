"""The rules, receivers, inhibitions and delivery settings of the ``notifications:`` section.

    notifications:
      base_url: https://hfpanel.example.org     # links in messages point at the time-travel view there
      receivers:
        - name: admins
          mail: {to: [grid-admins@example.org], from: hfpanel@example.org,
                 smtp: {host: smtp.example.org, port: 587, security: starttls,
                        username: hfpanel, password_env: HFPANEL_SMTP_PASSWORD}}
        - name: chat
          webhook: {url: https://chat.example.org/hooks/grid, timeout: 10s}
        - name: pager
          command: {argv: [/usr/local/bin/page-oncall], timeout: 30s}
      rules:
        - name: site-critical
          match: {category: [availability, storage], level: [critical, noinfo]}
          for: 2 runs                           # or a duration: 30m
          keep_firing: 30m                      # a recovery must last this long to resolve
          group_by: [site, category]            # one incident (one message) per group
          repeat: 4h                            # a reminder while it lasts (not when acknowledged)
          receivers: [admins, chat]
      inhibit:                                  # a firing source mutes matching targets
        - source: {module: [site_network], level: [critical]}
          target: {}
          equal: [site]
      downtime_grace_runs: 1                    # after a downtime: only what still fails then
      delivery: {attempts: 10, backoff: 1m, max_backoff: 1h, budget: 30s}

Secrets are never in the file: ``password_env``/``password_file`` name where they are.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re

from ..durations import parse_duration
from ..labels import label_matches
from ..levels import LEVELS
from . import model

#: what a rule's ``match`` may name
MATCH_KEYS = ("site", "category", "module", "level", "kind", "labels")
#: the kinds a rule can match: the module's level (the default) or a derived event's kind
RULE_KINDS = tuple(k for k in model.KINDS if k not in model.RESOLVING_KINDS)
SECURITY = ("starttls", "tls", "none")
_RUNS = re.compile(r"^\s*(\d+)\s*runs?\s*$")


@dataclasses.dataclass
class Matcher:
    """Lists of fnmatch patterns per label; an empty matcher matches everything."""

    patterns: dict = dataclasses.field(default_factory=dict)  # label -> [patterns]
    labels: dict = dataclasses.field(default_factory=dict)  # extra label -> [patterns]

    def matches(self, labels: dict) -> bool:
        for key, patterns in (*self.patterns.items(), *self.labels.items()):
            value = str(labels.get(key, ""))
            if not any(label_matches(value, p) for p in patterns):
                return False
        return True

    def describe(self) -> str:
        items = {**self.patterns, **self.labels}
        return ", ".join(f"{k}={'|'.join(v)}" for k, v in items.items()) or "everything"


@dataclasses.dataclass
class Rule:
    name: str
    match: Matcher
    kinds: tuple  # event kinds this rule turns into alerts (default: the module's level)
    for_runs: int = 0
    for_seconds: float = 0.0
    keep_firing: float = 0.0
    group_by: tuple = ("site", "category")
    repeat: float | None = None
    receivers: tuple = ()
    #: after a module's downtime ends, its alerts of this rule wait this long (sources that look back
    #: over hours, e.g. HammerCloud's 4-hour window, still hold the downtime's failures)
    after_downtime: float = 0.0


@dataclasses.dataclass
class Receiver:
    name: str
    kind: str  # mail | webhook | command
    settings: dict


@dataclasses.dataclass
class Inhibit:
    source: Matcher
    target: Matcher
    equal: tuple = ("site",)


@dataclasses.dataclass
class Delivery:
    attempts: int = 10
    backoff: float = 60.0
    max_backoff: float = 3600.0
    #: one dispatch (after a run) sends for at most this long; the rest waits for the next
    budget: float = 30.0


@dataclasses.dataclass
class RuleSettings:
    base_url: str = ""
    receivers: dict = dataclasses.field(default_factory=dict)  # name -> Receiver
    rules: list = dataclasses.field(default_factory=list)
    inhibit: list = dataclasses.field(default_factory=list)
    downtime_grace_runs: int = 1
    delivery: Delivery = dataclasses.field(default_factory=Delivery)


KEYS = {"base_url", "receivers", "rules", "inhibit", "downtime_grace_runs", "delivery"}


def _list_of_text(value, what: str = "text") -> list[str]:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int, float)) for v in value):
        raise ValueError(f"must be a {what} or a list of them")
    return [str(v) for v in value]


def read_matcher(raw, key: str, problem) -> Matcher:
    """A ``match``/``source``/``target`` mapping; levels and kinds are checked by name."""
    matcher = Matcher()
    if raw is None:
        return matcher
    if not isinstance(raw, dict):
        problem(key, f"must be a mapping of {', '.join(MATCH_KEYS)}")
        return matcher
    for name, value in raw.items():
        if name not in MATCH_KEYS:
            problem(f"{key}.{name}", f"unknown key (known: {', '.join(MATCH_KEYS)})")
            continue
        if name == "labels":
            if not isinstance(value, dict):
                problem(f"{key}.labels", "must be a mapping of label -> value(s)")
                continue
            for label, wanted in value.items():
                try:
                    matcher.labels[str(label)] = _list_of_text(wanted)
                except ValueError as error:
                    problem(f"{key}.labels.{label}", str(error))
            continue
        try:
            values = _list_of_text(value)
        except ValueError as error:
            problem(f"{key}.{name}", str(error))
            continue
        known = LEVELS if name == "level" else RULE_KINDS if name == "kind" else None
        bad = [v for v in values if known and not any(fnmatch.fnmatchcase(k, v) for k in known)]
        if bad:
            problem(f"{key}.{name}", f"unknown {name} {', '.join(bad)} (known: {', '.join(known)})")
            continue
        matcher.patterns[name] = values
    return matcher


def _pending(value) -> tuple[int, float]:
    """``for``: "3 runs" (runs in a row) or a duration."""
    if isinstance(value, str) and (match := _RUNS.match(value)):
        return int(match.group(1)), 0.0
    try:
        return 0, parse_duration(value)
    except ValueError:
        raise ValueError(f"must be a number of runs (e.g. '2 runs') or a duration (e.g. 30m), got {value!r}") from None


def _read_rule(index: int, raw, receivers: dict, problem) -> Rule | None:
    name = raw.get("name") if isinstance(raw, dict) else None
    key = f"rules[{name or index + 1}]"
    if not isinstance(raw, dict) or not name:
        problem(key, "each rule needs a name")
        return None
    known = {"name", "match", "for", "keep_firing", "group_by", "repeat", "receivers", "after_downtime"}
    for unknown in sorted(set(raw) - known):
        problem(f"{key}.{unknown}", f"unknown key (known: {', '.join(sorted(known))})")
    match = read_matcher(raw.get("match"), f"{key}.match", problem)
    rule = Rule(name=str(name), match=match, kinds=tuple(match.patterns.pop("kind", [model.LEVEL])))
    if "for" in raw:
        try:
            rule.for_runs, rule.for_seconds = _pending(raw["for"])
        except ValueError as error:
            problem(f"{key}.for", str(error))
    for field, target in (("keep_firing", "keep_firing"), ("repeat", "repeat"), ("after_downtime", "after_downtime")):
        if raw.get(field) is not None:
            try:
                setattr(rule, target, parse_duration(raw[field]))
            except ValueError as error:
                problem(f"{key}.{field}", str(error))
    if "group_by" in raw:
        try:
            rule.group_by = tuple(_list_of_text(raw["group_by"], "label"))
        except ValueError as error:
            problem(f"{key}.group_by", str(error))
    try:
        rule.receivers = tuple(_list_of_text(raw.get("receivers"), "receiver name"))
    except ValueError:
        problem(f"{key}.receivers", "must name at least one receiver")
    for missing in [r for r in rule.receivers if r not in receivers]:
        problem(f"{key}.receivers", f"no receiver '{missing}' (receivers: {', '.join(sorted(receivers)) or 'none'})")
    return rule


def _text(raw: dict, key: str, name: str, problem, required: bool = False) -> str | None:
    value = raw.get(name)
    if value in (None, ""):
        if required:
            problem(f"{key}.{name}", "missing")
        return None
    if not isinstance(value, (str, int)):
        problem(f"{key}.{name}", "must be text")
        return None
    return str(value)


def _read_receiver(index: int, raw, problem) -> Receiver | None:
    name = raw.get("name") if isinstance(raw, dict) else None
    key = f"receivers[{name or index + 1}]"
    kinds = [k for k in ("mail", "webhook", "command") if isinstance(raw, dict) and k in raw]
    if not isinstance(raw, dict) or not name:
        problem(key, "each receiver needs a name")
        return None
    for unknown in sorted(set(raw) - {"name", "mail", "webhook", "command"}):
        problem(f"{key}.{unknown}", "unknown key (known: name, mail, webhook, command)")
    if len(kinds) != 1:
        problem(key, "give exactly one of mail, webhook, command")
        return None
    kind, body = kinds[0], raw[kinds[0]]
    key = f"{key}.{kind}"
    if not isinstance(body, dict):
        problem(key, "must be a mapping")
        return None
    settings: dict = {}
    timeout_default = 30.0 if kind == "command" else 10.0
    try:
        settings["timeout"] = parse_duration(body.get("timeout", timeout_default))
    except ValueError as error:
        problem(f"{key}.timeout", str(error))
    if kind == "mail":
        _known(body, {"to", "from", "smtp", "timeout", "subject_prefix"}, key, problem)
        try:
            settings["to"] = _list_of_text(body.get("to"), "mail address")
        except ValueError as error:
            problem(f"{key}.to", str(error))
        settings["from"] = _text(body, key, "from", problem, required=True)
        settings["subject_prefix"] = _text(body, key, "subject_prefix", problem) or "[hfpanel]"
        smtp = body.get("smtp")
        if not isinstance(smtp, dict):
            problem(f"{key}.smtp", "must be a mapping with host (and port, security, username, password_env)")
            return None
        _known(
            smtp,
            {"host", "port", "security", "username", "password_env", "password_file", "ca"},
            f"{key}.smtp",
            problem,
        )
        settings["host"] = _text(smtp, f"{key}.smtp", "host", problem, required=True)
        security = smtp.get("security", "starttls")
        if security not in SECURITY:
            problem(f"{key}.smtp.security", f"must be one of {', '.join(SECURITY)}, got {security!r}")
        settings["security"] = security
        port = smtp.get("port", {"tls": 465, "starttls": 587}.get(security, 25))
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problem(f"{key}.smtp.port", f"must be a port number, got {port!r}")
        settings["port"] = port
        for field in ("username", "password_env", "password_file", "ca"):
            settings[field] = _text(smtp, f"{key}.smtp", field, problem)
        if (settings["password_env"] or settings["password_file"]) and not settings["username"]:
            problem(f"{key}.smtp.username", "missing (a password is given)")
    elif kind == "webhook":
        _known(body, {"url", "timeout", "headers", "ca"}, key, problem)
        url = _text(body, key, "url", problem, required=True)
        if url and not url.startswith(("http://", "https://")):
            problem(f"{key}.url", f"must be an http:// or https:// URL, got {url!r}")
        settings["url"], settings["ca"] = url, _text(body, key, "ca", problem)
        headers = body.get("headers") or {}
        if not isinstance(headers, dict):
            problem(f"{key}.headers", "must be a mapping of header -> value")
            headers = {}
        settings["headers"] = {str(k): str(v) for k, v in headers.items()}
    else:
        _known(body, {"argv", "timeout"}, key, problem)
        argv = body.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, (str, int)) for a in argv):
            problem(f"{key}.argv", "must be a list: the program and its arguments (no shell)")
            argv = []
        settings["argv"] = [str(a) for a in argv]
    return Receiver(str(name), kind, settings)


def _known(raw: dict, known: set, key: str, problem) -> None:
    for unknown in sorted(set(raw) - known):
        problem(f"{key}.{unknown}", f"unknown key (known: {', '.join(sorted(known))})")


def read_rules(section: dict, problem) -> RuleSettings:
    """Receivers, rules, inhibitions and delivery from the section (already checked to be a mapping)."""
    result = RuleSettings()
    base = section.get("base_url") or ""
    if base and not str(base).startswith(("http://", "https://")):
        problem("base_url", f"must be an http:// or https:// URL, got {base!r}")
    result.base_url = str(base).rstrip("/")
    raw_receivers = section.get("receivers") or []
    if not isinstance(raw_receivers, list):
        problem("receivers", "must be a list")
        raw_receivers = []
    for index, raw in enumerate(raw_receivers):
        receiver = _read_receiver(index, raw, problem)
        if receiver is None:
            continue
        if receiver.name in result.receivers:
            problem(f"receivers[{receiver.name}]", "duplicate receiver name")
        result.receivers[receiver.name] = receiver
    raw_rules = section.get("rules") or []
    if not isinstance(raw_rules, list):
        problem("rules", "must be a list")
        raw_rules = []
    names = set()
    for index, raw in enumerate(raw_rules):
        rule = _read_rule(index, raw, result.receivers, problem)
        if rule is None:
            continue
        if rule.name in names:
            problem(f"rules[{rule.name}]", "duplicate rule name")
        names.add(rule.name)
        result.rules.append(rule)
    raw_inhibit = section.get("inhibit") or []
    if not isinstance(raw_inhibit, list):
        problem("inhibit", "must be a list of {source, target, equal}")
        raw_inhibit = []
    for index, raw in enumerate(raw_inhibit):
        key = f"inhibit[{index + 1}]"
        if not isinstance(raw, dict) or "source" not in raw:
            problem(key, "needs a source (and a target, equal)")
            continue
        _known(raw, {"source", "target", "equal"}, key, problem)
        try:
            equal = tuple(_list_of_text(raw.get("equal", ["site"]), "label"))
        except ValueError as error:
            problem(f"{key}.equal", str(error))
            equal = ("site",)
        result.inhibit.append(
            Inhibit(
                read_matcher(raw["source"], f"{key}.source", problem),
                read_matcher(raw.get("target"), f"{key}.target", problem),
                equal,
            )
        )
    grace = section.get("downtime_grace_runs", 1)
    if not isinstance(grace, int) or isinstance(grace, bool) or grace < 0:
        problem("downtime_grace_runs", f"must be a whole number >= 0, got {grace!r}")
    else:
        result.downtime_grace_runs = grace
    delivery = section.get("delivery")
    if delivery is not None:
        if not isinstance(delivery, dict):
            problem("delivery", "must be a mapping")
        else:
            _known(delivery, {"attempts", "backoff", "max_backoff", "budget"}, "delivery", problem)
            attempts = delivery.get("attempts", result.delivery.attempts)
            if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
                problem("delivery.attempts", f"must be a whole number >= 1, got {attempts!r}")
            else:
                result.delivery.attempts = attempts
            for name in ("backoff", "max_backoff", "budget"):
                if name in delivery:
                    try:
                        setattr(result.delivery, name, parse_duration(delivery[name]))
                    except ValueError as error:
                        problem(f"delivery.{name}", str(error))
    return result
