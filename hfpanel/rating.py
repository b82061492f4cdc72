"""Ratings are configuration, not code.

A module rating turns a ``ParseResult`` into a status float and a message that says why; a category
roll-up turns its modules' statuses into one. Each rule also reports the inputs that decided it,
so "why this colour" can be answered from the store.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from .collector import ParseResult, SourceError
from .levels import NOINFO_STATUS

RATING_TYPES = ("threshold", "weakest_link", "fraction", "map")
ROLLUP_TYPES = ("worst", "weighted", "k_of_n")


@dataclasses.dataclass
class Rating:
    status: float
    message: str
    inputs: dict = dataclasses.field(default_factory=dict)


def _band(value: float, warning: float, critical: float, above: bool) -> float:
    """1.0 inside the good side, 0.5 past the warning bound, 0.0 past the critical bound."""
    bad = (lambda v, bound: v >= bound) if above else (lambda v, bound: v <= bound)
    if bad(value, critical):
        return 0.0
    if bad(value, warning):
        return 0.5
    return 1.0


def threshold_direction(rule: dict) -> bool:
    """True when high values are bad (explicit ``direction`` or critical above warning)."""
    direction = rule.get("direction")
    if direction:
        return direction == "above"
    return float(rule["critical"]) >= float(rule["warning"])


def format_number(value) -> str:
    """Numbers as a shifter reads them: 0.93, 352, 41.3T (bytes, jobs, … of any size)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    for size, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


def _rate_threshold(rule: dict, result: ParseResult) -> Rating:
    name = rule["metric"]
    if name not in result.metrics:
        raise SourceError(f"metric {name!r} missing from the data (have: {', '.join(sorted(result.metrics)) or 'none'})")
    value = float(result.metrics[name])
    if math.isnan(value):
        return Rating(NOINFO_STATUS, f"{name} has no value", {"metric": name, "value": None})
    above = threshold_direction(rule)
    status = _band(value, float(rule["warning"]), float(rule["critical"]), above)
    word = "above" if above else "below"
    verdict = {1.0: "fine", 0.5: f"warning {word} {format_number(rule['warning'])}", 0.0: f"critical {word} {format_number(rule['critical'])}"}[status]
    return Rating(status, f"{name} = {format_number(value)} ({verdict})", {"metric": name, "value": value})


def _table(rule: dict, result: ParseResult) -> pd.DataFrame:
    name = rule.get("table", "rows")
    if name not in result.tables:
        raise SourceError(f"table {name!r} missing from the data")
    table = result.tables[name]
    column = rule["column"]
    if column not in table.columns:
        raise SourceError(f"column {column!r} missing from table {name!r} (have: {', '.join(map(str, table.columns))})")
    return table


def map_value(mapping: dict, value, default):
    if value in mapping:
        return mapping[value]
    text = str(value)
    for key, status in mapping.items():
        if str(key) == text:
            return status
    return default


def _row_label(row: pd.Series, label) -> str:
    if label and label in row.index:
        return str(row[label])
    return f"row {row.name}"


def _rate_weakest_link(rule: dict, result: ParseResult) -> Rating:
    table = _table(rule, result)
    column, mapping = rule["column"], rule.get("map")
    if table.empty:
        status = float(rule.get("empty", 1.0))
        return Rating(status, "no rows", {"rows": 0})
    if mapping:
        default = rule.get("default", NOINFO_STATUS)
        statuses = table[column].map(lambda v: float(map_value(mapping, v, default)))
    else:
        statuses = pd.to_numeric(table[column], errors="coerce").fillna(NOINFO_STATUS)
    rated = statuses[statuses >= 0]
    if rated.empty:
        return Rating(NOINFO_STATUS, f"no row has a known {column}", {"rows": len(table)})
    worst_index = rated.idxmin()
    worst = float(rated.loc[worst_index])
    not_fine = int((rated < 1.0).sum())
    row = table.loc[worst_index]
    label = _row_label(row, rule.get("label"))
    bad = sorted({_row_label(table.loc[i], rule.get("label")) for i in rated.index[rated < 1.0]})
    if worst >= 1.0:
        message = f"all {len(rated)} rows fine"
    else:
        message = f"worst: {label} {column}={row[column]} ({not_fine} of {len(table)} rows not fine)"
    return Rating(worst, message, {"rows": len(table), "not_fine": not_fine, "worst_row": label,
                                   "worst_value": str(row[column]), "bad_rows": bad})


