"""Events and incidents: ``/events?window=1d&module=sam_ce&kind=level_changed``.

``EventLog`` is the timeline (every event of the window as a mark per kind, coloured by level) and the
filterable log; each row links to the time-travel view of its run (``./?time=…&module=…``).
``IncidentBoard`` lists the incidents: open, acknowledged, silenced and resolved today, each with who
and why, and the messages not delivered (with the reason). ``EventsPage`` holds both, the forms to
acknowledge and silence (``IncidentActions``) and the replay of the rules (``ReplayView``). All of it
renders in a notebook too (``EventLog(store=…)``). Text from sources is escaped.
"""

from __future__ import annotations

import json

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from ..durations import parse_duration
from ..events.model import KINDS
from ..levels import SEVERITY
from ..queries import events as queries
from ..units import iso
from .base import StoreView
from .incident_actions import IncidentActions
from .replay_view import ReplayView
from .style import CSS, LEVEL_COLORS, esc
from .url import DURATION, UrlField, UrlSync

GREY = "#9aa0a6"


def time_travel(time, module: str = "") -> str:
    """The link to the status page as it was at ``time`` (the run of an event), relative to the server."""
    query = f"./?time={iso(time)}"
    return query + (f"&module={module}" if module else "")


def _window(text: str) -> pd.Timedelta:
    return pd.Timedelta(seconds=parse_duration(text or "1d"))


