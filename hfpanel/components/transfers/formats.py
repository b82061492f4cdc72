"""Numbers and colours of the transfer views: byte volumes, rates and percentages as a shifter
reads them, and the colours of the matrix (efficiency by level — ``transfers.efficiency_levels`` —
in the colours of every other view; volume light → dark)."""

from __future__ import annotations

import math

import pandas as pd

from ...transfers.config import EfficiencyLevels
from ...units import format_bytes, format_percent, format_rate
from ..style import LEVEL_COLORS, esc

#: the colour of a pair without transfers
NO_DATA_COLOR = "#e8eaed"
#: little volume → light … most volume → dark (ColorBrewer Blues, 9 steps)
VOLUME_COLORS = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
CARD = {"background": "#ffffff", "border-radius": "10px", "box-shadow": "0 1px 3px rgba(60,64,67,.3)"}


#: the transfer views' names for the units every table uses (hfpanel.units)
fmt_bytes, fmt_rate, fmt_percent = format_bytes, format_rate, format_percent


def efficiency_color(value, levels: EfficiencyLevels | None = None) -> str:
    """The level colour every other view uses (``style.LEVEL_COLORS``) of the efficiency's level:
    thresholds, not a linear scale (a 62 % link is critical, not yellow-green)."""
    level = (levels or EfficiencyLevels()).level(None if value is None or pd.isna(value) else value)
    return NO_DATA_COLOR if level == "noinfo" else LEVEL_COLORS[level]


def efficiency_legend(levels: EfficiencyLevels | None = None) -> list[tuple[str, str, str]]:
    """(colour, level, range) for the matrix's legend: ≥ 90 %, 70–90 %, < 70 %."""
    levels = levels or EfficiencyLevels()
    warning, critical = f"{levels.warning:.0%}", f"{levels.critical:.0%}"
    return [
        (LEVEL_COLORS["ok"], "ok", f"≥ {warning}"),
        (LEVEL_COLORS["warning"], "warning", f"{critical}–{warning}"),
        (LEVEL_COLORS["critical"], "critical", f"< {critical}"),
    ]


def volume_colors(values) -> list[str]:
    """A colour per volume on a log scale between the smallest and largest positive volume."""
    logs = [math.log10(v) if v and v > 0 else None for v in values]
    known = [v for v in logs if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    span = (high - low) or 1.0
    top = len(VOLUME_COLORS) - 1
    return ["#e8eaed" if v is None else VOLUME_COLORS[1 + int(round((v - low) / span * (top - 1)))] for v in logs]


def message_html(text: str, detail: str = "") -> str:
    extra = f'<div class="hf-small hf-muted">{esc(detail)}</div>' if detail else ""
    return f'<div class="hf-noinfo hf-transfers-empty"><b>{esc(text)}</b>{extra}</div>'
