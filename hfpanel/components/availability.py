"""AvailabilityView: a month's availability and reliability — the figures, daily A/R bars, the month's
status strip per site, group and module, the table per scope, every correction, and downloads
(CSV, JSON, PDF). ``/availability?month=2026-11&profile=wlcg``.

Rendering only: the numbers come from ``queries.availability`` (cached per store content), the
colours from the levels. A day without data is drawn as a hatched "no data" bar, never as 100 %.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from ..availability.ar import STATE_COLORS
from ..queries import availability as queries
from ..reports import export
from ..units import fmt_time
from .base import StoreView
from .style import CSS, esc
from .url import UrlField, UrlSync

A_COLOR, R_COLOR = "#1a73e8", "#7baaf7"


def _check_month(value: str) -> None:
    if value:
        queries.month_window(value)


class AvailabilityView(UrlSync, StoreView):
    """One month (``month`` 'YYYY-MM'; empty: the month of the latest run) of one profile
    (``profile``; empty: the first configured). ``.report`` is what is shown."""

    month = param.String(default="", doc="YYYY-MM (UTC); empty: the month of the latest run.")
    profile = param.String(default="", doc="An availability profile; empty: the first configured.")

    _watched = ("store", "time", "config", "month", "profile")
    url_fields = (UrlField("month", check=_check_month), UrlField("profile"))

    def __init__(self, **params):
        super().__init__(**params)
        self.report = None
        self._problem = ""
        self._month = pn.widgets.TextInput.from_param(self.param.month, label="Month (YYYY-MM)", width=160)
        self._profiles = pn.widgets.Select(label="Profile", options=[], width=180)
        self._profiles.param.watch(lambda e: setattr(self, "profile", e.new or ""), "value")
        self._facts = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._bars = pn.pane.Bokeh(None, sizing_mode="stretch_width", height=280, margin=(4, 10))
        self._strip = pn.pane.Bokeh(None, sizing_mode="stretch_width", margin=(4, 10))
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(),
            disabled=True,
            show_index=False,
            sizing_mode="stretch_width",
            layout="fit_data_table",
            margin=(4, 10),
            formatters={"name": {"type": "plaintext"}, "scope": {"type": "plaintext"}},
        )
        self._corrections = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        downloads = [
            pn.widgets.FileDownload(
                callback=callback, filename=f"ar.{suffix}", label=f"⬇ {suffix.upper()}", width=100, margin=(4, 6)
            )
            for suffix, callback in (("csv", self.csv_bytes), ("json", self.json_bytes), ("pdf", self.pdf_bytes))
        ]
        self._downloads = downloads
        self._layout = pn.Column(
            pn.Row(self._month, self._profiles, *downloads, margin=(4, 4)),
            self._facts,
            self._bars,
            self._strip,
            self._table,
            self._corrections,
            sizing_mode="stretch_width",
            css_classes=["hf-card"],
            stylesheets=[CSS],
        )
        self._start()

    # -- the URL ---------------------------------------------------------------------------------------
    def url_problem(self, message: str) -> None:
        self._problem = message
        self._update()

    # -- what is shown ---------------------------------------------------------------------------------
    def shown_month(self) -> str:
        if self.month:
            return self.month
        run = self.store.latest_run(self.time) if self.store is not None else None
        return f"{pd.Timestamp(run['time']):%Y-%m}" if run is not None else f"{pd.Timestamp.now():%Y-%m}"

    def _update(self) -> None:
        if self.store is None:
            return
        month = self.shown_month()
        try:
            self.report = queries.ar_month(self.store, month, self.profile or None, self.config)
        except (KeyError, ValueError) as error:
            self.report = None
            self._facts.object = f'<div class="hf-noinfo">{esc(error.args[0] if error.args else error)}</div>'
            for pane in (self._bars, self._strip, self._table, self._corrections):
                pane.visible = False
            return
        report = self.report
        self._profiles.param.update(options=report.profiles, value=report.profile)
        for pane in (self._bars, self._strip, self._table, self._corrections):
            pane.visible = True
        for button in self._downloads:
            button.filename = f"ar-{report.site or 'site'}-{month}.{button.filename.rsplit('.', 1)[-1]}"
        self._facts.object = self._facts_html(report)
        self._bars.object = daily_bars(report)
        self._strip.object = status_strip(report)
        self._table.value = summary_frame(report)
        self._corrections.object = corrections_html(report)

    def _facts_html(self, report) -> str:
        site = report.result.site()
        before = report.original.site()
        problem = f'<div class="hf-noinfo">{esc(self._problem)}</div>' if self._problem else ""
        if site is None:
            return problem + '<div class="hf-noinfo">Nothing to report for this month.</div>'
        return (
            f"{problem}<h2>{esc(report.site)} — availability and reliability, {report.start:%B %Y}</h2>"
            f'<div class="hf-small">profile <b>{esc(report.profile)}</b> · A = up / (T − unknown), '
            "R = up / (T − unknown − scheduled downtime), up = ok + warning</div>"
            f'<div style="display:flex;gap:32px;flex-wrap:wrap;margin-top:6px">'
            f"<div><b style='font-size:1.6em' data-ar='availability'>{export.percent(site['availability'])}</b>"
            "<br>availability</div>"
            f"<div><b style='font-size:1.6em' data-ar='reliability'>{export.percent(site['reliability'])}</b>"
            "<br>reliability</div>"
            f"<div><b style='font-size:1.6em'>{100 * site['unknown_share']:.1f} %</b><br>unknown</div>"
            f"<div><b style='font-size:1.2em'>{export.percent(before['availability'])} / "
            f"{export.percent(before['reliability'])}</b><br>before corrections</div></div>"
        )

    # -- downloads -------------------------------------------------------------------------------------
    def csv_bytes(self):
        buffer = io.StringIO()
        if self.report is not None:
            export.to_csv(self.report, buffer)
        return io.BytesIO(buffer.getvalue().encode())

    def json_bytes(self):
        return io.BytesIO((export.to_json(self.report) if self.report is not None else "{}").encode())

    def pdf_bytes(self):
        import tempfile
        from pathlib import Path

        from ..reports.pdf import write_pdf

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ar.pdf"
            write_pdf(self.report, path)
            return io.BytesIO(path.read_bytes())


def daily_bars(report):
    """The site's A and R per day; a hatched bar where nothing was known."""
    days = pd.date_range(report.start, report.end - pd.Timedelta(days=1), freq="D")
    daily = report.result.daily
    site = daily[daily["scope"] == "site"].set_index("day").reindex(days)
    labels = [f"{d:%d}" for d in days]
    a, r = (100 * site[c].to_numpy(float) for c in ("availability", "reliability"))
    source = ColumnDataSource(
        {
            "day": labels,
            "date": [f"{d:%Y-%m-%d}" for d in days],
            "a": np.nan_to_num(a),
            "r": np.nan_to_num(r),
            "a_text": [export.percent(v / 100) for v in a],
            "r_text": [export.percent(v / 100) for v in r],
            "unknown": np.where(np.isnan(a), 100.0, 0.0),
        }
    )
    plot = figure(x_range=labels, y_range=(0, 105), height=280, sizing_mode="stretch_width", toolbar_location=None)
    plot.title.text = "site availability and reliability per day (UTC)"
    from bokeh.transform import dodge

    plot.vbar(
        x=dodge("day", -0.2, range=plot.x_range),
        top="a",
        width=0.38,
        color=A_COLOR,
        source=source,
        legend_label="availability",
    )
    plot.vbar(
        x=dodge("day", 0.2, range=plot.x_range),
        top="r",
        width=0.38,
        color=R_COLOR,
        source=source,
        legend_label="reliability",
    )
    plot.vbar(
        x="day",
        top="unknown",
        width=0.8,
        fill_color=None,
        line_color="#bdc1c6",
        hatch_pattern="/",
        hatch_color="#bdc1c6",
        source=source,
        legend_label="no data (unknown)",
    )
    plot.add_tools(HoverTool(tooltips=[("day", "@date"), ("A", "@a_text"), ("R", "@r_text")]))
    plot.legend.location = "bottom_left"
    plot.legend.orientation = "horizontal"
    plot.yaxis.axis_label = "%"
    return plot


