"""Ratings are configuration, not code.

A module rating turns a ``ParseResult`` into a status float and a message that says why; a category
roll-up turns its modules' statuses into one. Each rating type and roll-up is one small class in
its own file of this package (``base.py`` says what they share); the files are found when the
package is imported, so adding a type is adding a file.

Modules without information are never "fine": a category says how many of its modules have none,
and when too many have none it cannot be green (see ``NoInfoPolicy``). A module whose source
answered only in part is rated on what arrived, says what is missing, and its ``partial`` policy
decides what that costs (see ``partial.py``, ``PartialPolicy``).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from ..collector import ParseResult
from ..levels import DEFAULT_LEVELS, DOWNTIME, NOINFO_STATUS, Levels
from ..units import format_number  # noqa: F401  (re-exported: messages quote numbers this way)
from .base import RATING_TYPES, ROLLUP_TYPES, Rating, RatingType, RollupType, level_reason, status_text

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

from .data_arrived import NO_RULE  # noqa: E402
from .map import map_value  # noqa: E402,F401
from .partial import PartialPolicy  # noqa: E402
from .threshold import high_is_bad as threshold_direction  # noqa: E402,F401


def rating_type(rule: dict | None) -> RatingType:
    """The class that evaluates and explains ``rule`` (None: the "data arrived" rule)."""
    return RATING_TYPES[rule["type"] if rule else NO_RULE]


def rollup_type(rule: dict | None) -> RollupType:
    return ROLLUP_TYPES[(rule or {}).get("type", "worst")]


def check_rating(rule) -> list[str]:
    """Every problem with a module's ``rating:`` as "key 'rating.x': what is wrong"."""
    if rule is None:
        return []
    if not isinstance(rule, dict) or "type" not in rule:
        return ["key 'rating': must be a mapping with a 'type'"]
    kind = rule["type"]
    if kind not in RATING_TYPES or kind == NO_RULE:
        known = ", ".join(sorted(k for k in RATING_TYPES if k != NO_RULE))
        return [f"key 'rating.type': unknown rating {kind!r} (known: {known})"]
    return RATING_TYPES[kind].check(rule)


def rate(rule: dict | None, result: ParseResult, partial=None, levels: Levels | None = None) -> Rating:
    """Rate a parsed result; no rule means fine whenever the data arrived and parsed (HappyFace 3).

    The rule rates what arrived; when parts of the answer are missing, the module's ``partial``
    policy (a ``PartialPolicy`` or its config value; None: the defaults) decides what that means."""
    kind = rating_type(rule)
    rating = kind.evaluate(rule, result)
    if result.message and not kind.own_message:
        rating.message = f"{rating.message}; {result.message}"
    return PartialPolicy.of(partial).apply(rating, result, levels or DEFAULT_LEVELS)


def describe_rule(rule: dict | None) -> str:
    """The rule in one sentence (without a final full stop)."""
    return rating_type(rule).describe(rule)


# -- categories ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NoInfoPolicy:
    """When modules without information stop a category from looking fine.

    Of the modules not in downtime, more than a share ``unknown`` without information makes the
    category itself "no information"; more than ``warning`` caps it at warning (it can be worse,
    never better). The message always says "n of m without information". Defaults: warning above a
    quarter, no information above half (one of two modules without information: warning; 14 of 16:
    no information). Nagios keeps UNKNOWN apart from OK; HappyFace 3 flagged missing data on the
    category."""

    warning: float = 0.25
    unknown: float = 0.5
    #: the status a capped category gets: the middle of the warning band of the default levels
    cap: float = 0.5

    KEYS = ("noinfo_warning", "noinfo_unknown")

    @classmethod
    def of(cls, rule: dict | None) -> NoInfoPolicy:
        rule = rule or {}
        return cls(
            warning=float(rule.get("noinfo_warning", cls.warning)),
            unknown=float(rule.get("noinfo_unknown", cls.unknown)),
        )


