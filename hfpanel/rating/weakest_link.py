"""``weakest_link``: every row of a table is rated; the worst row decides (HappyFace 4)."""

from __future__ import annotations

import pandas as pd

from ..collector import ParseResult
from .base import (
    NOINFO,
    Rating,
    RatingType,
    named,
    rated_table,
    register,
    row_label,
    status_text,
    verdict,
    with_rated_column,
)
from .map import check_map, describe_map, map_value


def row_statuses(rule: dict, table: pd.DataFrame) -> pd.Series:
    """Each row's status: its value through the map, or the column itself when it holds statuses."""
    column, mapping = rule["column"], rule.get("map")
    if mapping:
        default = rule.get("default", NOINFO)
        return table[column].map(lambda v: float(map_value(mapping, v, default)))
    return pd.to_numeric(table[column], errors="coerce").fillna(NOINFO)


@register
class WeakestLink(RatingType):
    name = "weakest_link"
    required = frozenset({"column"})
    optional = frozenset({"table", "map", "default", "label", "empty"})

    def check_values(self, rule):
        return check_map(rule)

    def evaluate(self, rule: dict, result: ParseResult) -> Rating:
        table = rated_table(rule, result)
        column = rule["column"]
        if table.empty:
            return Rating(float(rule.get("empty", 1.0)), "no rows", {"rows": 0})
        statuses = row_statuses(rule, table)
        rated = statuses[statuses >= 0]
        if rated.empty:
            return Rating(NOINFO, f"no row has a known {column}", {"rows": len(table)})
        worst_index = rated.idxmin()
        worst = float(rated.loc[worst_index])
        not_fine = int((rated < 1.0).sum())
        row = table.loc[worst_index]
        label = row_label(row, rule.get("label"))
        bad = sorted({row_label(table.loc[i], rule.get("label")) for i in rated.index[rated < 1.0]})
        if worst >= 1.0:
            message = f"all {len(rated)} rows fine"
        else:
            message = f"worst: {label} {column}={row[column]} ({not_fine} of {len(table)} rows not fine)"
        return Rating(
            worst,
            message,
            {
                "rows": len(table),
                "not_fine": not_fine,
                "worst_row": label,
                "worst_value": str(row[column]),
                "bad_rows": bad,
            },
        )

    def describe(self, rule: dict) -> str:
        text = f"weakest link over {rule.get('table', 'rows')}[{rule['column']}]: the worst row decides"
        if rule.get("map"):
            text += f"; values count as {describe_map(rule)}"
        else:
            text += "; the column holds statuses (1 fine … 0 critical)"
        if rule.get("label"):
            text += f"; rows are named by {rule['label']}"
        return text

    def decision(self, rule, rating, levels) -> str:
        where, inputs = f"{rule.get('table', 'rows')}[{rule['column']}]", rating.inputs
        if not inputs.get("rows"):
            return f"weakest link over {where}: no rows → {status_text(rating.status)}; {verdict(rating, levels)}"
        if "worst_row" not in inputs:
            return f"weakest link over {where}: {rating.message} → no information"
        if rating.status >= 1.0:
            return (
                f"weakest link over {where}: all {inputs['rows']} rows fine → {status_text(rating.status)}; "
                f"{verdict(rating, levels)}"
            )
        text = (
            f"weakest link over {where}: {inputs['worst_row']} = {inputs['worst_value']} → "
            f"{status_text(rating.status)}; {verdict(rating, levels)}"
        )
        if inputs.get("bad_rows"):
            text += f". {inputs['not_fine']} of {inputs['rows']} rows not fine: {named(inputs['bad_rows'])}"
        return text

    def inputs(self, rule, result):
        table = result.tables.get(rule.get("table", "rows"), pd.DataFrame())
        if table.empty or rule["column"] not in table.columns:
            return table
        statuses = row_statuses(rule, table)
        known = statuses[statuses >= 0]
        worst = known.min() if not known.empty else None
        front = pd.DataFrame(
            {"row_status": statuses, "decides": statuses == worst if worst is not None else False}, index=table.index
        )
        order = statuses.where(statuses >= 0, 2.0).sort_values(kind="stable").index
        return pd.concat([front, table], axis=1).loc[order].reset_index(drop=True)

    def prepare(self, rule, result):
        return with_rated_column(rule, result)