class EventLog(UrlSync, StoreView):
    """The events of ``window`` before the viewed time (None: the latest run), filtered by
    ``module``, ``category`` and ``kind``. ``.data`` is the frame shown."""

    window = param.String(default="1d", doc="How far back from the viewed time, e.g. 6h, 1d, 7d.")
    module = param.String(default="", doc="Only this module ('' for all).")
    category = param.String(default="", doc="Only this category ('' for all).")
    kind = param.Selector(default="", objects=["", *KINDS], doc="Only this kind ('' for all).")
    limit = param.Integer(default=500, bounds=(1, None), doc="Rows listed at most (the timeline shows all).")

    _watched = ("store", "time", "config", "window", "module", "category", "kind")
    url_fields = (
        UrlField("window", codec=DURATION),
        UrlField("module"),
        UrlField("category"),
        UrlField("kind"),
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.data = pd.DataFrame()
        widgets = pn.Row(
            pn.widgets.TextInput.from_param(self.param.window, name="Window", width=90),
            pn.widgets.TextInput.from_param(self.param.module, name="Module", width=150),
            pn.widgets.TextInput.from_param(self.param.category, name="Category", width=150),
            pn.widgets.Select.from_param(self.param.kind, name="Kind", width=190),
            margin=(4, 4),
        )
        self._summary = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._timeline = pn.pane.Bokeh(None, sizing_mode="stretch_width", height=220, margin=(4, 10))
        self._log = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._layout = pn.Column(
            widgets,
            self._summary,
            self._timeline,
            self._log,
            sizing_mode="stretch_width",
            css_classes=["hf-card"],
            stylesheets=[CSS],
        )
        self._problem = ""
        self._start()

    def url_problem(self, message: str) -> None:
        self._problem = message
        self._update()

    def window_bounds(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        run = self.store.latest_run(self.time) if self.store is not None else None
        if run is None:
            return None, None
        end = pd.Timestamp(run["time"]) if self.time is None else pd.Timestamp(self.time)
        return end - _window(self.window), end

    def _update(self) -> None:
        if self.store is None:
            return
        since, until = self.window_bounds()
        problem = f'<div class="hf-noinfo">{esc(self._problem)}</div>' if self._problem else ""
        if since is None:
            self.data = pd.DataFrame()
            self._summary.object = problem + '<div class="hf-noinfo">No run in this store yet.</div>'
            self._timeline.visible, self._log.object = False, ""
            return
        frame = queries.events(
            self.store,
            since,
            until,
            module=self.module or None,
            kind=self.kind or None,
            category=self.category or None,
            newest_first=True,
        )
        self.data = frame
        counts = frame["kind"].value_counts().to_dict() if not frame.empty else {}
        what = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        self._summary.object = problem + (
            f"<b>{len(frame)} events</b> from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
            + (f": {esc(what)}" if what else "")
        )
        self._timeline.visible = not frame.empty
        self._timeline.object = timeline(frame, since, until) if not frame.empty else None
        self._log.object = log_html(frame.head(self.limit), len(frame))


def timeline(frame: pd.DataFrame, since, until):
    """One mark per event: time across, kind down, colour by level."""
    kinds = sorted(frame["kind"].unique(), key=KINDS.index, reverse=True)
    source = ColumnDataSource(
        {
            "time": frame["time"],
            "kind": frame["kind"],
            "color": [LEVEL_COLORS.get(level, GREY) for level in frame["level"]],
            "subject": frame["subject"].map(esc),
            "text": frame["text"].map(esc),
        }
    )
    plot = figure(
        x_axis_type="datetime",
        y_range=kinds,
        x_range=(since, until),
        height=max(120, 26 * len(kinds) + 60),
        sizing_mode="stretch_width",
        toolbar_location=None,
        tools="xwheel_zoom,xpan,reset",
    )
    plot.scatter("time", "kind", source=source, size=9, color="color", line_color="#202124", alpha=0.85)
    plot.add_tools(
        HoverTool(tooltips=[("when", "@time{%F %H:%M}"), ("what", "@text")], formatters={"@time": "datetime"})
    )
    plot.yaxis.major_label_text_font_size = "11px"
    return plot


def log_html(frame: pd.DataFrame, total: int) -> str:
    if frame.empty:
        return '<div class="hf-small">No events match.</div>'
    rows = []
    for row in frame.itertuples():
        color = LEVEL_COLORS.get(row.level, GREY)
        rows.append(
            "<tr>"
            f'<td><a href="{esc(time_travel(row.time, row.module))}" title="the site at that run">'
            f"{row.time:%Y-%m-%d %H:%M}</a></td>"
            f'<td><span style="border-left:6px solid {color};padding-left:4px">{esc(row.level or "")}</span></td>'
            f"<td>{esc(row.kind.replace('_', ' '))}</td>"
            f"<td>{esc(row.text)}</td>"
            "</tr>"
        )
    more = f'<div class="hf-small">showing the newest {len(frame)} of {total}</div>' if total > len(frame) else ""
    return (
        '<table class="hf-table" style="width:100%"><thead><tr><th>run</th><th>level</th><th>kind</th>'
        f"<th>what</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


class IncidentBoard(StoreView):
    """Open, acknowledged, silenced and today's resolved incidents, with who and why; and what was
    not delivered. ``.data`` is the incidents frame shown."""

    def __init__(self, **params):
        super().__init__(**params)
        self.data = pd.DataFrame()
        self._html = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._layout = pn.Column(self._html, sizing_mode="stretch_width", css_classes=["hf-card"], stylesheets=[CSS])
        self._start()

    def _update(self) -> None:
        if self.store is None:
            return
        run = self.store.latest_run(self.time)
        now = pd.Timestamp(run["time"]) if run is not None else pd.Timestamp.now()
        frame = with_pending_acks(
            queries.incidents(self.store, include_resolved=True, since=now.normalize() - pd.Timedelta(days=1)),
            queries.latest_acks(self.store),
        )
        self.data = frame
        open_ = frame[frame["status"] == "open"]
        groups = [
            ("Open", open_[(open_["acked_by"] == "") & ~open_["silenced"]]),
            ("Acknowledged", open_[open_["acked_by"] != ""]),
            ("Silenced", open_[(open_["acked_by"] == "") & open_["silenced"]]),
            ("Resolved today", frame[(frame["status"] == "resolved") & (frame["resolved"] >= now.normalize())]),
        ]
        # silences are wall-clock data: at the latest run, those in force now; back in time, then
        parts = [f"<h2>Incidents</h2>{self._silences(now if self.time is not None else None)}"]
        for title, rows in groups:
            parts.append(f"<h3>{title} ({len(rows)})</h3>" + (incidents_html(rows) if len(rows) else ""))
        parts.append(self._undelivered())
        self._html.object = "".join(parts)

    def _silences(self, now) -> str:
        silences = queries.silences(self.store, at=now)
        if silences.empty:
            return ""
        items = "".join(
            f"<li>{esc(r['author'])}: {esc(r['comment'])} — {esc(r['matchers'])} until {r['end']:%Y-%m-%d %H:%M} UTC</li>"
            for _, r in silences.iterrows()
        )
        return f'<div class="hf-small"><b>Silences in force</b><ul>{items}</ul></div>'

    def _undelivered(self) -> str:
        frame = queries.deliveries(self.store, failed_only=True)
        if frame.empty:
            return ""
        rows = "".join(
            f"<tr><td>{r['time']:%Y-%m-%d %H:%M}</td><td>{esc(r['receiver'])}</td><td>{esc(r['state'])}</td>"
            f"<td>{esc(r['subject'])}</td><td>{int(r['attempts'])}</td><td>{esc(r['error'])}</td></tr>"
            for _, r in frame.head(50).iterrows()
        )
        return (
            f"<h3>Not delivered ({len(frame)})</h3><table class='hf-table'><thead><tr><th>queued</th>"
            "<th>receiver</th><th>state</th><th>message</th><th>attempts</th><th>last error</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def with_pending_acks(frame: pd.DataFrame, acks: pd.DataFrame) -> pd.DataFrame:
    """Open incidents with the acknowledgements given since their latest version (from the page or
    ``hfpanel ack``; the next run applies them), marked ``ack_pending``: the board shows who at once."""
    frame = frame.assign(ack_pending=False)
    if frame.empty or acks.empty:
        return frame
    newest = acks.set_index("incident_id")
    for index, row in frame.iterrows():
        ack = newest.loc[row["incident_id"]] if row["incident_id"] in newest.index else None
        if ack is None or row["status"] != "open" or ack["time"] <= row["time"]:
            continue
        given = ack["action"] == "ack"
        frame.loc[index, ["acked_by", "ack_comment", "ack_sticky", "ack_pending"]] = [
            ack["author"] if given else "",
            ack["comment"] if given else "",
            bool(ack["sticky"]) and given,
            True,
        ]
    return frame


def incidents_html(rows: pd.DataFrame) -> str:
    out = []
    rows = rows.assign(order=rows["level"].map(SEVERITY).fillna(9)).sort_values(["order", "opened"])
    for _, row in rows.iterrows():
        color = LEVEL_COLORS.get(row["level"], GREY)
        subjects = json.loads(row["subjects"]) if row["subjects"] else []
        items = "".join(
            f"<li>{esc(s.get('level', ''))} {esc(s['subject'].split('/', 1)[-1])}: {esc(s.get('text', ''))}</li>"
            for s in subjects
            if not s.get("resolved") or row["status"] == "resolved"
        )
        ack = (
            f"<div>acknowledged by <b>{esc(row['acked_by'])}</b>: {esc(row['ack_comment'])}"
            + (" (sticky)" if row["ack_sticky"] else "")
            + (" <i>(applied at the next run)</i>" if row.get("ack_pending", False) else "")
            + "</div>"
            if row["acked_by"]
            else ""
        )
        ended = (
            f" — resolved {row['resolved']:%H:%M}" if row["status"] == "resolved" and pd.notna(row["resolved"]) else ""
        )
        out.append(
            f'<div style="border-left:8px solid {color};padding:4px 8px;margin:4px 0" data-incident="{esc(row["incident_id"])}">'
            f"<b>{esc(row['level'].upper())}</b> {esc(row['rule'])} · {esc(row['category'] or row['group_key'])} · "
            f'opened <a href="{esc(time_travel(row["opened"]))}">{row["opened"]:%Y-%m-%d %H:%M}</a>{ended} · '
            f"<code>{esc(row['incident_id'])}</code> · {int(row['messages'])} messages"
            f"{ack}<ul style='margin:2px 0'>{items}</ul></div>"
        )
    return "".join(out)


class EventsPage(pn.viewable.Viewer):
    """The events page: the incident board above the event log, one store and time."""

    def __init__(self, store, config=None, **log_params):
        super().__init__()
        self.log = EventLog(store=store, config=config, **log_params)
        self.board = IncidentBoard(store=store, config=config)
        self.actions = IncidentActions(store=self.log.store, config=config, on_change=self.board._guarded_update)
        self.replay = ReplayView(store=self.log.store, config=config)
        self.store, self.config = self.log.store, self.log.config

    def __panel__(self):
        return pn.Column(self.board, self.actions, self.replay, self.log, sizing_mode="stretch_width")
