"""``map``: a metric's value looked up in a table of statuses (e.g. a Nagios exit code 0/1/2/3)."""

from __future__ import annotations

from ..collector import ParseResult, SourceError
from .base import (
    NOINFO,
    Rating,
    RatingType,
    is_number,
    metric_inputs,
    missing_metric,
    num,
    register,
    status_text,
    verdict,
)


def map_value(mapping: dict, value, default):
    """``mapping[value]``, also when YAML made the key a string and the data a number (or back)."""
    if value in mapping:
        return mapping[value]
    text = str(value)
    for key, status in mapping.items():
        if str(key) == text:
            return status
    return default


def check_map(rule: dict) -> list[str]:
    """The value → status table's checks (``map`` and ``weakest_link`` share them)."""
    if "map" not in rule:
        return []
    if not isinstance(rule["map"], dict):
        return ["key 'rating.map': must be a mapping of value -> status"]
    return [
        f"key 'rating.map.{value}': status must be -1 or within 0..1, got {status!r}"
        for value, status in rule["map"].items()
        if not is_number(status) or not (status == -1 or 0 <= status <= 1)
    ]


def describe_map(rule: dict) -> str:
    pairs = ", ".join(f"{k} → {status_text(v)}" for k, v in rule["map"].items())
    return f"{pairs}; any other value → {status_text(rule.get('default', NOINFO))}"


@register
class Map(RatingType):
    name = "map"
    required = frozenset({"metric", "map"})
    optional = frozenset({"default"})

    def check_values(self, rule):
        return check_map(rule)

    def evaluate(self, rule: dict, result: ParseResult) -> Rating:
        name = rule["metric"]
        if name not in result.metrics:
            raise SourceError(missing_metric(name, result))
        value = result.metrics[name]
        key = int(value) if float(value).is_integer() else value
        status = float(map_value(rule["map"], key, rule.get("default", NOINFO)))
        return Rating(status, result.message or f"{name} = {num(value)}", {"metric": name, "value": value})

    def describe(self, rule: dict) -> str:
        return f"map of metric {rule['metric']}: {describe_map(rule)}"

    def decision(self, rule, rating, levels) -> str:
        value = rating.inputs.get("value")
        shown = num(int(value) if value is not None and float(value).is_integer() else value)
        return f"{rule['metric']} = {shown} → {status_text(rating.status)} (from the map); {verdict(rating, levels)}"

    def inputs(self, rule, result):
        return metric_inputs(rule, result)

    #: the source's own words (e.g. a Nagios plugin's first line) are the message, not appended
    own_message = True
