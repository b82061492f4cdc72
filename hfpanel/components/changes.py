"""WhatChanged: between two moments, which modules changed level and which detail rows moved.

The shifter's hand-over question: "what happened during my shift?" By default the comparison runs
from the start of the current shift (shifts start at 00:00, 08:00 and 16:00 UTC) to the viewed time
(now, or where time travel put us).
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..queries import history, loaders
from .base import StoreView, to_time
from .style import CSS, esc, fmt_status, fmt_time, pill

#: shifts start every this many hours from midnight UTC
SHIFT_HOURS = 8
#: detail-row changes listed per module and table in the page (all are in ``row_changes``)
SHOWN_ROWS = 10
CHANGE_WORDS = {"appeared": ("+", "#188038"), "vanished": ("−", "#c5221f"), "changed": ("~", "#b06000")}


def shift_start(when: pd.Timestamp) -> pd.Timestamp:
    """The start of the shift ``when`` falls in (00/08/16 UTC)."""
    return pd.Timestamp(when).floor(f"{SHIFT_HOURS}h")


class WhatChanged(StoreView):
    """Level changes of every module (from → to, when) between ``since`` and ``until``, and the
    rows of each module's detail tables that appeared, vanished or changed between the table as
    of ``since`` and as of ``until``.

    ``since`` None: the start of the shift of ``until``; ``until`` None: the viewed ``time`` (now
    when that is None). Rows are matched on ``keys[module]`` (default: the table's text columns);
    ``ignore`` names columns never compared. ``modules`` restricts the comparison ([] = all).
    ``data``: the level changes; ``row_changes``: module, table, change, key, changed, columns.
    """

    since = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        doc="Compare from this time (naive UTC); None: start of the current shift.",
    )
    until = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        doc="Compare to this time (naive UTC); None: the viewed time (now).",
    )
    keys = param.Dict(default={}, doc="module -> the columns identifying a row of its detail tables.")
    ignore = param.List(default=[], item_type=str, doc="Columns never compared (e.g. a changing timestamp).")
    modules = param.List(default=[], item_type=str, doc="Only these modules ([] for all).")

    _watched = ("store", "time", "config", "since", "until", "keys", "ignore", "modules")

    def __init__(self, **params):
        for name in ("since", "until"):
            if name in params:
                params[name] = to_time(params[name])
        super().__init__(**params)
        self._changes = pd.DataFrame(columns=history.CHANGE_COLUMNS)
        self._rows = pd.DataFrame(columns=history.ROW_CHANGE_COLUMNS)
        self._window = None
        self._syncing = False
        self._since_input = pn.widgets.DatetimeInput(
            label="Since (UTC)", value=None, width=200, format="%Y-%m-%d %H:%M:%S"
        )
        self._shift = pn.widgets.Button(label="Start of shift", width=130, align="end")
        self._shift.on_click(lambda event: setattr(self, "since", None))
        self._since_input.param.watch(self._on_since, "value")
        self._summary = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._levels = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._details = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._layout = pn.Column(
            pn.Row(self._since_input, self._shift),
            self._summary,
            self._levels,
            self._details,
            sizing_mode="stretch_width",
        )
        self._start()

    def __panel__(self):
        return self._layout

    # -- what is shown -------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The level changes: module, category, title, time, from_level, to_level, from_status,
        to_status, from_time, message (from_level None: the module had no earlier row)."""
        return self._changes

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def row_changes(self) -> pd.DataFrame:
        """Detail rows that changed: module, table, change (appeared/vanished/changed), key,
        changed ("col: old → new; …"), columns, since_time, until_time (the runs compared)."""
        return self._rows

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        return self._window

    # -- widgets -------------------------------------------------------------------------------
    def _on_since(self, event) -> None:
        if self._syncing or event.new is None:
            return
        value = to_time(event.new)
        if value != (self._window[0] if self._window else None):
            self.since = value

    # -- computing -----------------------------------------------------------------------------
    def _resolve(self):
        until = self.until if self.until is not None else self.time
        if until is None:
            until = history.window_end(self.store, None)
        if until is None:
            return None
        since = self.since if self.since is not None else shift_start(until)
        return since, until

    def _update(self) -> None:
        window = self._resolve() if self.store is not None else None
        self._window = window
        if window is None:
            self._changes = self._changes.iloc[0:0]
            self._rows = self._rows.iloc[0:0]
            self._summary.object = (
                '<div class="hf-banner hf-banner-live">'
                f"{'No store given.' if self.store is None else 'The store has no runs yet.'}</div>"
            )
            self._levels.object = self._details.object = ""
            return
        since, until = window
        self._syncing = True
        try:
            self._since_input.value = since.to_pydatetime()
        finally:
            self._syncing = False
        changes = history.level_changes(self.store, since, until)
        if self.modules:
            changes = changes[changes["module"].isin(self.modules)]
        self._changes = changes.reset_index(drop=True)
        self._rows = self._compare_rows(since, until)
        self._render(since, until)

    def _compare_rows(self, since, until) -> pd.DataFrame:
        if until <= since:
            return pd.DataFrame(columns=history.ROW_CHANGE_COLUMNS)
        names = history.detail_table_names(self.store)
        shown = set()
        for at in (since, until):
            status = loaders.status_at(self.store, at)
            shown |= set(status["module"]) if not status.empty else set()
        modules = [
            m for m in sorted(shown | set(self.modules)) if m in names and (not self.modules or m in self.modules)
        ]
        frames = []
        for module in modules:
            keys = self.keys.get(module)
            keys = tuple(keys) if keys else None
            for table in names[module]:
                found = history.row_changes(self.store, module, table, since, until, keys, tuple(self.ignore))
                if not found.empty:
                    frames.append(found)
        if not frames:
            return pd.DataFrame(columns=history.ROW_CHANGE_COLUMNS)
        return pd.concat(frames, ignore_index=True)

    # -- rendering -----------------------------------------------------------------------------
    def _titles(self) -> dict:
        status = loaders.status_at(self.store, self._window[1]) if self.store is not None else pd.DataFrame()
        titles = dict(zip(status["module"], status["title"])) if not status.empty else {}
        if self.config is not None:
            titles.update({m.name: m.title for m in self.config.modules})
        return {k: v for k, v in titles.items() if isinstance(v, str) and v}

    def _render(self, since, until) -> None:
        default = " (start of the shift)" if self.since is None else ""
        changed_modules = self._changes["module"].nunique()
        kinds = self._rows["change"].value_counts() if not self._rows.empty else {}
        self._summary.object = (
            f'<div class="hf-header"><b style="font-size:1.15em">What changed</b>'
            f"<span>since <b>{esc(fmt_time(since))}</b>{esc(default)} until <b>{esc(fmt_time(until))}</b></span></div>"
            f'<div class="hf-muted">{changed_modules} module{"s" if changed_modules != 1 else ""} changed level; '
            f"detail rows: {int(kinds.get('appeared', 0))} appeared, {int(kinds.get('vanished', 0))} vanished, "
            f"{int(kinds.get('changed', 0))} changed.</div>"
        )
        titles = self._titles()
        if self._changes.empty:
            self._levels.object = '<div class="hf-muted">No module changed level.</div>'
        else:
            lines = []
            for row in self._changes.itertuples():
                title = titles.get(row.module, row.module)
                before = (
                    pill(row.from_level)
                    if isinstance(row.from_level, str) and row.from_level
                    else '<span class="hf-muted">(first row)</span>'
                )
                lines.append(
                    f'<tr data-module="{esc(row.module)}"><td class="hf-muted">{esc(fmt_time(row.time))}</td>'
                    f"<td><b>{esc(title)}</b></td><td>{before} → {pill(row.to_level)}</td>"
                    f'<td class="hf-muted">{esc(fmt_status(row.from_status))} → {esc(fmt_status(row.to_status))}</td>'
                    f"<td>{esc(row.message)}</td></tr>"
                )
            self._levels.object = (
                '<b>Level changes</b><table class="hf-kv">'
                "<tr><th>when</th><th>module</th><th>level</th><th>status</th><th>message</th></tr>"
                + "".join(lines)
                + "</table>"
            )
        if self._rows.empty:
            self._details.object = '<div class="hf-muted">No detail row appeared, vanished or changed.</div>'
            return
        parts = ["<b>Detail rows</b>"]
        for (module, table), group in self._rows.groupby(["module", "table"], sort=False):
            when = group.iloc[0]
            parts.append(
                f'<div style="margin-top:6px" data-module="{esc(module)}"><b>{esc(titles.get(module, module))}</b> '
                f'<span class="hf-muted">table <code>{esc(table)}</code>: as of {esc(fmt_time(when["since_time"]))} '
                f"→ as of {esc(fmt_time(when['until_time']))}</span><ul style='margin:2px 0'>"
            )
            for row in group.head(SHOWN_ROWS).itertuples():
                mark, color = CHANGE_WORDS[row.change]
                extra = f": {esc(row.changed)}" if row.changed else ""
                parts.append(f'<li><b style="color:{color}">{mark} {esc(row.change)}</b> {esc(row.key)}{extra}</li>')
            if len(group) > SHOWN_ROWS:
                parts.append(f'<li class="hf-muted">… and {len(group) - SHOWN_ROWS} more</li>')
            parts.append("</ul></div>")
        self._details.object = "".join(parts)
