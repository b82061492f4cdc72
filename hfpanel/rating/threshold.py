"""``threshold``: a metric against a warning and a critical bound (high or low values bad)."""

from __future__ import annotations

import math

from ..collector import ParseResult, SourceError
from .base import (
    NOINFO,
    Rating,
    RatingType,
    band,
    is_number,
    metric_inputs,
    missing_metric,
    num,
    register,
    status_text,
    verdict,
)


def high_is_bad(rule: dict) -> bool:
    """True when high values are bad (explicit ``direction``, else critical above warning)."""
    direction = rule.get("direction")
    if direction:
        return direction == "above"
    return float(rule["critical"]) >= float(rule["warning"])


def check_bounds(rule: dict, fraction: bool = False) -> list[str]:
    """The warning/critical checks ``threshold`` and ``fraction`` share."""
    problems = [
        f"key 'rating.{key}': threshold must be a number, got {rule[key]!r}"
        for key in ("warning", "critical")
        if key in rule and not is_number(rule[key])
    ]
    if is_number(rule.get("warning")) and is_number(rule.get("critical")):
        if rule["warning"] == rule["critical"] and "direction" not in rule:
            problems.append("key 'rating': warning equals critical; give 'direction: above' or 'below'")
        if fraction and not (0 <= rule["warning"] <= 1 and 0 <= rule["critical"] <= 1):
            problems.append("key 'rating': fraction thresholds must lie between 0 and 1")
        if fraction and rule["critical"] < rule["warning"]:
            problems.append("key 'rating': a fraction's critical bound must not be below its warning bound")
    return problems


@register
class Threshold(RatingType):
    name = "threshold"
    required = frozenset({"metric", "warning", "critical"})
    optional = frozenset({"direction"})

    def check_values(self, rule):
        problems = check_bounds(rule)
        if rule.get("direction") not in (None, "above", "below"):
            problems.append(f"key 'rating.direction': must be 'above' or 'below', got {rule['direction']!r}")
        return problems

    def evaluate(self, rule: dict, result: ParseResult) -> Rating:
        name = rule["metric"]
        if name not in result.metrics:
            raise SourceError(missing_metric(name, result))
        value = float(result.metrics[name])
        if math.isnan(value):
            return Rating(NOINFO, f"{name} has no value", {"metric": name, "value": None})
        above = high_is_bad(rule)
        status = band(value, float(rule["warning"]), float(rule["critical"]), above)
        word = "above" if above else "below"
        said = {
            1.0: "fine",
            0.5: f"warning {word} {num(rule['warning'])}",
            0.0: f"critical {word} {num(rule['critical'])}",
        }[status]
        return Rating(status, f"{name} = {num(value)} ({said})", {"metric": name, "value": value})

    def describe(self, rule: dict) -> str:
        above = high_is_bad(rule)
        side = "at or above" if above else "at or below"
        return (
            f"threshold on metric {rule['metric']}: warning {side} {num(rule['warning'])}, "
            f"critical {side} {num(rule['critical'])} ({'high' if above else 'low'} values are bad)"
        )

    def decision(self, rule, rating, levels) -> str:
        if rating.inputs.get("value") is None:
            return f"{rule['metric']} has no value → no information"
        side = "at or above" if high_is_bad(rule) else "at or below"
        if rating.status == 0.0:
            where = f"{side} the critical bound {num(rule['critical'])}"
        elif rating.status == 0.5:
            where = f"{side} the warning bound {num(rule['warning'])}"
        else:
            where = f"on the good side of the warning bound {num(rule['warning'])}"
        return (
            f"{rule['metric']} = {num(rating.inputs['value'])}, {where} → {status_text(rating.status)}; "
            f"{verdict(rating, levels)}"
        )

    def inputs(self, rule, result):
        return metric_inputs(rule, result)
