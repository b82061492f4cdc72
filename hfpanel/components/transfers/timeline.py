"""TransferTimeline: transfers, failures, volume and throughput over the window, one point per bin
(10-minute bins up to 3 days, daily bins beyond), as three stacked plots sharing the time axis:
zoom one and the others follow; hover shows the bin's numbers."""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
import panel as pn
import param

from ...queries import transfers as queries
from .common import TransferView
from .formats import CARD, message_html

#: line colours: transfers, failures, volume, throughput
COLORS = {"transfers": "#4e79a7", "failures": "#e15759", "volume": "#59a14f", "throughput": "#b07aa1"}
TIME_HOVER = ("time", "@time{%F %H:%M}")


def plot_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The timeline in plotting units: GB per bin, MB/s, efficiency in percent."""
    return frame.assign(
        volume_gb=frame["bytes"] / 1e9,
        throughput_mbs=frame["throughput"] / 1e6,
        efficiency_pct=frame["efficiency"] * 100,
    )


def timeline_plots(frame: pd.DataFrame, height: int = 200, title: str = ""):
    """Three plots (counts, volume, throughput) of a timeline frame, linked on time."""
    points = plot_frame(frame)
    common = dict(
        responsive=True,
        height=height,
        show_grid=True,
        xlabel="time (UTC)",
        tools=["hover", "xwheel_zoom", "xpan", "box_zoom", "reset"],
        active_tools=["xwheel_zoom"],
        hover_formatters={"@time": "datetime"},
    )
    counts_hover = [
        TIME_HOVER,
        ("transfers", "@transfers"),
        ("failures", "@failures"),
        ("efficiency", "@efficiency_pct{0.0}%"),
    ]
    transfers = hv.Curve(points, "time", ["transfers", "failures", "efficiency_pct"], label="transfers").opts(
        color=COLORS["transfers"], line_width=2, hover_tooltips=counts_hover, **common
    )
    failures = hv.Curve(points, "time", ["failures", "transfers", "efficiency_pct"], label="failures").opts(
        color=COLORS["failures"], line_width=2, hover_tooltips=counts_hover, **common
    )
    counts = (transfers * failures).opts(ylabel="transfers per bin", title=title, legend_position="top_left")
    volume = hv.Curve(points, "time", ["volume_gb", "bytes"]).opts(
        color=COLORS["volume"],
        line_width=2,
        ylabel="GB per bin",
        hover_tooltips=[TIME_HOVER, ("volume", "@volume_gb{0,0.000} GB")],
        **common,
    )
    rate_hover = [TIME_HOVER, ("throughput", "@throughput_mbs{0,0.00} MB/s")]
    rate = hv.Curve(points, "time", ["throughput_mbs"]).opts(
        color=COLORS["throughput"], line_width=2, ylabel="throughput MB/s", hover_tooltips=rate_hover, **common
    )
    # a bin between two empty ones has no line to draw: a dot per bin keeps it visible
    rate = (
        rate
        * hv.Scatter(points, "time", ["throughput_mbs"]).opts(
            color=COLORS["throughput"], size=5, hover_tooltips=rate_hover, **common
        )
    ).opts(ylabel="throughput MB/s")
    return hv.Layout([counts, volume, rate]).cols(1).opts(shared_axes=True)


class TransferTimeline(TransferView):
    """The window's transfers over time. ``data``: one row per bin (time = bin start, transfers,
    successes, failures, bytes, duration_ms, efficiency, throughput); bins without transfers are 0."""

    content_panes = ("_plot",)

    height = param.Integer(default=200, bounds=(100, None), doc="Height of each of the three plots.")

    def __init__(self, **params):
        super().__init__(**params)
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(self._head, self._csv, self._plot, sizing_mode="stretch_width", styles=CARD)
        self._start()

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=queries.TIMELINE_COLUMNS)

    def compute(self, filters):
        return queries.timeline(self.store, filters)

    def render(self) -> None:
        frame = self._frame
        total, failed = int(frame["transfers"].sum()), int(frame["failures"].sum())
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">Transfers over time</b>'
            f"{self.scope_text()}</div>"
            f'<div class="hf-small hf-muted">{total} transfers, {failed} failed · wheel to zoom, '
            f"hover for numbers</div>"
        )
        if total == 0:
            self._head.object += message_html("No transfers in this window and filter.")
        self._plot.object = timeline_plots(frame, self.height)
        self._plot.visible = True
