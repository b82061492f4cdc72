"""XRootDAccess: how sites' XRootD servers are read — file-close records (reads), bytes read and
distinct clients per site, and over time (``xrootd_stats_10m`` / ``_1d``).

Filters: VO, site and window (XRootD records carry no FTS activity: that filter does not apply).
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
import panel as pn
import param

from ...queries import transfers as queries
from ...queries.transfer_filters import XROOTD
from ..plot_figure import PALETTE
from ..tables import formatters
from .common import TransferView
from .formats import CARD, fmt_bytes, message_html


class XRootDAccess(TransferView):
    """XRootD reads per site. ``data``: one row per site (site, records, bytes_read, bytes_written,
    clients = the most distinct client hosts in one bin), busiest first; ``timeline``: per bin and
    site (the ``max_sites`` busiest are plotted)."""

    content_panes = ("_plot", "_table")

    max_sites = param.Integer(default=8, bounds=(1, 50), doc="Plot at most this many sites (the busiest).")
    height = param.Integer(default=220, bounds=(100, None))

    _watched = (*TransferView._watched, "max_sites")
    tables = XROOTD
    clock = (XROOTD["10m"], XROOTD["1d"])

    def __init__(self, **params):
        super().__init__(**params)
        self._timeline = pd.DataFrame(columns=queries.XROOTD_TIME_COLUMNS)
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            pagination="local",
            page_size=10,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
        )
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(
            self._head, self._csv, self._table, self._plot, sizing_mode="stretch_width", styles=CARD
        )
        self._start()

    @property
    def timeline(self) -> pd.DataFrame:
        return self._timeline

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=queries.XROOTD_SITE_COLUMNS)

    def compute(self, filters):
        self._timeline = queries.xrootd_timeline(self.store, filters)
        return queries.xrootd_sites(self.store, filters)

    def show_message(self, text: str, detail: str = "") -> None:
        super().show_message(text, detail)
        self._timeline = pd.DataFrame(columns=queries.XROOTD_TIME_COLUMNS)

    def render(self) -> None:
        frame = self._frame
        note = " · the activity filter does not apply to XRootD" if self.activity else ""
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">XRootD access</b>'
            f'{self.scope_text()}</div><div class="hf-small hf-muted">{len(frame)} sites, '
            f"{int(frame['records'].sum()) if not frame.empty else 0} reads, "
            f"{fmt_bytes(frame['bytes_read'].sum() if not frame.empty else 0)} read{note}</div>"
        )
        self._table.param.update(value=frame, formatters=formatters(frame))
        self._table.visible = self._plot.visible = not frame.empty
        if frame.empty:
            self._head.object += message_html("No XRootD records in this window and filter.")
            return
        self._plot.object = self._build_plot(list(frame["site"].head(self.max_sites)))

    def _build_plot(self, sites: list[str]):
        common = dict(
            responsive=True,
            height=self.height,
            show_grid=True,
            xlabel="time (UTC)",
            tools=["hover", "xwheel_zoom", "xpan", "reset"],
            active_tools=["xwheel_zoom"],
            hover_formatters={"@time": "datetime"},
        )
        points = self._timeline[self._timeline["site"].isin(sites)]
        points = points.assign(read_gb=points["bytes_read"] / 1e9)
        hover = [
            ("site", "@site"),
            ("time", "@time{%F %H:%M}"),
            ("reads", "@records"),
            ("read", "@read_gb{0,0.000} GB"),
            ("clients", "@clients"),
        ]
        layers = {"reads": [], "read": [], "clients": []}
        for index, site in enumerate(sites):
            sub = points[points["site"] == site]
            color = PALETTE[index % len(PALETTE)]
            for name, column in (("reads", "records"), ("read", "read_gb"), ("clients", "clients")):
                others = [c for c in ("records", "read_gb", "clients", "site") if c != column]
                layers[name].append(
                    hv.Curve(sub, "time", [column, *others], label=site).opts(
                        color=color, line_width=2, hover_tooltips=hover, **common
                    )
                )
        labels = {"reads": "reads per bin", "read": "GB read per bin", "clients": "distinct clients"}
        plots = [hv.Overlay(layers[n]).opts(ylabel=labels[n], legend_position="right") for n in layers]
        return hv.Layout(plots).cols(1).opts(shared_axes=True)
