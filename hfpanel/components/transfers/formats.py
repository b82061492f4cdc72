"""Numbers and colours of the transfer views: byte volumes, rates and percentages as a shifter
reads them, and the colour scales of the matrix (efficiency red → green, volume light → dark)."""

from __future__ import annotations

import math

import pandas as pd

from ...units import format_bytes, format_percent, format_rate
from ..style import esc

#: efficiency 0 → red … 1 → green (ColorBrewer RdYlGn, 11 steps)
EFFICIENCY_COLORS = (
    "#a50026",
    "#d73027",
    "#f46d43",
    "#fdae61",
    "#fee08b",
    "#ffffbf",
    "#d9ef8b",
    "#a6d96a",
    "#66bd63",
    "#1a9850",
    "#006837",
)
#: little volume → light … most volume → dark (ColorBrewer Blues, 9 steps)
VOLUME_COLORS = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
CARD = {"background": "#ffffff", "border-radius": "10px", "box-shadow": "0 1px 3px rgba(60,64,67,.3)"}


#: the transfer views' names for the units every table uses (hfpanel.units)
fmt_bytes, fmt_rate, fmt_percent = format_bytes, format_rate, format_percent


def efficiency_color(value) -> str:
    if value is None or pd.isna(value):
        return "#e8eaed"
    return EFFICIENCY_COLORS[max(0, min(10, int(round(float(value) * 10))))]


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
