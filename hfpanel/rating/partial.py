"""Partial answers: what a module's status means when part of its source's answer is missing.

A collector rates what arrived and lists what did not (``ParseResult.missing``: which pools, rows,
shards, and why; ``ParseResult.expected``: how many of each kind there were). This module is the one
place that gives that a meaning, the same for every collector:

* the rule is applied to what arrived, as if that were all;
* then the module's ``partial`` policy decides: ``level`` is the best level a partial answer can
  have -- ``warning`` (the default: something is missing, somebody should look), ``ok`` (only said
  in the message), ``critical`` or ``noinfo``; and when more than ``noinfo_above`` (default half)
  of the parts of one kind are missing, the rest says too little: no information;
* the message starts with what is missing, named: "2 of 40 pools missing: pool_a (HTTP 500), …".

Configuration: the module key ``partial:`` (or ``defaults: partial:`` for every module) -- a level
name, or ``{level: warning, noinfo_above: 0.5}``; a collector may ship its own default
(``Collector.default_partial``). The policy is stored with each run's configuration, and the list of
missing parts with each module's status, so "why this colour" explains a past status as decided.
"""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

from ..collector import Missing, ParseResult
from ..levels import CRITICAL, DEFAULT_LEVELS, NOINFO, NOINFO_STATUS, OK, WARNING, Levels
from ..units import format_percent, plural
from .base import NAMED_ROWS, Rating, status_text

#: at most this many missing parts are stored with a run (the counts are always kept)
STORED_ITEMS = 100


def warning_cap(levels: Levels) -> float:
    """The status a result capped at warning gets: 0.5 when that is inside the warning band of
    ``levels`` (the defaults), else the band's middle."""
    return 0.5 if levels.warning <= 0.5 < levels.ok else (levels.warning + levels.ok) / 2


def counts(result: ParseResult) -> dict[str, int]:
    """Missing parts per kind, each part counted once (two problems in one row are one row)."""
    seen: dict[str, set] = {}
    for index, item in enumerate(result.missing):  # unnamed parts (beyond those stored) each count
        seen.setdefault(item.what, set()).add(item.key or f"\0{index}")
    return {what: len(keys) for what, keys in seen.items()}


def shares(result: ParseResult) -> dict[str, float | None]:
    """The share missing of each kind (None where the source did not say how many there were)."""
    return {
        what: min(1.0, n / result.expected[what]) if result.expected.get(what) else None
        for what, n in counts(result).items()
    }


def summary(result: ParseResult, limit: int = NAMED_ROWS) -> str:
    """ "2 of 40 pools missing: pool_a (HTTP 500), pool_b (timed out)"; kinds joined by "; "."""
    parts = []
    for what, n in counts(result).items():
        total = result.expected.get(what)
        items = [m for m in result.missing if m.what == what and m.key]
        named = ", ".join(f"{m.key} ({m.reason})" if m.reason else m.key for m in items[:limit])
        more = n - min(len(items), limit)
        head = f"{n} of {total} {plural(total, what)}" if total else f"{n} {plural(n, what)}"
        tail = f"{named} and {more} more" if named and more > 0 else named
        parts.append(f"{head} missing" + (f": {tail}" if tail else ""))
    return "; ".join(parts)


