"""HandoverView: the shift handover on a page (``/handover?from=…&to=…``) — what changed level, events,
what is not green and since when, downtimes of the next shift, A/R so far — each item a link to the
time-travel view; the Markdown to paste into an e-log and a PDF to download.

Rendering only: ``hfpanel.reports.handover`` builds it (source text escaped there).
"""

from __future__ import annotations

import io

import pandas as pd
import panel as pn
import param

from ..reports import handover as engine
from .base import StoreView
from .style import CSS, esc
from .url import TIME, UrlField, UrlSync


class HandoverView(UrlSync, StoreView):
    """The shift (``since``, ``until``]; None: the eight hours up to the latest run. ``.handover``."""

    since = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None, doc="Shift start (naive UTC).")
    until = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None, doc="Shift end (naive UTC).")

    _watched = ("store", "since", "until")
    url_fields = (UrlField("since", key="from", codec=TIME), UrlField("until", key="to", codec=TIME))

    def __init__(self, **params):
        super().__init__(**params)
        self.handover: engine.Handover | None = None
        self._text = ""
        self._from = pn.widgets.TextInput(label="Shift from (UTC)", width=200)
        self._to = pn.widgets.TextInput(label="to (UTC)", width=200)
        apply = pn.widgets.Button(name="Show", button_type="primary", width=90, align="end")
        apply.on_click(self._apply)
        self._note = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._markdown = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(4, 10), disable_math=True)
        downloads = [
            pn.widgets.FileDownload(
                callback=self.markdown_bytes, filename="handover.md", label="⬇ Markdown", width=130
            ),
            pn.widgets.FileDownload(callback=self.pdf_bytes, filename="handover.pdf", label="⬇ PDF", width=100),
        ]
        self._layout = pn.Column(
            pn.Row(self._from, self._to, apply, *downloads, margin=(4, 4)),
            self._note,
            self._markdown,
            sizing_mode="stretch_width",
            css_classes=["hf-card"],
            stylesheets=[CSS],
        )
        self._start()

    def _apply(self, *_):
        from ..clock import parse_time

        try:
            self.param.update(since=parse_time(self._from.value), until=parse_time(self._to.value))
        except ValueError as error:
            self._note.object = f'<div class="hf-noinfo">{esc(error)}</div>'

    def url_problem(self, message: str) -> None:
        self._note.object = f'<div class="hf-noinfo">{esc(message)}</div>'

    def _update(self) -> None:
        if self.store is None:
            return
        try:
            self.handover = engine.handover(self.store, self.since, self.until)
        except ValueError as error:
            self.handover, self._text = None, ""
            self._note.object = f'<div class="hf-noinfo">{esc(error)}</div>'
            self._markdown.object = ""
            return
        self._from.value, self._to.value = str(self.handover.since), str(self.handover.until)
        self._note.object = ""
        self._text = engine.to_markdown(self.handover)
        self._markdown.object = self._text

    def markdown_bytes(self):
        return io.BytesIO(self._text.encode())

    def pdf_bytes(self):
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "handover.pdf"
            engine.write_pdf(self.handover, path)
            return io.BytesIO(path.read_bytes())