def check_rollup(raw, module_count: int) -> tuple[dict, list[str]]:
    """A category's ``rollup:`` (a name or a mapping) as a rule dict, and its problems."""
    rule = {"type": raw} if isinstance(raw, str) else (raw or {"type": "worst"})
    if not isinstance(rule, dict) or rule.get("type") not in ROLLUP_TYPES:
        return {"type": "worst"}, [f"key 'rollup': unknown roll-up {raw!r} (known: {', '.join(ROLLUP_TYPES)})"]
    kind = ROLLUP_TYPES[rule["type"]]
    problems = kind.check(rule, module_count)
    for key in sorted(set(rule) - {"type"} - set(kind.optional) - set(NoInfoPolicy.KEYS)):
        problems.append(f"key 'rollup.{key}': unknown for a {rule['type']} roll-up")
    for key in NoInfoPolicy.KEYS:
        value = rule.get(key)
        if value is not None and (
            not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1
        ):
            problems.append(f"key 'rollup.{key}': a share between 0 and 1, got {value!r}")
    return rule, problems


def rollup(
    rule: dict | None, statuses: list[float], weights: list[float] | None = None, downtime: list[bool] | None = None
) -> Rating:
    """Roll module statuses up into a category status.

    Modules in an announced downtime are left out and named; modules without information are left
    out of the value, always counted in the message, and too many of them make the category
    warning or "no information" (``NoInfoPolicy``). A category with no information at all is -1
    (``inputs["downtime"]`` says when downtime is the reason)."""
    rule = rule or {"type": "worst"}
    weights = weights or [1.0] * len(statuses)
    downtime = downtime or [False] * len(statuses)
    known = [(s, w) for s, w, d in zip(statuses, weights, downtime) if s is not None and s >= 0 and not d]
    in_downtime = sum(bool(d) for d in downtime)
    counted = len(statuses) - in_downtime
    missing = counted - len(known)
    note = (f"; {missing} of {counted} without information" if missing else "") + (
        f"; {in_downtime} in downtime" if in_downtime else ""
    )
    inputs = {"modules": len(statuses), "without_information": missing, "downtime": in_downtime}
    if not known:
        if in_downtime:
            return Rating(
                NOINFO_STATUS,
                f"{in_downtime} of {len(statuses)} modules in downtime{note if missing else ''}",
                {**inputs, "in_downtime": True},
            )
        return Rating(
            NOINFO_STATUS, f"{missing} of {counted} modules without information" if counted else "no modules", inputs
        )
    kind, policy = rollup_type(rule), NoInfoPolicy.of(rule)
    share = missing / counted if counted else 0.0
    if share > policy.unknown and missing:
        return Rating(NOINFO_STATUS, f"{missing} of {counted} modules without information", inputs)
    if len(known) < kind.required_known(rule):
        return Rating(
            NOINFO_STATUS,
            f"only {len(known)} of {counted} modules have information, {kind.required_known(rule)} are needed{note}",
            inputs,
        )
    status, message = kind.evaluate(rule, [s for s, _ in known], [w for _, w in known])
    if share > policy.warning and status > policy.cap:
        status = policy.cap
        note = note.replace(" without information", " without information, so at most warning", 1)
    return Rating(status, message + note, inputs)


def is_downtime_rollup(rating: Rating) -> bool:
    """True when a category has no information because its modules are in downtime."""
    return rating.status < 0 and bool(rating.inputs.get("in_downtime"))


__all__ = [
    "Rating",
    "RatingType",
    "RollupType",
    "RATING_TYPES",
    "ROLLUP_TYPES",
    "NO_RULE",
    "NoInfoPolicy",
    "PartialPolicy",
    "rate",
    "rollup",
    "rating_type",
    "rollup_type",
    "check_rating",
    "check_rollup",
    "describe_rule",
    "is_downtime_rollup",
    "level_reason",
    "status_text",
    "DOWNTIME",
    "Levels",
]
