"""The analyst's plot as a HoloViews object: curves, areas, bars or a heatmap per series label,
hover and zoom, and the modules' warning/critical/no-information periods shaded behind.

Pure: a frame in (``time, series, group, label, value, count``, as ``PlotBuilder.data``), an
object out, so ``PlotBuilder`` and the transfer views share one palette and one look.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
from bokeh.models import CustomJSTickFormatter, NoOverlap

from ..levels import CRITICAL, DOWNTIME, NOINFO, WARNING
from ..units import unit_of
from .style import LEVEL_COLORS
from .tables import tick_code

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
#: the words of an axis per unit (``hfpanel.units.unit_of`` of the series' column)
UNIT_WORDS = {
    "bytes": "bytes",
    "rate": "bytes/s",
    "seconds": "seconds",
    "millis": "milliseconds",
    "percent": "fraction",
    "id": "id",
    None: "",
}


def _colors(labels) -> dict:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def series_unit(series: str) -> str | None:
    """The unit of a series (``module:metric`` or ``module.table:column``) by its column's name."""
    return unit_of(str(series).split(":", 1)[-1])


def axes(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Series → (the name of its y axis' dimension, the axis label): one axis per unit, in the
    order the series come; one axis only when every series has the same unit."""
    series = list(dict.fromkeys(frame["series"]))
    units = list(dict.fromkeys(series_unit(s) for s in series))
    out = {}
    for s in series:
        index = units.index(series_unit(s))
        members = [m for m in series if series_unit(m) == series_unit(s)]
        word = UNIT_WORDS.get(series_unit(s), "")
        label = ", ".join(members) if len(members) <= 2 else f"{members[0]} …"
        out[s] = ("value" if index == 0 else f"value_{index}", f"{label} ({word})" if word else label)
    return out


#: the room a legend under the plot takes: a line per curve and its padding (pixels)
LEGEND_LINE, LEGEND_PAD = 22, 30


def figure_height(frame: pd.DataFrame, kind: str, height: int) -> int:
    """The height of the figure drawn for ``frame``: ``height`` for the plot, plus the legend under it
    (a heatmap: a row per label), so that the page gives the figure all of it and nothing is cut."""
    labels = frame["label"].nunique() if not frame.empty else 0
    if kind == "heatmap":
        return max(height, 60 + 26 * labels)
    return height + (LEGEND_LINE * labels + LEGEND_PAD if labels > 1 else 0)


def readable_axes(units: dict[str, str | None]):
    """A HoloViews hook: time labels that never overlap (Bokeh drops the ones that would, so a
    phone shows fewer), and each y axis' ticks in its unit (``units``: Bokeh's y range name →
    unit; the first axis' range is ``default``)."""

    def hook(plot, element) -> None:
        figure = plot.state
        for axis in figure.xaxis:
            axis.major_label_policy = NoOverlap(min_distance=12)
        for axis in figure.yaxis:
            code = tick_code(units.get(getattr(axis, "y_range_name", "default")))
            if code:
                axis.formatter = CustomJSTickFormatter(code=code)

    return hook


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
        height=figure_height(frame, kind, height),
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
    axis_of = axes(frame) if kind != "heatmap" else {}
    multi = len({name for name, _ in axis_of.values()}) > 1
    if kind == "heatmap":
        cells = frame[["time", "label", "value", "count"]].astype({"label": object})
        heat = hv.HeatMap(cells, ["time", "label"], ["value", "count"]).opts(
            cmap="viridis",
            colorbar=True,
            tools=["hover", "xwheel_zoom", "xpan"],
            active_tools=["xwheel_zoom"],
            responsive=True,
            height=figure_height(frame, kind, height),
            xlabel="time (UTC)",
            ylabel="",
            title=title,
            xlim=xlim,
            hooks=[readable_axes({})],
            **hover,
        )
        return heat
    layers = []
    for label in labels:
        sub = frame[frame["label"] == label]
        color = colors[label]
        name, axis_label = axis_of[sub["series"].iloc[0]]
        if name != "value":  # a second unit: its own y axis (multi_y keys the axes by dimension name)
            hover = dict(
                hover_tooltips=[t if t[0] != "value" else ("value", f"@{name}{{0,0.[000]}}") for t in tooltips],
                hover_formatters=_FORMATTERS,
            )
            sub = sub.rename(columns={"value": name})
        else:
            hover = dict(hover_tooltips=tooltips, hover_formatters=_FORMATTERS)
        ydim = hv.Dimension(name, label=axis_label)
        if kind == "bar":
            width = pd.Timedelta(seconds=bin_seconds) * 0.85 / len(labels)
            offset = width * labels.index(label)
            bottom, top = ("y0", "y1") if name == "value" else (f"{name}_y0", f"{name}_y1")
            rects = pd.DataFrame(
                {
                    "x0": sub["time"] + offset,
                    bottom: 0.0,
                    "x1": sub["time"] + offset + width,
                    top: sub[name],
                    "time": sub["time"],
                    name: sub[name],
                    "label": sub["label"],
                    "count": sub["count"],
                }
            )
            layers.append(
                hv.Rectangles(
                    rects,
                    ["x0", hv.Dimension(bottom, label=axis_label), "x1", top],
                    ["time", name, "label", "count"],
                    label=label,
                ).opts(color=color, line_color=color, tools=["hover"], **hover)
            )
            continue
        if kind == "area":
            layers.append(hv.Area(sub, "time", ydim, label=label).opts(color=color, alpha=0.25, line_alpha=0))
        layers.append(
            hv.Curve(sub, "time", [ydim, "label", "count"], label=label).opts(
                color=color, line_width=2, tools=["hover"], hover_mode="vline" if len(labels) <= 4 else "mouse", **hover
            )
        )
    overlay = hv.Overlay(_status_layers(status) + layers)
    axis = dict(multi_y=True) if multi else dict(ylabel=next(iter(axis_of.values()))[1] if axis_of else ylabel)
    # the legend under the plot, one entry a line: on a phone a legend beside the plot leaves no plot
    legend = (
        dict(legend_position="bottom", legend_offset=(0, 10), legend_opts={"orientation": "vertical"})
        if len(labels) > 1
        else {}
    )
    ranges = {}
    for series, (name, _) in axis_of.items():
        for key in ("default",) if name == "value" else (name, f"{name}_y0"):  # bars: the bottom's name
            ranges.setdefault(key, series_unit(series))
    return overlay.opts(
        **(legend or dict(legend_position="top_left")),
        hooks=[readable_axes(ranges)],
        click_policy="hide",
        xlim=xlim,
        **axis,
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
