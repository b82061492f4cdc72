"""The monthly A/R report as a PDF a site manager reads: matplotlib's PdfPages (a kept library; no
browser, no server), A4 landscape.

Page 1: the month's figures and the daily A/R bars (days without data marked, never drawn as 100 %);
page 2: the month's status strip (site, groups, modules); then the table per scope and every
correction recorded. Text from configurations and corrections is set as plain text (no mathtext).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (before any figure: no display here)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..availability.ar import STATE_COLORS  # noqa: E402
from ..clock import utcnow  # noqa: E402
from ..units import fmt_time  # noqa: E402
from .export import corrections_frame, percent  # noqa: E402

A4 = (11.69, 8.27)
A_COLOR, R_COLOR = "#1a73e8", "#7baaf7"
ROWS_PER_PAGE = 28


def plain(text) -> str:
    """Text shown as written: '$' would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _title(figure: Figure, report, what: str) -> None:
    figure.suptitle(
        plain(f"{report.site or 'site'} — {what}, {report.start:%B %Y}"), x=0.04, ha="left", fontsize=15, weight="bold"
    )
    figure.text(
        0.04,
        0.915,
        plain(
            f"profile {report.profile} · {fmt_time(report.start)} to {fmt_time(report.end)} · made {fmt_time(utcnow())}"
            " · A = up / (T − unknown), R = up / (T − unknown − scheduled downtime), up = ok + warning"
        ),
        fontsize=8,
        color="#5f6368",
    )


def daily_bars(ax, daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """A and R per day for the site; a day without data is a hatched grey bar labelled '?'."""
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    site = daily[daily["scope"] == "site"].set_index("day").reindex(days)
    x = np.arange(len(days))
    a, r = 100 * site["availability"].to_numpy(float), 100 * site["reliability"].to_numpy(float)
    ax.bar(x - 0.2, np.nan_to_num(a), 0.4, color=A_COLOR, label="availability")
    ax.bar(x + 0.2, np.nan_to_num(r), 0.4, color=R_COLOR, label="reliability")
    unknown = np.isnan(a)
    ax.bar(x[unknown], 100, 0.8, color="none", edgecolor="#bdc1c6", hatch="//", label="no data (unknown)")
    for i in np.flatnonzero(unknown):
        ax.text(x[i], 50, "?", ha="center", va="center", color="#5f6368", fontsize=9)
    ax.set_xticks(x, [f"{d:%d}" for d in days], fontsize=7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_xlabel(f"day of {start:%B %Y} (UTC)")
    ax.legend(loc="lower left", fontsize=8, ncols=3, frameon=False)
    ax.grid(axis="y", color="#e8eaed")
    ax.set_axisbelow(True)


def status_strip(ax, segments: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, limit: int = 30) -> None:
    """One row per scope (site first), coloured by state over the month."""
    order = {"site": 0, "group": 1, "module": 2}
    names = (
        segments[["scope", "name"]]
        .drop_duplicates()
        .assign(o=lambda f: f["scope"].map(order))
        .sort_values("o", kind="stable")
    )[:limit]
    origin = start.value
    for row, (scope, name) in enumerate(zip(names["scope"], names["name"])):
        mine = segments[(segments["scope"] == scope) & (segments["name"] == name)]
        for state, part in mine.groupby("state"):
            spans = [
                ((s.value - origin) / 864e11, (e.value - s.value) / 864e11) for s, e in zip(part["start"], part["end"])
            ]
            ax.broken_barh(spans, (row - 0.4, 0.8), color=STATE_COLORS[state])
    labels = [plain(f"{n}" if s == "module" else f"{s}: {n}") for s, n in zip(names["scope"], names["name"])]
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, (end.value - origin) / 864e11)
    ax.set_xlabel(f"day of {start:%B %Y} (UTC)")
    ax.set_xticks(
        np.arange(0, (end - start).days, 2), [f"{d + 1}" for d in range(0, (end - start).days, 2)], fontsize=7
    )
    ax.legend(
        handles=[Patch(color=c, label=s) for s, c in STATE_COLORS.items()],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncols=5,
        fontsize=8,
        frameon=False,
    )


def _summary_rows(report) -> list[list[str]]:
    original = report.original.summary.set_index(["scope", "name"])
    rows = []
    for row in report.result.summary.itertuples():
        before = original.loc[(row.scope, row.name)] if (row.scope, row.name) in original.index else None
        rows.append(
            [
                row.scope,
                plain(row.name),
                percent(row.availability),
                percent(row.reliability),
                f"{100 * row.unknown_share:.1f} %",
                f"{row.hours_up:.1f} / {row.hours_down:.1f} / {row.hours_downtime:.1f}",
                "" if before is None else f"{percent(before['availability'])} / {percent(before['reliability'])}",
            ]
        )
    return rows


def _table_page(pdf, report, rows: list[list[str]], part: int) -> None:
    figure = Figure(figsize=A4)
    _title(figure, report, "availability per scope" + (f" ({part})" if part > 1 else ""))
    ax = figure.add_axes((0.04, 0.05, 0.92, 0.82))
    ax.axis("off")
    header = ["scope", "name", "A", "R", "unknown", "h up / down / sched. down", "original A / R"]
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.25)
    pdf.savefig(figure)


