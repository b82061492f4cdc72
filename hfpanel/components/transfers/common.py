"""What every transfer view shares: the filter parameters, the "no data yet" message, number
formatting and colour scales.

A ``TransferView`` is a ``StoreView`` with ``vo``, ``activity``, ``site``, ``window`` and ``end``
(default: the viewed ``time``, else the newest statistics bin). Subclasses say which tables they
need (``needs``), compute their frame from ``Filters`` (``compute``) and draw it (``render``); the
base turns a missing table, an empty store or a bad window into a message, never a traceback.
"""

from __future__ import annotations

import logging
import math

import duckdb
import pandas as pd
import panel as pn
import param

from ..base import StoreView, to_time
from ..style import CSS, esc, fmt_time
from .filters import STATS, TRANSFER_CLOCK, Filters, make_filters

log = logging.getLogger("hfpanel.components")
NO_DATA = "No transfer data yet"
#: efficiency 0 → red … 1 → green (ColorBrewer RdYlGn, 11 steps)
EFFICIENCY_COLORS = ("#a50026", "#d73027", "#f46d43", "#fdae61", "#fee08b", "#ffffbf", "#d9ef8b", "#a6d96a",
                     "#66bd63", "#1a9850", "#006837")
#: little volume → light … most volume → dark (ColorBrewer Blues, 9 steps)
VOLUME_COLORS = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
CARD = {"background": "#ffffff", "border-radius": "10px", "box-shadow": "0 1px 3px rgba(60,64,67,.3)"}


def fmt_bytes(value) -> str:
    """``1234567`` → ``"1.23 MB"`` (decimal units, as transfer volumes are quoted)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000.0
    return ""  # pragma: no cover


def fmt_rate(value) -> str:
    return "—" if value is None or pd.isna(value) else fmt_bytes(value) + "/s"


def fmt_percent(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


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


class TransferView(StoreView):
    """Base of the transfer views (see the module docstring). ``data`` is the frame shown."""

    vo = param.String(default="", doc="Only this VO ('' = all).")
    activity = param.String(default="", doc="Only this FTS activity ('' = all).")
    site = param.String(default="", doc="Only transfers from or to this site ('' = all).")
    window = param.String(default="24h", doc="How far back from end: 1h … 365d (over 3d reads daily tables).")
    end = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None,
                              doc="End of the window (naive UTC); None = the viewed time, else the newest data.")

    _watched = ("store", "time", "config", "vo", "activity", "site", "window", "end")
    #: the tables the view reads (by grain); with none of them in the store it says "no data yet"
    tables: dict = STATS
    #: the tables whose newest bin is "now"
    clock: tuple = TRANSFER_CLOCK

    def __init__(self, **params):
        if params.get("end") is not None:
            params["end"] = to_time(params["end"])
        super().__init__(**params)
        self._frame = self.empty()
        self._filters: Filters | None = None
        self._head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The frame shown (read-only: it may be shared with other sessions)."""
        return self._frame

    def frame(self) -> pd.DataFrame:
        return self._frame

    @property
    def filters(self) -> Filters | None:
        """The window and filters of the frame shown (None when nothing could be shown)."""
        return self._filters

    def empty(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self, filters: Filters) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_message(self, text: str, detail: str = "") -> None:
        """Nothing to draw: the message instead of the view's panes."""
        self._head.object = message_html(text, detail)

    # -- the update cycle --------------------------------------------------------------------------
    def missing(self) -> list[str]:
        return [t for t in dict.fromkeys(self.tables.values()) if not self.store.has_table(t)]

    def _update(self) -> None:
        self._frame, self._filters = self.empty(), None
        if self.store is None:
            self.show_message("No store given.")
            return
        try:
            missing = self.missing()
            if len(missing) == len(set(self.tables.values())):
                self.show_message(f"{NO_DATA}.", f"The store has no {' / '.join(missing)} table: run the "
                                  "transfer ingest and aggregation (docs/transfers.md).")
                return
            end = self.end if self.end is not None else self.time
            filters = make_filters(self.store, self.window, end, self.vo, self.activity, self.site, self.clock)
            if filters is None:
                self.show_message(f"{NO_DATA}.", "The statistics tables have no rows.")
                return
            self._filters = filters
            self._frame = self.compute(filters)
        except ValueError as error:
            self.show_message("Cannot show this view.", str(error))
            return
        except duckdb.Error as error:  # e.g. a table written with another schema: say so, not a traceback
            log.exception("transfer view query failed")
            self.show_message("Cannot read the transfer statistics.", str(error).splitlines()[0])
            return
        self.render()

    def scope_text(self) -> str:
        """The window and filters as one escaped line, for the view's head."""
        f = self._filters
        if f is None:
            return ""
        parts = [f"{esc(fmt_time(f.start))} – {esc(fmt_time(f.end))}",
                 "10-minute bins" if f.grain == "10m" else "daily bins"]
        parts += [f"{name} <b>{esc(value)}</b>" for name, value in (("VO", f.vo), ("activity", f.activity),
                                                                    ("site", f.site)) if value]
        return '<span class="hf-muted hf-small">' + " · ".join(parts) + "</span>"
