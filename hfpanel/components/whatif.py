"""WhatIfView: stored history beside the same history re-rated with other rules — levels per run
side by side for every module and category the changes touch, what changed, A/R both ways and
(with the site configuration) the messages its notification rules would have sent both ways.
Nothing is written to the store and nothing is sent. ``/whatif?since=…&until=…&changes=<YAML>``; in a notebook one call:

    from hfpanel.components.whatif import what_if
    view = what_if(store, "2026-11-01", "2026-11-08", ratings={"sam_ce": {...}}, rollups={"storage": "k_of_n"})
    view            # renders; view.result holds the frames (hfpanel.reports.whatif.WhatIf)
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from ..clock import parse_time
from ..levels import COLORS
from ..reports import whatif as engine
from ..reports.export import percent
from ..units import fmt_time
from .base import StoreView
from .style import CSS, esc
from .url import TIME, UrlField, UrlSync

EXAMPLE = """# ratings: {module: rule}, rollups: {category: rule}, noinfo: {...}, levels: {ok:, warning:}
ratings:
  sam_ce: {type: threshold, metric: health, warning: 0.8, critical: 0.5}
"""
DEFAULT_WINDOW = pd.Timedelta(days=7)


class WhatIfView(UrlSync, StoreView):
    """``since``/``until`` (None: the week up to the latest run), ``changes`` as YAML; ``.result``."""

    since = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None, doc="Window start (naive UTC).")
    until = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None, doc="Window end (naive UTC).")
    changes = param.String(default="", doc="The changes as YAML (see hfpanel.reports.whatif).")
    profile = param.String(default="", doc="The availability profile for A/R (empty: the first).")

    _watched = ("store", "config", "since", "until", "changes", "profile")
    url_fields = (
        UrlField("since", codec=TIME),
        UrlField("until", codec=TIME),
        UrlField("changes"),
        UrlField("profile"),
    )

    def __init__(self, **params):
        for key in ("since", "until"):
            if key in params:
                params[key] = parse_time(params[key])
        super().__init__(**params)
        self.result: engine.WhatIf | None = None
        self._since = pn.widgets.TextInput(label="From (UTC)", width=200)
        self._until = pn.widgets.TextInput(label="To (UTC)", width=200)
        self._text = pn.widgets.TextAreaInput(
            label="Changes (YAML)", value=self.changes or EXAMPLE, height=140, sizing_mode="stretch_width"
        )
        self._run = pn.widgets.Button(name="Re-rate", button_type="primary", width=120, align="end")
        self._run.on_click(self._apply)
        self._note = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._strip = pn.pane.Bokeh(None, sizing_mode="stretch_width", margin=(4, 10), visible=False)
        self._summary = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sizing_mode="stretch_width",
            margin=(4, 10),
            formatters={"name": {"type": "plaintext"}},
            visible=False,
        )
        self._ar = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sizing_mode="stretch_width",
            margin=(4, 10),
            formatters={"name": {"type": "plaintext"}},
            visible=False,
        )
        self._notify = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sizing_mode="stretch_width",
            margin=(4, 10),
            formatters={"rule": {"type": "plaintext"}, "kind": {"type": "plaintext"}},
            visible=False,
        )
        self._layout = pn.Column(
            pn.pane.HTML(
                "<h2>What if</h2><div class='hf-small'>Re-rate stored history with other rules and see it beside "
                "what was stored. Nothing is written.</div>",
                stylesheets=[CSS],
                margin=(4, 10),
            ),
            pn.Row(self._since, self._until, self._run, margin=(4, 4)),
            self._text,
            self._note,
            self._strip,
            self._summary,
            self._ar,
            self._notify,
            sizing_mode="stretch_width",
            css_classes=["hf-card"],
            stylesheets=[CSS],
        )
        self._start()

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        until = self.until
        if until is None:
            run = self.store.latest_run() if self.store is not None else None
            until = pd.Timestamp(run["time"]) if run is not None else pd.Timestamp.now().floor("h")
        return (self.since if self.since is not None else until - DEFAULT_WINDOW), until

    def _apply(self, *_):
        """The button: the typed window and changes become the view (and the URL)."""
        try:
            since, until = parse_time(self._since.value), parse_time(self._until.value)
        except ValueError as error:
            self._note.object = f'<div class="hf-noinfo">{esc(error)}</div>'
            return
        self.param.update(since=since, until=until, changes=self._text.value)

    def url_problem(self, message: str) -> None:
        self._note.object = f'<div class="hf-noinfo">{esc(message)}</div>'

    def _update(self) -> None:
        if self.store is None:
            return
        since, until = self.window()
        self._since.value, self._until.value = str(since), str(until)
        if self.changes and self._text.value != self.changes:
            self._text.value = self.changes
        shown = (self._strip, self._summary, self._ar, self._notify)
        if not self.changes.strip():
            self.result = None
            for pane in shown:
                pane.visible = False
            self._note.object = '<div class="hf-small">Write the changes and press <b>Re-rate</b>.</div>'
            return
        try:
            self.result = engine.what_if(
                self.store, since, until, self.changes, profile=self.profile or None, config=self.config
            )
        except engine.WhatIfError as error:
            self.result = None
            for pane in shown:
                pane.visible = False
            items = "".join(f"<li>{esc(p)}</li>" for p in error.problems)
            self._note.object = f'<div class="hf-noinfo"><b>The changes cannot be applied:</b><ul>{items}</ul></div>'
            return
        result = self.result
        changed = result.changed()
        notes = "".join(f"<div class='hf-small'>{esc(n)}</div>" for n in result.notes)
        self._note.object = (
            f"<div><b>{fmt_time(since)} to {fmt_time(until)}</b>: {len(changed)} of {len(result.summary)} "
            f"modules and categories would have shown other levels.</div>{notes}"
        )
        self._strip.object = side_by_side(result)
        self._strip.visible = not changed.empty
        self._summary.param.update(value=changed if not changed.empty else result.summary, visible=True)
        frame = result.ar_side_by_side()
        for column in ("availability", "reliability", "whatif_availability", "whatif_reliability"):
            if column in frame:
                frame[column] = frame[column].map(percent)
        self._ar.param.update(value=frame, visible=not frame.empty)
        # the site's notification rules replayed both ways (only with the site configuration)
        notify = result.notifications_side_by_side()
        self._notify.param.update(value=notify, visible=result.messages is not None)


def side_by_side(result: engine.WhatIf, limit: int = 20):
    """Stored and what-if levels per run for every name whose levels changed: two rows each."""
    changed = result.changed()[:limit]
    cells = []
    for kind, name in zip(changed["kind"], changed["name"]):
        frame = result.categories if kind == "category" else result.modules
        part = frame[frame["category" if kind == "category" else "module"] == name]
        for label, column in (("stored", "level"), ("what if", "whatif_level")):
            cells.append(part.assign(row=f"{name} ({label})", shown=part[column]))
    if not cells:
        return None
    frame = pd.concat(cells, ignore_index=True).sort_values("time")
    times = sorted(frame["time"].unique())
    step = pd.Series(times).diff().median() if len(times) > 1 else pd.Timedelta(hours=1)
    frame = frame.assign(
        end=frame["time"] + step, color=frame["shown"].map(COLORS).fillna("#999"), when=frame["time"].map(fmt_time)
    )
    rows = list(dict.fromkeys(frame["row"]))
    plot = figure(
        y_range=list(reversed(rows)),
        x_axis_type="datetime",
        height=60 + 22 * len(rows),
        sizing_mode="stretch_width",
        toolbar_location=None,
    )
    plot.title.text = "levels per run: stored, and what if"
    source = ColumnDataSource({c: list(frame[c]) for c in ("row", "time", "end", "color", "shown", "when")})
    plot.hbar(y="row", left="time", right="end", height=0.8, color="color", source=source)
    plot.add_tools(HoverTool(tooltips=[("", "@row"), ("run", "@when"), ("level", "@shown")]))
    return plot


def what_if(store, since=None, until=None, changes=None, profile: str = "", config=None, **kwargs) -> WhatIfView:
    """One call in a notebook: the view (it renders), ``.result`` the frames. ``changes`` as YAML or a
    mapping, or ``ratings=``, ``rollups=``, ``noinfo=``, ``levels=``; ``config`` (site.yaml or a
    SiteConfig) adds the messages its notification rules would have sent both ways."""
    import yaml

    data = engine.parse_changes(changes, **kwargs) if (changes is not None or kwargs) else engine.Changes()
    text = yaml.safe_dump({k: v for k, v in vars(data).items() if v}, sort_keys=False) if data.any() else ""
    return WhatIfView(store=store, since=since, until=until, changes=text, profile=profile, config=config)