def _corrections_page(pdf, report) -> None:
    figure = Figure(figsize=A4)
    _title(figure, report, "corrections")
    applied = corrections_frame(report)
    lines = ["No corrections recorded for this month."] if applied.empty else []
    for row in applied.itertuples():
        what = (
            f"withdraws {row.withdraws}"
            if row.kind == "withdrawal"
            else f"{fmt_time(row.start)} to {fmt_time(row.end)}, {row.module or 'whole site'}"
        )
        gone = f" — withdrawn by {row.withdrawn_by}" if row.withdrawn_by else ""
        lines.append(f"{row.kind} {row.id}: {what}: {row.reason} ({row.who}, recorded {fmt_time(row.recorded)}){gone}")
    for i, line in enumerate(lines[:40]):
        figure.text(0.04, 0.86 - i * 0.02, plain(line), fontsize=8, wrap=True)
    if len(lines) > 40:
        figure.text(0.04, 0.05, f"… and {len(lines) - 40} more (hfpanel report corrections)", fontsize=8)
    pdf.savefig(figure)


def write_pdf(report, path, store=None) -> None:
    """The report as a PDF at ``path`` (written under a temporary name, then renamed)."""
    from pathlib import Path

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with PdfPages(tmp, metadata={"Title": f"{report.site} A/R {report.start:%Y-%m}", "Creator": "hfpanel"}) as pdf:
        figure = Figure(figsize=A4)
        _title(figure, report, "availability and reliability")
        site = report.result.site()
        before = report.original.site()
        if site is not None:
            facts = [
                ("availability", percent(site["availability"])),
                ("reliability", percent(site["reliability"])),
                ("unknown", f"{100 * site['unknown_share']:.1f} %"),
                (
                    "before corrections",
                    f"{percent(before['availability'])} / {percent(before['reliability'])}"
                    if before is not None
                    else "",
                ),
            ]
            for i, (label, value) in enumerate(facts):
                figure.text(0.04 + i * 0.23, 0.84, value, fontsize=20 if i < 3 else 13, weight="bold")
                figure.text(0.04 + i * 0.23, 0.815, label, fontsize=9, color="#5f6368")
        ax = figure.add_axes((0.06, 0.1, 0.9, 0.66))
        daily_bars(ax, report.result.daily, report.start, report.end)
        ax.set_title("site availability and reliability per day", fontsize=10, loc="left")
        pdf.savefig(figure)

        figure = Figure(figsize=A4)
        _title(figure, report, "status over the month")
        ax = figure.add_axes((0.2, 0.14, 0.77, 0.72))
        status_strip(ax, report.result.segments, report.start, report.end)
        pdf.savefig(figure)

        rows = _summary_rows(report)
        for part, first in enumerate(range(0, max(len(rows), 1), ROWS_PER_PAGE), start=1):
            _table_page(pdf, report, rows[first : first + ROWS_PER_PAGE], part)
        _corrections_page(pdf, report)
    tmp.replace(path)
