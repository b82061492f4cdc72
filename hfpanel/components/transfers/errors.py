"""TopErrors: the most frequent transfer failures, grouped by category, with counts and one full
example message each (from ``transfer_errors_10m``, where messages are already reduced to
patterns so that the same error with another file name or number counts once).

Messages come from remote services: every one is escaped before it is put into HTML.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ...queries import transfers as queries
from ...queries.transfer_filters import ERRORS
from ...units import plural
from ..style import CSS, esc
from .common import TransferView
from .formats import CARD, message_html

EXAMPLE_CHARS = 600


def by_category(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures per (scope, category), most first: ``error_scope``, ``error_category``,
    ``failures``, ``patterns``."""
    if frame.empty:
        return pd.DataFrame(columns=["error_scope", "error_category", "failures", "patterns"])
    grouped = frame.groupby(["error_scope", "error_category"], as_index=False).agg(
        failures=("failures", "sum"), patterns=("error_pattern", "count")
    )
    return grouped.sort_values(["failures", "error_category"], ascending=[False, True]).reset_index(drop=True)


def errors_html(frame: pd.DataFrame, limit: int = 25) -> str:
    """The errors as HTML: a block per category (its total), its patterns with counts and an example."""
    if frame.empty:
        return '<div class="hf-small hf-muted">No failures recorded.</div>'
    shown = frame.head(limit)
    blocks = []
    for cat in by_category(shown).itertuples():
        rows = shown[(shown["error_scope"] == cat.error_scope) & (shown["error_category"] == cat.error_category)]
        items = "".join(
            f'<li class="hf-error-pattern"><b class="hf-count">{int(r.failures)}</b> '
            f"<code>{esc(r.error_pattern or '(no message)')}</code>"
            f'<div class="hf-small hf-muted" style="overflow-wrap:anywhere">'
            f"e.g. {esc(str(r.example or '')[:EXAMPLE_CHARS])}</div></li>"
            for r in rows.itertuples()
        )
        blocks.append(
            f'<div class="hf-error-category" data-category="{esc(cat.error_category)}">'
            f"<b>{esc(cat.error_category or '(no category)')}</b> "
            f'<span class="hf-muted">({esc(cat.error_scope or "no scope")})</span> — <b>{int(cat.failures)}</b> '
            f'{plural(cat.failures, "failure")}<ul style="margin:2px 0 8px 0">{items}</ul></div>'
        )
    more = len(frame) - len(shown)
    tail = f'<div class="hf-small hf-muted">… and {more} less frequent patterns</div>' if more > 0 else ""
    return "".join(blocks) + tail


class TopErrors(TransferView):
    """Top error patterns of the window. ``data``: one row per (error_scope, error_category,
    error_pattern) with ``failures``, ``pairs`` (site pairs hit) and ``example``, most frequent first;
    ``categories``: the totals per category."""

    limit = param.Integer(default=25, bounds=(1, 500), doc="How many patterns are listed.")

    _watched = (*TransferView._watched, "limit")
    tables = {"10m": ERRORS}

    def __init__(self, **params):
        super().__init__(**params)
        self._body = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(self._head, self._csv, self._body, sizing_mode="stretch_width", styles=CARD)
        self._start()

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame(columns=queries.ERROR_COLUMNS)

    def compute(self, filters):
        # the error table has no daily form: a long window reads its 10-minute rows
        return queries.errors(self.store, filters)

    @property
    def categories(self) -> pd.DataFrame:
        return by_category(self._frame)

    def show_message(self, text: str, detail: str = "") -> None:
        super().show_message(text, detail)
        if hasattr(self, "_body"):
            self._body.object = ""

    def render(self) -> None:
        total = int(self._frame["failures"].sum()) if not self._frame.empty else 0
        self._head.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">Top errors</b>{self.scope_text()}'
            f'</div><div class="hf-small hf-muted">{total} {plural(total, "failure")} in '
            f"{len(self._frame)} {plural(len(self._frame), 'pattern')}</div>"
        )
        self._body.object = (
            errors_html(self._frame, self.limit)
            if not self._frame.empty
            else message_html("No failures in this window and filter.")
        )
