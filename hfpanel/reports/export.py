"""An A/R report as people and programs take it: one flat table (CSV), a JSON document, text.

The table has a row per scope (site, group, module) and period — the month, then each day — with
the corrected figures and the original ones (before downtimes added and exclusions) side by side.
Percentages are numbers 0…100 with two decimals in the table, fractions 0…1 in JSON; a scope
without any known time has no A/R (empty / null), never 100.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from ..units import fmt_time

KEYS = ["scope", "name", "period"]


def _periods(result, month_label: str) -> pd.DataFrame:
    summary = result.summary.assign(period=month_label)
    daily = result.daily.assign(period=result.daily["day"].dt.strftime("%Y-%m-%d")).drop(columns="day")
    return pd.concat([summary, daily], ignore_index=True)


def table(report) -> pd.DataFrame:
    """Every scope and period: hours per state, A, R, unknown share, and the original A and R."""
    label = report.start.strftime("%Y-%m") if report.start.day == 1 else f"{report.start:%Y-%m-%d}.."
    corrected = _periods(report.result, label)
    original = _periods(report.original, label)[[*KEYS, "availability", "reliability"]]
    original = original.rename(columns={"availability": "availability_original", "reliability": "reliability_original"})
    frame = corrected.merge(original, on=KEYS, how="left")
    columns = [
        *KEYS,
        "availability",
        "reliability",
        "availability_original",
        "reliability_original",
        "unknown_share",
        "hours",
        "hours_up",
        "hours_down",
        "hours_unknown",
        "hours_downtime",
        "hours_excluded",
        "profile",
    ]
    return frame[columns]


def percent(value) -> str:
    """A fraction as "27.78 %"; "unknown" when nothing was known."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "unknown"
    return f"{100 * float(value):.2f} %"


def to_csv(report, out) -> None:
    frame = table(report)
    for column in ("availability", "reliability", "availability_original", "reliability_original", "unknown_share"):
        frame[column] = (100 * frame[column]).round(2)
    frame.to_csv(out, index=False, float_format="%.4g")


def _records(frame: pd.DataFrame) -> list[dict]:
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


def to_json(report) -> str:
    """The report as one JSON document (fractions 0…1, null for unknown)."""
    return json.dumps(
        {
            "site": report.site,
            "profile": report.profile,
            "profiles": report.profiles,
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "definitions": {
                "up": "ok + warning",
                "availability": "up / (total - unknown - excluded)",
                "reliability": "up / (total - unknown - excluded - scheduled downtime)",
            },
            "rows": _records(table(report)),
            "corrections": _records(corrections_frame(report)),
        },
        indent=1,
    )


def corrections_frame(report) -> pd.DataFrame:
    """Every correction recorded for the window, applied or withdrawn."""
    frame = report.corrections
    if frame.empty:
        return frame
    overlapping = (frame["kind"] == "withdrawal") | (
        (pd.to_datetime(frame["end"]) > report.start) & (pd.to_datetime(frame["start"]) < report.end)
    )
    return frame[overlapping].reset_index(drop=True)


def text(report) -> str:
    """What ``hfpanel report ar`` prints: the month per scope, then the corrections."""
    lines = [
        f"{report.site or 'site'} — availability/reliability {fmt_time(report.start)} to {fmt_time(report.end)}, "
        f"profile {report.profile}",
        "  A = up / (T − unknown), R = up / (T − unknown − scheduled downtime); up = ok + warning",
        "",
    ]
    summary = report.result.summary
    original = report.original.summary.set_index(["scope", "name"])
    width = max([len(str(n)) for n in summary["name"]] + [4])
    lines.append(f"  {'scope':<6} {'name':<{width}} {'A':>9} {'R':>9} {'unknown':>8}  original A / R")
    for row in summary.itertuples():
        before = original.loc[(row.scope, row.name)] if (row.scope, row.name) in original.index else None
        was = f"{percent(before['availability'])} / {percent(before['reliability'])}" if before is not None else ""
        lines.append(
            f"  {row.scope:<6} {row.name:<{width}} {percent(row.availability):>9} {percent(row.reliability):>9} "
            f"{100 * row.unknown_share:>7.1f}%  {was}"
        )
    applied = corrections_frame(report)
    lines.append("")
    if applied.empty:
        lines.append("  no corrections recorded")
    for row in applied.itertuples():
        what = (
            f"withdraws {row.withdraws}"
            if row.kind == "withdrawal"
            else f"{fmt_time(row.start)} to {fmt_time(row.end)} {row.module or 'whole site'}"
        )
        gone = f" (withdrawn by {row.withdrawn_by})" if row.withdrawn_by else ""
        lines.append(f"  {row.kind} {row.id}: {what} — {row.reason} ({row.who}, {fmt_time(row.recorded)}){gone}")
    return "\n".join(lines)
