"""SiteStatistics (every site's outgoing and incoming transfers: counts, efficiency, volume) and
SiteHistory (one site over time, in and out).

Site names come from the topology and from host names in the messages: shown in a Tabulator
(text cells) and in plot axes/hover (drawn as text by Bokeh), never as HTML.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
import panel as pn
import param

from ...queries import transfers as queries
from ..style import esc
from ..tables import formatters
from .common import TransferView
from .formats import CARD, fmt_bytes, message_html

DIRECTION_COLORS = {"out": "#f28e2b", "in": "#4e79a7"}


class SiteStatistics(TransferView):
    """One row per site (the busiest first). ``data`` columns: site, out_/in_ transfers, failures,
    efficiency, bytes. Clicking a row sets ``selected`` (the page shows that site's history)."""

    content_panes = ("_table",)

    selected = param.String(default="", allow_refs=True, doc="The site of the row last clicked.")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            pagination="local",
            page_size=15,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
        )
        self._table.on_click(self._on_click)
        self._layout = pn.Column(self._head, self._csv, self._table, sizing_mode="stretch_width", styles=CARD)
        self._start()

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=queries.SITE_COLUMNS)

    def compute(self, filters):
        return queries.sites(self.store, filters)

    def _on_click(self, event) -> None:
        if event.row is not None and 0 <= event.row < len(self._frame):
            self.selected = str(self._frame["site"].iloc[event.row])

    def render(self) -> None:
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">Sites</b>{self.scope_text()}</div>'
            f'<div class="hf-small hf-muted">{len(self._frame)} '
            f"site{'s' if len(self._frame) != 1 else ''}"
            " · out = as source, in = as "
            f"destination · click a row for the site's history</div>"
        )
        self._table.param.update(value=self._frame, formatters=formatters(self._frame))
        self._table.visible = not self._frame.empty
        if self._frame.empty:
            self._head.object += message_html("No transfers in this window and filter.")


class SiteHistory(TransferView):
    """One site (``site``) over the window: efficiency and volume of its outgoing and incoming
    transfers per bin. ``data``: time, direction ("out"/"in"), the counts, efficiency, throughput."""

    content_panes = ("_plot",)

    height = param.Integer(default=220, bounds=(100, None))

    def __init__(self, **params):
        super().__init__(**params)
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(self._head, self._csv, self._plot, sizing_mode="stretch_width", styles=CARD)
        self._start()

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=["time", "direction", *queries.TIMELINE_COLUMNS[1:]])

    def compute(self, filters):
        if not self.site:
            return self.empty()
        return queries.site_history(self.store, filters, self.site)

    def render(self) -> None:
        if not self.site:
            self.show_message(
                "Choose a site to see its history.", "Use the site filter or click a row of the site statistics."
            )
            return
        frame = self._frame
        totals = frame.groupby("direction")[["transfers", "bytes"]].sum()
        said = " · ".join(
            f"{d}: {int(totals.loc[d, 'transfers'])} transfers, {fmt_bytes(totals.loc[d, 'bytes'])}"
            for d in ("out", "in")
            if d in totals.index
        )
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">History of {esc(self.site)}</b>'
            f'{self.scope_text()}</div><div class="hf-small hf-muted">{esc(said)}</div>'
        )
        self._plot.object = self._build_plot(frame)
        self._plot.visible = True

    def _build_plot(self, frame: pd.DataFrame):
        common = dict(
            responsive=True,
            height=self.height,
            show_grid=True,
            xlabel="time (UTC)",
            tools=["hover", "xwheel_zoom", "xpan", "reset"],
            active_tools=["xwheel_zoom"],
            hover_formatters={"@time": "datetime"},
        )
        points = frame.assign(efficiency_pct=frame["efficiency"] * 100, volume_gb=frame["bytes"] / 1e9)
        efficiency, volume = [], []
        for direction in ("out", "in"):
            sub = points[points["direction"] == direction]
            color = DIRECTION_COLORS[direction]
            hover = [
                ("time", "@time{%F %H:%M}"),
                ("efficiency", "@efficiency_pct{0.0}%"),
                ("transfers", "@transfers"),
                ("failures", "@failures"),
            ]
            vdims = ["efficiency_pct", "transfers", "failures"]
            efficiency.append(
                hv.Curve(sub, "time", vdims, label=direction).opts(
                    color=color, line_width=2, hover_tooltips=hover, **common
                )
            )
            # a busy bin between two idle ones has no line: its dot keeps it visible
            efficiency.append(
                hv.Scatter(sub, "time", vdims, label=direction).opts(
                    color=color, size=5, hover_tooltips=hover, **common
                )
            )
            volume.append(
                hv.Curve(sub, "time", ["volume_gb"], label=direction).opts(
                    color=color,
                    line_width=2,
                    hover_tooltips=[("time", "@time{%F %H:%M}"), ("volume", "@volume_gb{0,0.000} GB")],
                    **common,
                )
            )
        return (
            hv.Layout(
                [
                    hv.Overlay(efficiency).opts(ylabel="efficiency %", ylim=(0, 105)),
                    hv.Overlay(volume).opts(ylabel="GB per bin"),
                ]
            )
            .cols(1)
            .opts(shared_axes=True)
        )
