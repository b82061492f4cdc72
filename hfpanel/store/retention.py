"""Retention: how long each family of tables is kept (the ``retention:`` section of site.yaml).

A family is a kind of table that grows at its own pace and is worth keeping for its own time:
``payloads`` (``raw_payloads``, the archived answers: large, needed for replays of recent runs),
``details`` (every ``detail__<module>__<table>``: what a past colour was made of), ``statuses``
(``module_status``, ``category_status``, ``runs``: the history itself) and ``metrics``. The stored
configurations (``configs``) are never pruned: every kept status stays explainable. Transfer tables
have their own retention (``transfers.retention``, hfpanel.transfers.retention: raw days only once
aggregated). Tables of no family are never pruned.

A prune retires whole days — a day goes once all of it is older than the limit — in one commit,
so a reader sees the store before or after it, never half-pruned; retired files stay on disk for
the writer's grace period, so a query that began on the old manifest finishes on its files. The
collector prunes after each run from where the last prune stopped (the limit it reached is kept
in the manifest's ``state``), so its cost follows the days that expire, not the history;
``hfpanel prune`` looks at every day (also days written into the past since).
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from ..clock import utcnow
from ..durations import parse_duration

log = logging.getLogger("hfpanel.store")
DAY = 86400
FAMILIES = ("payloads", "details", "statuses", "metrics")
TABLES = {
    "raw_payloads": "payloads",
    "module_status": "statuses",
    "category_status": "statuses",
    "runs": "statuses",
    "metrics": "metrics",
}
#: what a site without a ``retention:`` section keeps: answers for a month of replays, details for
#: a year of "why was it red", the history and the numbers for ever (docs/benchmarks.md: sizes)
DEFAULTS = {"payloads": "30d", "details": "1y", "statuses": "forever", "metrics": "forever"}
#: manifest state: the first day the last prune kept, per family
MARK = "retention."
FOREVER = ("forever", "never", "")


def family_of(table: str) -> str | None:
    if table.startswith("detail__"):
        return "details"
    return TABLES.get(table)


def days_kept(value, at_least_a_day: bool = True) -> int | None:
    """Whole days kept for ``30d``, ``26w``, ``1y`` (365 days) or ``forever`` (None); a bare number
    is seconds, as every duration of the configuration."""
    if value is None or (isinstance(value, str) and value.strip().lower() in FOREVER):
        return None
    text = str(value).strip()
    if isinstance(value, str) and text.endswith("y") and text[:-1].replace(".", "", 1).isdigit():
        days = int(float(text[:-1]) * 365)
    else:
        days = int(parse_duration(value) // DAY)
    if days < 1 and at_least_a_day:
        raise ValueError(f"{value!r} keeps less than a day; write e.g. 30d, 26w, 1y or forever")
    return days


@dataclasses.dataclass(frozen=True)
class Retention:
    """Days kept per family (None: for ever)."""

    keep: dict[str, int | None]

    @classmethod
    def default(cls) -> Retention:
        return cls({family: days_kept(value) for family, value in DEFAULTS.items()})

    def limit(self, family: str, today: pd.Timestamp) -> str | None:
        """The first day kept (``YYYY-MM-DD``): every day before it has wholly expired."""
        days = self.keep.get(family)
        return None if days is None else f"{today.normalize() - pd.Timedelta(days=days):%Y-%m-%d}"

    def with_overrides(self, values: dict) -> Retention:
        return Retention({**self.keep, **{k: days_kept(v) for k, v in values.items() if v is not None}})


def parse_retention(raw) -> tuple[Retention, list[tuple[str, str]]]:
    """The ``retention:`` section (absent: the defaults) and its problems as (where, what)."""
    if raw is None:
        return Retention.default(), []
    if not isinstance(raw, dict):
        return Retention.default(), [("key 'retention'", f"must be a mapping of {', '.join(FAMILIES)} to durations")]
    problems, values = [], dict(DEFAULTS)
    for key, value in raw.items():
        if key not in FAMILIES:
            problems.append((f"key 'retention.{key}'", f"unknown table family (known: {', '.join(FAMILIES)})"))
            continue
        try:
            days_kept(value)
            values[key] = value
        except ValueError as error:
            problems.append((f"key 'retention.{key}'", str(error)))
    return Retention({family: days_kept(value) for family, value in values.items()}), problems


def plan(manifest, retention: Retention, now=None, everything: bool = False) -> tuple[dict, dict, dict]:
    """What a prune would retire: (family -> days, day -> segment dropping their files, new marks).
    Only days from each family's mark on are looked at unless ``everything``."""
    today = pd.Timestamp(now if now is not None else utcnow())
    days, segments, marks = {}, {}, {}
    for family in FAMILIES:
        limit = retention.limit(family, today)
        if limit is None:
            continue
        since = "" if everything else manifest.state.get(MARK + family, "")
        for day in sorted(d for d in manifest.days if since <= d < limit):
            folded = manifest.day(day)
            files = [p for t in sorted(folded.tables()) if family_of(t) == family for p in folded.parts(t)]
            if files:
                drop = segments.setdefault(day, {"drop": []})["drop"]
                drop += [p for p in dict.fromkeys(files) if p not in drop]
                days.setdefault(family, []).append(day)
        marks[MARK + family] = limit
    return days, segments, marks


def prune(writer, retention: Retention, now=None, everything: bool = False, dry_run: bool = False) -> dict:
    """Retire every expired day of every family in one commit; returns family -> days retired."""
    days, segments, marks = plan(writer.manifest, retention, now, everything)
    if dry_run:
        return days
    if segments or any(writer.state(k) != v for k, v in marks.items()):
        writer.commit_segments(segments, state=marks)
    if days:
        log.info("pruned %s", {family: len(d) for family, d in days.items()})
    return days
