"""The ``notifications:`` section of site.yaml: how events are derived, and who hears of them.

Validated like the rest of the file: every problem is collected and named
``file: section 'notifications': key 'events.metric_jumps.z': what is wrong``. An absent section means
the defaults: events are derived and stored, nothing is sent.

    notifications:
      events:
        rows:                       # detail rows watched for appearing/vanishing, by key columns
          my_module: {rows: [host]} # (collectors declare their own, e.g. dcache_pools: pools by pool)
        metric_jumps:               # a metric far from its own recent runs (median and spread)
          window: 20                # runs in the baseline
          min_runs: 8               # no judgement before this many
          z: 6                      # robust z: |x - median| / (IQR / 1.349)
          min_change: 0.5           # and at least this fraction of |median| ...
          min_delta: 2              # ... and this absolute change
          metrics: ["*"]            # module:metric patterns (fnmatch); exclude: [...] leaves some out
        feed:                       # the transfer feed, from ingest_health modules' metrics
          backlog_limit: 100000
          silence: 30m
      flapping: {window: 21, high: 30, low: 25}
      # receivers, rules, inhibit, downtime_grace_runs, delivery, base_url: rules_config.py
"""

from __future__ import annotations

import dataclasses
import fnmatch

from ..durations import parse_duration
from .flapping import Flapping
from .rules_config import KEYS as RULE_KEYS
from .rules_config import RuleSettings, read_rules


@dataclasses.dataclass
class MetricJumps:
    window: int = 20
    min_runs: int = 8
    z: float = 6.0
    min_change: float = 0.5
    #: small counts (0 → 1 held job) are not jumps however steady they were
    min_delta: float = 2.0
    metrics: list = dataclasses.field(default_factory=lambda: ["*"])
    exclude: list = dataclasses.field(default_factory=list)

    def watches(self, module: str, metric: str) -> bool:
        name = f"{module}:{metric}"
        return any(fnmatch.fnmatchcase(name, p) for p in self.metrics) and not any(
            fnmatch.fnmatchcase(name, p) for p in self.exclude
        )


@dataclasses.dataclass
class Feed:
    backlog_limit: float = 100_000
    silence: float = 1800.0


@dataclasses.dataclass
class EventSettings:
    rows: dict = dataclasses.field(default_factory=dict)  # module -> {table: [key columns]}
    metric_jumps: MetricJumps | None = dataclasses.field(default_factory=MetricJumps)
    feed: Feed = dataclasses.field(default_factory=Feed)
    #: at most this many row events per table and run; beyond, one event sums them up
    max_row_events: int = 10


@dataclasses.dataclass
class Notifications:
    events: EventSettings = dataclasses.field(default_factory=EventSettings)
    flapping: Flapping = dataclasses.field(default_factory=Flapping)
    #: receivers, rules, inhibitions, delivery (hfpanel/events/rules_config.py)
    notify: RuleSettings = dataclasses.field(default_factory=RuleSettings)


# -- reading -----------------------------------------------------------------------------------------
def _number(low: float, integer: bool = False):
    def read(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise ValueError(f"must be a {'whole ' if integer else ''}number >= {low:g}, got {value!r}")
        if integer and int(value) != value:
            raise ValueError(f"must be a whole number, got {value!r}")
        return int(value) if integer else float(value)

    return read


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def _patterns(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of patterns like 'condor_jobs:held' or 'dcache_*:*'")
    return value


JUMP_KEYS = {
    "window": _number(2, integer=True),
    "min_runs": _number(2, integer=True),
    "z": _number(0),
    "min_change": _number(0),
    "min_delta": _number(0),
    "metrics": _patterns,
    "exclude": _patterns,
}
FEED_KEYS = {"backlog_limit": _number(0), "silence": parse_duration}
EVENT_KEYS = {"rows", "metric_jumps", "feed", "max_row_events"}
FLAPPING_KEYS = {
    "window": _number(3, integer=True),
    "high": _number(0),
    "low": _number(0),
    "enabled": _flag,
}
SECTION_KEYS = {"events", "flapping", *RULE_KEYS}


class _Where:
    """Collects problems as ``section 'notifications': key 'a.b': what``."""

    def __init__(self, add):
        self.add = add

    def problem(self, key: str, message: str) -> None:
        self.add("section 'notifications'", f"key '{key}': {message}" if key else message)


def _mapping(raw, key: str, where: _Where, known) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        where.problem(key, "must be a mapping")
        return {}
    for unknown in sorted(set(raw) - set(known)):
        where.problem(f"{key}.{unknown}" if key else unknown, f"unknown key (known: {', '.join(sorted(known))})")
    return raw


def _read_fields(raw: dict, keys: dict, prefix: str, where: _Where, into) -> None:
    for name, read in keys.items():
        if name in raw:
            try:
                setattr(into, name, read(raw[name]))
            except (TypeError, ValueError) as error:
                where.problem(f"{prefix}.{name}", str(error))


def _read_rows(raw, where: _Where, modules: dict) -> dict:
    rows = {}
    for module, tables in _mapping(raw, "events.rows", where, raw or {}).items():
        key = f"events.rows.{module}"
        if modules and module not in modules:
            where.problem(key, f"no module '{module}' (modules: {', '.join(sorted(modules))})")
            continue
        if not isinstance(tables, dict) or not tables:
            where.problem(key, "must map a detail table to its key columns, e.g. {rows: [host]}")
            continue
        for table, columns in tables.items():
            if isinstance(columns, str):
                columns = [columns]
            if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
                where.problem(f"{key}.{table}", "must be a list of column names")
                continue
            rows.setdefault(module, {})[str(table)] = list(columns)
    return rows


def parse_notifications(raw, add_problem, modules: dict | None = None) -> Notifications:
    """The section read into ``Notifications``; every problem goes to ``add_problem(where, message)``.
    ``modules`` (name -> Module) lets references to modules be checked."""
    where = _Where(add_problem)
    result = Notifications()
    section = _mapping(raw, "", where, SECTION_KEYS)
    events = _mapping(section.get("events"), "events", where, EVENT_KEYS)
    settings = result.events
    settings.rows = _read_rows(events.get("rows"), where, modules or {})
    if "max_row_events" in events:
        try:
            settings.max_row_events = _number(1, integer=True)(events["max_row_events"])
        except ValueError as error:
            where.problem("events.max_row_events", str(error))
    jumps = events.get("metric_jumps", {})
    if jumps is False:
        settings.metric_jumps = None
    else:
        _read_fields(
            _mapping(jumps, "events.metric_jumps", where, JUMP_KEYS),
            JUMP_KEYS,
            "events.metric_jumps",
            where,
            settings.metric_jumps,
        )
        if settings.metric_jumps.min_runs > settings.metric_jumps.window:
            where.problem("events.metric_jumps.min_runs", "must not exceed window")
    _read_fields(
        _mapping(events.get("feed"), "events.feed", where, FEED_KEYS), FEED_KEYS, "events.feed", where, settings.feed
    )
    flapping = section.get("flapping")
    if flapping is False:
        result.flapping.enabled = False
    else:
        keys = _mapping(flapping, "flapping", where, FLAPPING_KEYS)
        _read_fields(keys, FLAPPING_KEYS, "flapping", where, result.flapping)
        if not result.flapping.low <= result.flapping.high <= 100:
            where.problem(
                "flapping", f"need 0 <= low ({result.flapping.low:g}) <= high ({result.flapping.high:g}) <= 100"
            )
    result.notify = read_rules(section, where.problem)
    return result