def _rate_fraction(rule: dict, result: ParseResult) -> Rating:
    table = _table(rule, result)
    states = [str(s) for s in rule["states"]]
    total = len(table)
    if total == 0:
        return Rating(float(rule.get("empty", 1.0)), "no rows", {"rows": 0})
    matching = table[rule["column"]].astype(str).isin(states)
    hits = int(matching.sum())
    fraction = hits / total
    status = _band(fraction, float(rule["warning"]), float(rule["critical"]), above=True)
    message = f"{hits} of {total} rows ({fraction:.0%}) {'/'.join(states)}"
    bad = sorted({_row_label(table.loc[i], rule.get("label")) for i in table.index[matching]})
    return Rating(status, message, {"rows": total, "matching": hits, "fraction": fraction, "bad_rows": bad})


def _rate_map(rule: dict, result: ParseResult) -> Rating:
    name = rule["metric"]
    if name not in result.metrics:
        raise SourceError(f"metric {name!r} missing from the data")
    value = result.metrics[name]
    key = int(value) if float(value).is_integer() else value
    status = float(map_value(rule["map"], key, rule.get("default", NOINFO_STATUS)))
    return Rating(status, result.message or f"{name} = {format_number(value)}", {"metric": name, "value": value})


_RULES = {"threshold": _rate_threshold, "weakest_link": _rate_weakest_link, "fraction": _rate_fraction, "map": _rate_map}


def rate(rule: dict | None, result: ParseResult) -> Rating:
    """Rate a parsed result; no rule means fine whenever the data arrived and parsed (HappyFace 3)."""
    if not rule:
        return Rating(1.0, result.message or "data received", {})
    rating = _RULES[rule["type"]](rule, result)
    if result.message and rule["type"] != "map":
        rating.message = f"{rating.message}; {result.message}"
    return rating


def rollup(rule: dict | None, statuses: list[float], weights: list[float] | None = None,
           downtime: list[bool] | None = None) -> Rating:
    """Roll module statuses up into a category status. Modules without information, and modules
    in an announced downtime, are left out of the value but named in the message; a category with
    no information at all is -1 (``inputs["downtime"]`` says when downtime is the reason)."""
    rule = rule or {"type": "worst"}
    weights = weights or [1.0] * len(statuses)
    downtime = downtime or [False] * len(statuses)
    known = [(s, w) for s, w, d in zip(statuses, weights, downtime) if s is not None and s >= 0 and not d]
    in_downtime = sum(bool(d) for d in downtime)
    missing = len(statuses) - len(known) - in_downtime
    note = (f"; {missing} without information" if missing else "") + (f"; {in_downtime} in downtime" if in_downtime else "")
    if not known:
        if in_downtime:
            return Rating(NOINFO_STATUS, f"{in_downtime} of {len(statuses)} modules in downtime{note if missing else ''}",
                          {"modules": len(statuses), "downtime": in_downtime})
        return Rating(NOINFO_STATUS, f"no module has information ({len(statuses)} modules)")
    kind = rule["type"]
    values = [s for s, _ in known]
    if kind == "worst":
        status = min(values)
        message = f"worst of {len(values)} modules"
    elif kind == "weighted":
        total = sum(w for _, w in known)
        status = sum(s * w for s, w in known) / total if total > 0 else min(values)
        message = f"weighted mean of {len(values)} modules"
    elif kind == "k_of_n":
        k = int(rule["k"])
        ranked = sorted(values, reverse=True)
        status = ranked[min(k, len(ranked)) - 1]
        message = f"best {k} of {len(values)} modules at least this good"
    else:  # config validation makes this unreachable; keep a loud failure for library users
        raise ValueError(f"unknown roll-up {kind!r}")
    return Rating(status, message + note, {"modules": len(statuses), "without_information": missing})


def is_downtime_rollup(rating: Rating) -> bool:
    return rating.status < 0 and bool(rating.inputs.get("downtime"))