@dataclasses.dataclass(frozen=True)
class PartialPolicy:
    """What a partial answer means: at most ``level``; no information above ``noinfo_above`` missing."""

    level: str = WARNING
    noinfo_above: float = 0.5

    LEVELS: ClassVar[tuple] = (OK, WARNING, CRITICAL, NOINFO)
    KEYS: ClassVar[tuple] = ("level", "noinfo_above")

    @classmethod
    def of(cls, raw) -> PartialPolicy:
        """The policy of a config value: None (the defaults), a level name, or a mapping."""
        if isinstance(raw, PartialPolicy):
            return raw
        if not raw:
            return cls()
        if isinstance(raw, str):
            return cls(level=raw)
        return cls(level=raw.get("level", cls.level), noinfo_above=float(raw.get("noinfo_above", cls.noinfo_above)))

    @classmethod
    def check(cls, raw, key: str = "partial") -> list[str]:
        """Problems with a ``partial:`` value, as "key 'partial.x': what is wrong"."""
        if raw is None:
            return []
        if isinstance(raw, str):
            raw = {"level": raw}
        if not isinstance(raw, dict):
            return [f"key '{key}': a level ({', '.join(cls.LEVELS)}) or {{level, noinfo_above}}, got {raw!r}"]
        problems = [
            f"key '{key}.{k}': unknown (known: {', '.join(cls.KEYS)})" for k in sorted(set(raw) - set(cls.KEYS))
        ]
        if "level" in raw and raw["level"] not in cls.LEVELS:
            problems.append(f"key '{key}.level': one of {', '.join(cls.LEVELS)}, got {raw['level']!r}")
        share = raw.get("noinfo_above")
        if share is not None and (
            not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1
        ):
            problems.append(f"key '{key}.noinfo_above': a share between 0 and 1, got {share!r}")
        return problems

    def as_rule(self) -> dict:
        """The policy as stored with a run's configuration."""
        return {"level": self.level, "noinfo_above": self.noinfo_above}

    def describe(self) -> str:
        best = {
            OK: "its level unchanged (the message says what is missing)",
            WARNING: "at most warning",
            CRITICAL: "critical",
            NOINFO: "no information",
        }[self.level]
        tail = (
            f"; more than {format_percent(self.noinfo_above)} of one kind missing: no information"
            if self.level != NOINFO and self.noinfo_above < 1
            else ""
        )
        return f"an answer with parts missing is rated on what arrived, then {best}{tail}"

    def apply(self, rating: Rating, result: ParseResult, levels: Levels = DEFAULT_LEVELS) -> Rating:
        """``rating`` (of what arrived) as this policy makes it when ``result`` has parts missing."""
        if not result.missing:
            return rating
        note = summary(result)
        known = [s for s in shares(result).values() if s is not None]
        worst = max(known, default=None)
        status, effect = rating.status, ""
        if status >= 0:
            if (worst is not None and worst > self.noinfo_above) or self.level == NOINFO:
                status = NOINFO_STATUS
                effect = (
                    f"more than {format_percent(self.noinfo_above)} missing, so no information"
                    if self.level != NOINFO
                    else "so no information"
                )
            elif self.level == CRITICAL and status > 0.0:
                status, effect = 0.0, "so critical"
            elif self.level == WARNING and status > warning_cap(levels):
                status, effect = warning_cap(levels), "so at most warning"
        inputs = {
            **rating.inputs,
            "missing": len(result.missing),
            "missing_share": worst,
            "rated_status": rating.status,
            "partial": self.as_rule(),
        }
        head = f"{note}, {effect}" if effect else note
        message = (
            f"no information: {head}; {rating.message}" if status < 0 <= rating.status else f"{head}; {rating.message}"
        )
        return Rating(status, message, inputs)

    def decision(self, rating: Rating, result: ParseResult, levels: Levels = DEFAULT_LEVELS) -> str:
        """The sentence "why this colour" says about a partial answer (empty when nothing is missing)."""
        if not result.missing:
            return ""
        before = rating.inputs.get("rated_status", rating.status)
        changed = (
            f"the rule gave {status_text(before)} on what arrived, the policy makes it {status_text(rating.status)}"
            if before != rating.status
            else f"the rule gave {status_text(before)} on what arrived, which the policy leaves"
        )
        return (
            f"Partial answer: {summary(result)}. Policy: {self.describe()} — {changed} → "
            f"{levels.level(rating.status).upper()}"
        )


def reapply(statuses, stored_missing, policy, levels: Levels = DEFAULT_LEVELS) -> list[float]:
    """``statuses`` of what arrived (e.g. re-rated under another rule), each as ``policy`` makes it
    given the missing parts stored with its run (``module_status.missing``): a what-if re-rates a
    partial run as partial, as the run itself was decided."""
    policy = PartialPolicy.of(policy)
    out = []
    for status, text in zip(statuses, stored_missing):
        missing, expected = from_json(text)
        if missing and status is not None and status == status:  # NaN stays as it is
            status = policy.apply(
                Rating(float(status), ""), ParseResult(missing=missing, expected=expected), levels
            ).status
        out.append(status)
    return out


# -- stored with each module's status ---------------------------------------------------------------
def to_json(result: ParseResult | None) -> str:
    """The missing parts of ``result`` as stored in ``module_status.missing`` ("" when none)."""
    if result is None or not result.missing:
        return ""
    return json.dumps(
        {
            "expected": result.expected,
            "counts": counts(result),
            "items": [m.as_dict() for m in result.missing[:STORED_ITEMS]],
        },
        separators=(",", ":"),
    )


def from_json(text) -> tuple[list[Missing], dict[str, int]]:
    """``(missing, expected)`` from a stored ``missing`` value; parts beyond those stored are kept
    as unnamed ones, so shares and counts are as they were."""
    if not isinstance(text, str) or not text:
        return [], {}
    doc = json.loads(text)
    items = [Missing(str(i["what"]), str(i["key"]), str(i.get("reason", ""))) for i in doc.get("items", [])]
    for what, n in doc.get("counts", {}).items():
        shown = len({m.key for m in items if m.what == what})
        items += [Missing(what, "", "") for _ in range(int(n) - shown)]
    return items, {str(k): int(v) for k, v in doc.get("expected", {}).items()}