def status_strip(report, limit: int = 40):
    """The month's states per scope (site first), coloured as the levels."""
    segments = report.result.segments
    order = {"site": 0, "group": 1, "module": 2}
    scopes = segments[["scope", "name"]].drop_duplicates()
    scopes = scopes.assign(o=scopes["scope"].map(order)).sort_values("o", kind="stable")[:limit]
    labels = [f"{s}: {n}" if s != "module" else str(n) for s, n in zip(scopes["scope"], scopes["name"])]
    frame = segments.merge(scopes[["scope", "name"]], on=["scope", "name"])
    frame = frame.assign(
        label=[f"{s}: {n}" if s != "module" else str(n) for s, n in zip(frame["scope"], frame["name"])],
        color=frame["state"].map(STATE_COLORS),
        start_text=frame["start"].map(fmt_time),
        end_text=frame["end"].map(fmt_time),
    )
    plot = figure(
        y_range=list(reversed(labels)),
        x_axis_type="datetime",
        x_range=(report.start, report.end),
        height=60 + 24 * len(labels),
        sizing_mode="stretch_width",
        toolbar_location=None,
    )
    plot.title.text = "status over the month (green up, red down, grey unknown, blue scheduled downtime)"
    plot.hbar(
        y="label",
        left="start",
        right="end",
        height=0.8,
        color="color",
        source=ColumnDataSource({c: list(frame[c]) for c in frame.columns}),
    )
    plot.add_tools(HoverTool(tooltips=[("", "@label: @state"), ("from", "@start_text"), ("to", "@end_text")]))
    return plot


def summary_frame(report) -> pd.DataFrame:
    frame = export.table(report)
    frame = frame[frame["period"] == frame["period"].iloc[0]] if not frame.empty else frame
    shown = frame[
        [
            "scope",
            "name",
            "availability",
            "reliability",
            "availability_original",
            "reliability_original",
            "unknown_share",
            "hours_up",
            "hours_down",
            "hours_unknown",
            "hours_downtime",
            "hours_excluded",
        ]
    ]
    return shown.assign(
        **{
            c: shown[c].map(export.percent)
            for c in ("availability", "reliability", "availability_original", "reliability_original", "unknown_share")
        }
    )


def corrections_html(report) -> str:
    applied = export.corrections_frame(report)
    if applied.empty:
        return '<div class="hf-small">No corrections recorded for this month (<code>hfpanel report exclude|downtime</code>).</div>'
    items = []
    for row in applied.itertuples():
        what = (
            f"withdraws {row.withdraws}"
            if row.kind == "withdrawal"
            else f"{fmt_time(row.start)} to {fmt_time(row.end)}, {row.module or 'whole site'}"
        )
        gone = f" — withdrawn by {row.withdrawn_by}" if row.withdrawn_by else ""
        items.append(
            f"<li><b>{esc(row.kind)}</b> <code>{esc(row.id)}</code>: {esc(what)}: {esc(row.reason)} "
            f"({esc(row.who)}, recorded {esc(fmt_time(row.recorded))}){esc(gone)}</li>"
        )
    return "<b>Corrections</b><ul>" + "".join(items) + "</ul>"
