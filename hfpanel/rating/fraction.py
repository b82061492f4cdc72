"""``fraction``: the share of a table's rows in given states (e.g. Rucio rules STUCK/SUSPENDED)."""

from __future__ import annotations

import pandas as pd

from ..collector import ParseResult
from .base import (
    Rating,
    RatingType,
    band,
    named,
    rated_table,
    register,
    row_label,
    status_text,
    verdict,
    with_rated_column,
)
from .threshold import check_bounds


def matching(rule: dict, table: pd.DataFrame) -> pd.Series:
    return table[rule["column"]].astype(str).isin([str(s) for s in rule["states"]])


@register
class Fraction(RatingType):
    name = "fraction"
    required = frozenset({"column", "states", "warning", "critical"})
    optional = frozenset({"table", "empty", "label"})

    def check_values(self, rule):
        problems = check_bounds(rule, fraction=True)
        if "states" in rule and not isinstance(rule["states"], list):
            problems.append("key 'rating.states': must be a list")
        return problems

    def evaluate(self, rule: dict, result: ParseResult) -> Rating:
        table = rated_table(rule, result)
        states = [str(s) for s in rule["states"]]
        total = len(table)
        if total == 0:
            return Rating(float(rule.get("empty", 1.0)), "no rows", {"rows": 0})
        matches = matching(rule, table)
        hits = int(matches.sum())
        share = hits / total
        status = band(share, float(rule["warning"]), float(rule["critical"]), above=True)
        bad = sorted({row_label(table.loc[i], rule.get("label")) for i in table.index[matches]})
        return Rating(
            status,
            f"{hits} of {total} rows ({share:.0%}) {'/'.join(states)}",
            {"rows": total, "matching": hits, "fraction": share, "bad_rows": bad},
        )

    def describe(self, rule: dict) -> str:
        states = "/".join(map(str, rule["states"]))
        return (
            f"fraction of the rows of table {rule.get('table', 'rows')} whose {rule['column']} is {states}: "
            f"warning at {float(rule['warning']):.0%}, critical at {float(rule['critical']):.0%} or more"
        )

    def decision(self, rule, rating, levels) -> str:
        inputs = rating.inputs
        where = f"{rule.get('table', 'rows')}[{rule['column']}]"
        if not inputs.get("rows"):
            return f"fraction over {where}: no rows → {status_text(rating.status)}; {verdict(rating, levels)}"
        states = "/".join(map(str, rule["states"]))
        text = (
            f"{inputs['matching']} of {inputs['rows']} rows ({inputs['fraction']:.0%}) have {rule['column']} "
            f"{states} (warning at {float(rule['warning']):.0%}, critical at {float(rule['critical']):.0%}) "
            f"→ {status_text(rating.status)}; {verdict(rating, levels)}"
        )
        if inputs.get("bad_rows") and rule.get("label"):
            text += f". Those rows: {named(inputs['bad_rows'])}"
        return text

    def inputs(self, rule, result):
        table = result.tables.get(rule.get("table", "rows"), pd.DataFrame())
        if table.empty or rule["column"] not in table.columns:
            return table
        matches = matching(rule, table)
        order = (~matches).sort_values(kind="stable").index
        return (
            pd.concat([pd.DataFrame({"counts": matches}, index=table.index), table], axis=1)
            .loc[order]
            .reset_index(drop=True)
        )

    def prepare(self, rule, result):
        return with_rated_column(rule, result)
