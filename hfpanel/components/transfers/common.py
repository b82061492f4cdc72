"""What every transfer view shares: the filter parameters, the "no data yet" message, number
formatting and colour scales.

A ``TransferView`` is a ``StoreView`` with ``vo``, ``activity``, ``site``, ``window`` and ``end``
(default: the viewed ``time``, else the newest statistics bin). Subclasses say which tables they
need (``needs``), compute their frame from ``Filters`` (``compute``) and draw it (``render``); the
base turns a missing table, an empty store or a bad window into a message, never a traceback.
"""

from __future__ import annotations

import io
import logging

import duckdb
import pandas as pd
import panel as pn
import param

from ...queries.transfer_filters import STATS, TRANSFER_CLOCK, Filters, make_filters
from ..base import StoreView, to_time
from ..style import CSS, esc, fmt_time
from .formats import message_html

log = logging.getLogger("hfpanel.components")
NO_DATA = "No transfer data yet"


class TransferView(StoreView):
    """Base of the transfer views (see the module docstring). ``data`` is the frame shown."""

    vo = param.String(default="", allow_refs=True, doc="Only this VO ('' = all).")
    activity = param.String(default="", allow_refs=True, doc="Only this FTS activity ('' = all).")
    site = param.String(default="", allow_refs=True, doc="Only transfers from or to this site ('' = all).")
    window = param.String(
        default="24h", allow_refs=True, doc="How far back from end: 1h … 365d (over 3d reads daily tables)."
    )
    end = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        allow_refs=True,
        doc="End of the window (naive UTC); None = the viewed time, else the newest data.",
    )

    _watched = ("store", "time", "config", "vo", "activity", "site", "window", "end")
    _follows = {**StoreView._follows, **{name: name for name in ("vo", "activity", "site", "window", "end")}}
    #: the tables the view reads (by grain); with none of them in the store it says "no data yet"
    tables: dict = STATS
    #: the tables whose newest bin is "now"
    clock: tuple = TRANSFER_CLOCK
    #: the panes (attribute names) hidden while a message stands in for the view
    content_panes: tuple = ()

    def __init__(self, **params):
        if params.get("end") is not None:
            params["end"] = to_time(params["end"])
        super().__init__(**params)
        self._frame = self.empty()
        self._filters: Filters | None = None
        self._head = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._csv = pn.widgets.FileDownload(
            callback=self.csv_bytes,
            filename="transfers.csv",
            label="⬇ CSV",
            embed=False,
            width=90,
            margin=(4, 10),
            visible=False,
        )

    def __panel__(self):
        return self._layout  # built by the subclass: its head, download and content panes

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
        self._csv.visible = False
        for name in self.content_panes:
            pane = getattr(self, name, None)  # None while the subclass is still building its panes
            if pane is not None:
                pane.visible = False

    def csv_bytes(self) -> io.BytesIO:
        """``data`` as CSV (times as ISO text, UTC), for the download button."""
        frame = self._frame.copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%S")
        return io.BytesIO(frame.to_csv(index=False).encode("utf-8"))

    def csv_filename(self) -> str:
        f = self._filters
        kind = type(self).__name__.lower()
        if f is None:
            return f"hfpanel_{kind}.csv"
        safe = lambda text: "".join(ch for ch in text if ch.isalnum() or ch in "-_.")[:40]  # noqa: E731
        scope = "_".join(safe(v) for v in (f.vo, f.activity, f.site) if v)
        return f"hfpanel_{kind}{'_' + scope if scope else ''}_{f.start:%Y%m%dT%H%M}-{f.end:%Y%m%dT%H%M}.csv"

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
                self.show_message(
                    f"{NO_DATA}.",
                    f"The store has no {' / '.join(missing)} table: run the "
                    "transfer ingest and aggregation (docs/transfers.md).",
                )
                return
            end = self.end if self.end is not None else self.time
            filters = make_filters(self.store, self.window, end, self.vo, self.activity, self.site, self.clock)
            if filters is None:
                self.show_message(f"{NO_DATA}.", "The statistics tables have no rows.")
                return
            table = self.tables.get(filters.grain) or next(iter(self.tables.values()))
            if not self.store.has_table(table):
                self.show_message(f"{NO_DATA} for this window.", f"The store has no {table} table yet.")
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
        self._csv.param.update(filename=self.csv_filename(), visible=not self._frame.empty)
        self.render()

    def scope_text(self) -> str:
        """The window and filters as one escaped line, for the view's head."""
        f = self._filters
        if f is None:
            return ""
        parts = [
            f"{esc(fmt_time(f.start))} – {esc(fmt_time(f.end))}",
            "10-minute bins" if f.grain == "10m" else "daily bins",
        ]
        parts += [
            f"{name} <b>{esc(value)}</b>"
            for name, value in (("VO", f.vo), ("activity", f.activity), ("site", f.site))
            if value
        ]
        return '<span class="hf-muted hf-small">' + " · ".join(parts) + "</span>"
