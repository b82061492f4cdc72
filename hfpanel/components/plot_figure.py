"""The analyst's plot as a HoloViews object: curves, areas, bars or a heatmap per series label,
hover and zoom, and the modules' warning/critical/no-information periods shaded behind.

Pure: a frame in (``time, series, group, label, value, count``, as ``PlotBuilder.data``), an
object out, so ``PlotBuilder`` and the transfer views share one palette and one look.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd

from ..levels import CRITICAL, DOWNTIME, NOINFO, WARNING
from .style import LEVEL_COLORS

#: status levels shaded behind the curves
SHADED = (WARNING, CRITICAL, NOINFO, DOWNTIME)
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)


_TOOLTIPS = [("series", "@label"), ("time", "@time{%F %H:%M}"), ("value", "@value{0,0.[000]}"), ("samples", "@count")]
_FORMATTERS = {"@time": "datetime"}


def _colors(labels) -> dict:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def build_plot(
    frame: pd.DataFrame,
    kind: str,
    status: pd.DataFrame,
    title: str,
    height: int = 440,
    bin_seconds: float = 3600,
    window=(None, None),
):
    """The HoloViews object for a series frame: curves/areas/bars per label or a heatmap, with
    hover (series, time, value, samples), zoom and pan, and the shaded status spans."""
    common = dict(
        responsive=True,
        height=height,
        xlabel="time (UTC)",
        show_grid=True,
        tools=["xwheel_zoom", "xpan"],
        active_tools=["xwheel_zoom"],
        title=title,
    )
    start, end = window
    xlim = (start, end) if start is not None and end is not None else (None, None)
    if frame.empty:
        return hv.Curve([], "time", "value").opts(xlim=xlim, **common)
    if start is not None:  # the first bin starts at or before the window (its label is the bin's start)
        last = pd.Timestamp(frame["time"].max())
        right = max(end, last + pd.Timedelta(seconds=bin_seconds)) if kind in ("bar", "heatmap") else end
        xlim = (min(start, pd.Timestamp(frame["time"].min())), right)
    labels = list(dict.fromkeys(frame["label"]))
    colors = _colors(labels)
    ylabel = "value" if len(frame["series"].unique()) > 1 else frame["series"].iloc[0]
    if frame["series"].nunique() == 1 and (frame["group"] != "").any():
        tooltips = [("group", "@label")] + _TOOLTIPS[1:]
    else:
        tooltips = _TOOLTIPS
    hover = dict(hover_tooltips=tooltips, hover_formatters=_FORMATTERS)
    if kind == "heatmap":
        cells = frame[["time", "label", "value", "count"]].astype({"label": object})
        heat = hv.HeatMap(cells, ["time", "label"], ["value", "count"]).opts(
            cmap="viridis",
            colorbar=True,
            tools=["hover", "xwheel_zoom", "xpan"],
            active_tools=["xwheel_zoom"],
            responsive=True,
            height=max(height, 60 + 26 * len(labels)),
            xlabel="time (UTC)",
            ylabel="",
            title=title,
            xlim=xlim,
            **hover,
        )
        return heat
    layers = []
    for label in labels:
        sub = frame[frame["label"] == label]
        color = colors[label]
        if kind == "bar":
            width = pd.Timedelta(seconds=bin_seconds) * 0.85 / len(labels)
            offset = width * labels.index(label)
            rects = pd.DataFrame(
                {
                    "x0": sub["time"] + offset,
                    "y0": 0.0,
                    "x1": sub["time"] + offset + width,
                    "y1": sub["value"],
                    "time": sub["time"],
                    "value": sub["value"],
                    "label": sub["label"],
                    "count": sub["count"],
                }
            )
            layers.append(
                hv.Rectangles(rects, ["x0", "y0", "x1", "y1"], ["time", "value", "label", "count"], label=label).opts(
                    color=color, line_color=color, tools=["hover"], **hover
                )
            )
            continue
        if kind == "area":
            layers.append(hv.Area(sub, "time", "value", label=label).opts(color=color, alpha=0.25, line_alpha=0))
        layers.append(
            hv.Curve(sub, "time", ["value", "label", "count"], label=label).opts(
                color=color, line_width=2, tools=["hover"], hover_mode="vline" if len(labels) <= 4 else "mouse", **hover
            )
        )
    overlay = hv.Overlay(_status_layers(status) + layers)
    return overlay.opts(
        legend_position="right" if len(labels) > 1 else "top_left",
        click_policy="hide",
        ylabel=ylabel,
        xlim=xlim,
        **common,
    )


def _status_layers(status: pd.DataFrame) -> list:
    if status is None or status.empty:
        return []
    layers = []
    for level in SHADED:
        spans = status[status["level"] == level]
        if spans.empty:
            continue
        frame = pd.DataFrame({"start": pd.to_datetime(spans["start"]), "end": pd.to_datetime(spans["end"])})
        layers.append(hv.VSpans(frame, ["start", "end"]).opts(color=LEVEL_COLORS[level], alpha=0.16, line_alpha=0))
        layers.append(
            hv.VLines(frame[["start"]], ["start"]).opts(
                color=LEVEL_COLORS[level], line_width=1.5, line_dash="dashed", alpha=0.8
            )
        )
    return layers
