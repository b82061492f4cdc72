"""TransferMatrix: source site × destination site, coloured by efficiency or by volume.

Clicking a cell (or ``select_pair(src, dst)``) opens the pair below the matrix: its numbers, its
top errors (``transfer_errors_10m``) and its newest raw transfer attempts (``fts_complete``).
"""

from __future__ import annotations

import math

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the backend, loaded without notebook side effects)
import pandas as pd
import panel as pn
import param

from ...queries import transfer_pairs as pairs
from ...queries import transfers as queries
from ...transfers.config import EfficiencyLevels
from ..style import CSS, esc
from ..tables import formatters
from .common import TransferView
from .formats import (
    CARD,
    VOLUME_COLORS,
    efficiency_color,
    efficiency_legend,
    fmt_bytes,
    fmt_percent,
    fmt_rate,
    message_html,
    volume_colors,
)
from .pair_view import pair_detail

ROW_PX = 30
#: cells get their number written in them up to this many cells
LABELLED_CELLS = 400


def _ink(background: str) -> str:
    """Text colour readable on a cell: white on the dark colours, near-black on the light ones."""
    red, green, blue = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * red + 0.587 * green + 0.114 * blue < 140 else "#202124"


class TransferMatrix(TransferView):
    """The matrix of site pairs over the window. ``data``: one row per pair (src_site, dst_site,
    transfers, successes, failures, bytes, duration_ms, efficiency, throughput); ``pair_errors``
    and ``pair_transfers``: what is shown for the selected pair (``src`` → ``dst``)."""

    color_by = param.Selector(
        default="efficiency",
        objects=["efficiency", "volume"],
        allow_refs=True,
        doc="Colour the cells by efficiency (successes/transfers) or by bytes moved.",
    )
    src = param.String(default="", allow_refs=True, doc="Source site of the selected pair ('' = none selected).")
    dst = param.String(default="", allow_refs=True, doc="Destination site of the selected pair.")
    resolve = param.Callable(default=None, doc="host → site for the raw rows (default: the aggregation's).")

    _watched = (*TransferView._watched, "color_by", "src", "dst")

    def __init__(self, **params):
        super().__init__(**params)
        self._pair_errors = pd.DataFrame(columns=queries.ERROR_COLUMNS)
        self._pair_rows = pd.DataFrame(columns=list(pairs.SHOWN))
        self._sources: list[str] = []
        self._destinations: list[str] = []
        self._tap = None
        self._plot_key = None
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", margin=(0, 10), linked_axes=False)
        self._pair_head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._close = pn.widgets.Button(label="✕ Close pair", color="light", width=120, margin=(4, 10), visible=False)
        self._close.on_click(lambda event: self.select_pair("", ""))
        self._pair_table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            pagination="local",
            page_size=10,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
            visible=False,
        )
        self._layout = pn.Column(
            self._head,
            self._csv,
            self._plot,
            self._close,
            self._pair_head,
            self._pair_table,
            sizing_mode="stretch_width",
            styles=CARD,
        )
        self._start()

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=queries.MATRIX_COLUMNS)

    def compute(self, filters):
        return queries.matrix(self.store, filters)

    # -- what is shown --------------------------------------------------------------------------
    def cell(self, src: str, dst: str) -> pd.Series | None:
        """The row of one pair (None when the window has no transfer between them)."""
        found = self._frame[(self._frame["src_site"] == src) & (self._frame["dst_site"] == dst)]
        return None if found.empty else found.iloc[0]

    @property
    def pair_errors(self) -> pd.DataFrame:
        return self._pair_errors

    @property
    def pair_transfers(self) -> pd.DataFrame:
        return self._pair_rows

    # -- clicking ---------------------------------------------------------------------------------
    def click(self, x=None, y=None) -> None:
        """The plot's tap handler: destination column c spans x in [c, c+1), source row r y in [-r-1, -r)."""
        if x is None or y is None:
            return
        column, row = int(math.floor(float(x))), int(math.floor(-float(y)))
        if 0 <= row < len(self._sources) and 0 <= column < len(self._destinations):
            self.select_pair(self._sources[row], self._destinations[column])

    def select_pair(self, src: str, dst: str) -> None:
        self.param.update(src=src or "", dst=dst or "")

    # -- drawing ------------------------------------------------------------------------------------
    def render(self) -> None:
        frame = self._frame
        self._sources = sorted(frame["src_site"].astype(str).unique())
        self._destinations = sorted(frame["dst_site"].astype(str).unique())
        total = int(frame["transfers"].sum()) if not frame.empty else 0
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">Transfer matrix</b>'
            f"{self.scope_text()}</div>"
            f'<div class="hf-small hf-muted">{len(frame)} site pair{"s" if len(frame) != 1 else ""}, '
            f"{total} transfers · colour: "
            f"{esc(self.color_by)} {self._legend()} · click a cell for that pair's transfers and "
            f"errors</div>"
        )
        if frame.empty:
            self._plot.visible = False
            self._head.object += message_html("No transfers in this window and filter.")
        else:
            key = (id(frame), self.color_by, self.efficiency_levels)
            if key != self._plot_key:
                self._plot_key = key
                self._plot.object = self._build_plot()
            self._plot.visible = True
        self._render_pair()

    @property
    def efficiency_levels(self) -> EfficiencyLevels:
        """Where an efficiency turns warning and critical: ``transfers.efficiency_levels`` of the
        site config, else the defaults (those of the ``transfer_efficiency`` module)."""
        transfers = getattr(self.config, "transfers", None)
        return transfers.efficiency_levels if transfers is not None else EfficiencyLevels()

    def _legend(self) -> str:
        """The efficiency levels with their thresholds, or a ramp least → most bytes (log scale)."""
        swatch = '<i style="display:inline-block;width:10px;height:10px;background:{}"></i>'
        if self.color_by == "efficiency":
            return " ".join(
                f'<span class="hf-eff-level" style="white-space:nowrap">{swatch.format(color)} {esc(text)} '
                f"{esc(level)}</span>"
                for color, level, text in efficiency_legend(self.efficiency_levels)
            )
        ramp = "".join(swatch.format(c) for c in VOLUME_COLORS[1:])
        return f'<span style="white-space:nowrap">least {ramp} most bytes (log)</span>'

    def _cells(self) -> pd.DataFrame:
        frame = self._frame
        row = {s: i for i, s in enumerate(self._sources)}
        column = {d: i for i, d in enumerate(self._destinations)}
        x = frame["dst_site"].astype(str).map(column).astype(float)
        y = -frame["src_site"].astype(str).map(row).astype(float)
        colors = (
            [efficiency_color(e, self.efficiency_levels) for e in frame["efficiency"]]
            if self.color_by == "efficiency"
            else volume_colors(list(frame["bytes"]))
        )
        return pd.DataFrame(
            {
                "x0": x,
                "x1": x + 1,
                "y0": y - 1,
                "y1": y,
                "xc": x + 0.5,
                "yc": y - 0.5,
                "src": frame["src_site"].astype(str),
                "dst": frame["dst_site"].astype(str),
                "color": colors,
                "transfers": frame["transfers"],
                "failures": frame["failures"],
                "eff": [fmt_percent(e) for e in frame["efficiency"]],
                "volume": [fmt_bytes(b) for b in frame["bytes"]],
                "rate": [fmt_rate(t) for t in frame["throughput"]],
                "label": [
                    fmt_percent(e) if self.color_by == "efficiency" else fmt_bytes(b)
                    for e, b in zip(frame["efficiency"], frame["bytes"])
                ],
            }
        )

    def _build_plot(self):
        cells = self._cells()
        rows, columns = len(self._sources), len(self._destinations)
        vdims = ["src", "dst", "color", "transfers", "failures", "eff", "volume", "rate"]
        rects = hv.Rectangles(cells, ["x0", "y0", "x1", "y1"], vdims).opts(
            color="color",
            line_color="white",
            line_width=1,
            tools=["hover", "tap"],
            responsive=True,
            height=110 + (ROW_PX if rows <= 40 else ROW_PX // 2) * rows,
            xlim=(0, columns),
            ylim=(-rows, 0),
            toolbar=None,
            default_tools=[],
            xticks=[(c + 0.5, d[:40]) for c, d in enumerate(self._destinations)],
            xrotation=30,
            yticks=[(-r - 0.5, s[:40]) for r, s in enumerate(self._sources)],
            xlabel="destination",
            ylabel="source",
            show_grid=False,
            padding=0,
            nonselection_alpha=1.0,
            hover_tooltips=[
                ("", "@src → @dst"),
                ("transfers", "@transfers"),
                ("failures", "@failures"),
                ("efficiency", "@eff"),
                ("volume", "@volume"),
                ("throughput", "@rate"),
            ],
        )
        self._tap = hv.streams.Tap(source=rects, x=None, y=None)
        self._tap.add_subscriber(self.click)
        if len(cells) > LABELLED_CELLS:
            return rects
        labels = hv.Labels(cells.assign(ink=[_ink(c) for c in cells["color"]]), ["xc", "yc"], ["label", "ink"]).opts(
            text_font_size="8pt", text_color="ink"
        )
        return (rects * labels).opts(toolbar=None)

    # -- the selected pair -------------------------------------------------------------------------
    def _render_pair(self) -> None:
        self._pair_errors = pd.DataFrame(columns=queries.ERROR_COLUMNS)
        self._pair_rows = pd.DataFrame(columns=list(pairs.SHOWN))
        self._pair_table.visible = False
        self._close.visible = bool(self.src and self.dst)
        if not (self.src and self.dst) or self._filters is None:
            self._pair_head.object = ""
            return
        resolve = self.resolve or pairs.default_resolver(self.config)
        self._pair_errors, self._pair_rows, self._pair_head.object = pair_detail(
            self.store, self._filters, self.src, self.dst, self.cell(self.src, self.dst), resolve
        )
        if not self._pair_rows.empty:
            self._pair_table.param.update(value=self._pair_rows, formatters=formatters(self._pair_rows))
            self._pair_table.visible = True
