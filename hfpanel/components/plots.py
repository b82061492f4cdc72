"""PlotBuilder: any numeric metric or detail column of the store over time, for the analyst.

    from hfpanel.components.plots import PlotBuilder, plot
    builder = plot(store, series=["condor_held:held", "sam_ce:critical"], window="7d", agg="max",
                   overlay_status=True)
    builder            # the widgets and the interactive plot (zoom, pan, hover)
    builder.data       # the binned frame behind the plot (time, series, group, label, value, count)
    builder.settings() # a dict; PlotBuilder.from_settings(store, that_dict) draws the same plot again

Series are ``"module:metric"`` (the metrics table) or ``"module.table:column"`` (a numeric column of
a detail table); ``hfpanel.queries.series.available_series(store)`` lists them all. The window is
``window`` (6h … 365d) before ``end`` (default: the viewed ``time``, else the latest run), or
``start``…``end``; the default, ``auto``, fits the data there is: from the series' first sample (at
most 30 days back). Series of different units (by their column's name: bytes, rates, durations,
fractions) get a y axis each. Binning (``bin``, "auto" keeps a series at or below 2000 points), the per-bin
aggregate (``agg``), the per-run combination of a detail table's rows (``per_run``) and grouping
(``group_by`` a column of the detail table, one series per value) all run in DuckDB over only the
window's day partitions (see ``series.py``). ``overlay_status`` shades the modules' warning,
critical and no-information periods behind the curves.

``url_params()`` / ``apply_url_params()`` give the view as a flat string dict for the page's URL
query (only non-default values), ``sync_url()`` keeps them in ``pn.state.location``.
"""

from __future__ import annotations

import io

import pandas as pd
import panel as pn
import param

from ..clock import utcnow
from ..durations import parse_duration
from ..queries import loaders
from ..queries import series as S
from .base import StoreView, to_time
from .page import fit_narrow_screens
from .plot_figure import SHADED, build_plot, figure_height
from .style import CSS, LEVEL_COLORS, esc, fmt_time, iso
from .url import FLAG, NAMES, TIME, UrlField, UrlSync, differs, duration_or, integer, names

#: the default window: from the chosen series' first sample (at most ``AUTO_LONGEST`` back) to the end
AUTO_WINDOW = "auto"
AUTO_LONGEST = pd.Timedelta(days=30)
#: the window of "auto" when no series is chosen or none has data, and its shortest span
AUTO_FALLBACK, AUTO_SHORTEST = pd.Timedelta(hours=24), pd.Timedelta(hours=1)
#: the window presets offered (any duration ``parse_duration`` reads is accepted)
WINDOWS = (AUTO_WINDOW, "6h", "24h", "7d", "30d", "90d", "365d")
KINDS = ("line", "area", "bar", "heatmap")
BIN_CHOICES = (S.AUTO, *S.BINS)
#: levels shaded by ``overlay_status`` (ok periods stay clear)
#: one colour per curve (Tableau 10, then Category20's light tones)
#: the settings keys, in the order ``settings()`` gives them
SETTINGS = (
    "series",
    "window",
    "start",
    "end",
    "group_by",
    "bin",
    "agg",
    "per_run",
    "kind",
    "overlay_status",
    "max_groups",
)
#: longest window accepted (a year and a bit, so "365d" before any end fits)
MAX_WINDOW = pd.Timedelta(days=400)


class PlotBuilder(UrlSync, StoreView):
    """Plot numeric metrics and detail-table columns of the store over a window, binned and
    aggregated in DuckDB; widgets for every parameter, a CSV download of ``.data``.

    ``data`` is the frame behind the plot (``time`` = bin start, naive UTC; ``series``; ``group``;
    ``label``; ``value``; ``count`` = samples in the bin); ``status`` the shaded level spans;
    ``error`` the reason when nothing could be plotted ("" otherwise).
    """

    series = param.List(default=[], item_type=str, doc="What to plot: 'module:metric' or 'module.table:column' names.")
    window = param.String(
        default=AUTO_WINDOW,
        doc="How far back from end (6h, 24h, 7d, 30d, 365d, …) unless start is set; 'auto': the data there "
        "is (from the series' first sample, at most 30 days back).",
    )
    start = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        doc="First time of the window (naive UTC); None = end - window.",
    )
    end = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        doc="Last time of the window (naive UTC); None = the viewed time, else the latest run.",
    )
    group_by = param.String(default="", doc="A column of the series' detail table: one series per value.")
    bin = param.Selector(
        default=S.AUTO, objects=list(BIN_CHOICES), doc="Time bin; auto keeps each series at or below 2000 points."
    )
    agg = param.Selector(default="mean", objects=list(S.AGGREGATES), doc="Aggregate of the samples in a bin.")
    per_run = param.Selector(
        default="",
        objects=list(S.PER_RUN),
        doc="How a detail table's rows of one run are combined first ('' = each row is a sample).",
    )
    kind = param.Selector(default="line", objects=list(KINDS), doc="line, area, bar or heatmap.")
    overlay_status = param.Boolean(default=False, doc="Shade the modules' warning/critical/no-info periods.")
    max_groups = param.Integer(
        default=S.MAX_GROUPS,
        bounds=(1, 500),
        doc="With group_by: at most this many groups (those with the most samples).",
    )
    height = param.Integer(default=440, bounds=(150, None), doc="Plot height in pixels.")

    _watched = ("store", "time", "config", *SETTINGS)
    url_fields = (
        UrlField("series", codec=NAMES),
        UrlField("window", codec=duration_or(AUTO_WINDOW)),
        UrlField("start", codec=TIME),
        UrlField("end", codec=TIME),
        UrlField("group_by"),
        UrlField("bin"),
        UrlField("agg"),
        UrlField("per_run"),
        UrlField("kind"),
        UrlField("overlay_status", key="overlay", codec=FLAG),
        UrlField("max_groups", codec=integer(1, 500)),
    )

    def __init__(self, **params):
        for key in ("start", "end"):
            if key in params:
                params[key] = to_time(params[key])
        if isinstance(params.get("series"), str):
            params["series"] = names(params["series"])
        if "series" in params:
            params["series"] = [str(s) for s in params["series"]]
        super().__init__(**params)
        self._data = S.empty_frame()
        self._status = pd.DataFrame(columns=["module", "level", "start", "end", "runs"])
        self._error = ""
        self._range = (None, None)
        self._bin_used = None
        self._build_widgets()
        self._start()

    def set_window(self, start=None, end=None, window: str | None = None) -> None:
        """Set the window from anything time-like (None / "now" / a string / a datetime) in one update."""
        changes = {"start": to_time(start), "end": to_time(end)}
        if window is not None:
            if window != AUTO_WINDOW:
                parse_duration(window)
            changes["window"] = str(window)
        self.param.update(**changes)

    # -- construction from a dict ----------------------------------------------------------------
    @classmethod
    def from_settings(cls, store, settings: dict, **params) -> PlotBuilder:
        """The builder ``settings`` describe (as ``settings()`` returned them), over ``store``."""
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown plot settings: {', '.join(sorted(unknown))} (known: {', '.join(SETTINGS)})")
        return cls(store=store, **{**settings, **params})

    def settings(self, pin: bool = False) -> dict:
        """The view as a JSON-friendly dict. ``pin=True`` fixes ``start``/``end`` to the window
        drawn (not the window "now" would give), so the same plot comes back after more runs landed."""
        start, end = self.start, self.end
        if pin:
            start, end = self._range if self._range[0] is not None else self.window_range()
        return {
            "series": list(self.series),
            "window": self.window,
            "start": iso(start) if start is not None else None,
            "end": iso(end) if end is not None else None,
            "group_by": self.group_by,
            "bin": self.bin,
            "agg": self.agg,
            "per_run": self.per_run,
            "kind": self.kind,
            "overlay_status": bool(self.overlay_status),
            "max_groups": int(self.max_groups),
        }

    def code(self, pin: bool = True) -> str:
        """Python that draws this plot again in a notebook."""
        defaults = {k: self.param[k].default for k in SETTINGS}
        given = {
            k: v
            for k, v in self.settings(pin=pin).items()
            if k == "series" or v != (defaults[k] if k not in ("start", "end") else None)
        }
        args = ", ".join(f"{k}={v!r}" for k, v in given.items())
        return f"from hfpanel.components.plots import plot\nbuilder = plot(store, {args})\nbuilder"

    # -- the URL (declared in ``url_fields``; ``url.UrlSync`` does the rest) ----------------------------
    def url_problem(self, message: str) -> None:
        """A bad value in a pasted link: reported in the builder's message, the view stays."""
        self._error = message
        self._render_summary()

    # -- what is shown --------------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The binned frame behind the plot (read-only: it may be shared with other sessions)."""
        return self._data

    @property
    def status(self) -> pd.DataFrame:
        """The shaded level spans (``module``, ``level``, ``start``, ``end``, ``runs``), when overlaid."""
        return self._status

    @property
    def error(self) -> str:
        return self._error

    @property
    def bin_used(self) -> str | None:
        """The bin of the data shown (what "auto" chose)."""
        return self._bin_used

    def window_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window as (start, end), naive UTC, both included."""
        end = self.end if self.end is not None else self.time
        if end is None:
            times = loaders.run_times(self.store) if self.store is not None else []
            end = times[-1] if times else utcnow().floor("s")
        if self.start is not None:
            start = self.start
        elif self.window == AUTO_WINDOW:
            start = self._auto_start(pd.Timestamp(end))
        else:
            try:
                seconds = parse_duration(self.window)
            except ValueError as error:
                raise S.SeriesError(f"window: {error}") from None
            start = end - pd.Timedelta(seconds=seconds)
        if start >= end:
            raise S.SeriesError(f"the window is empty: start {fmt_time(start)} is not before end {fmt_time(end)}")
        if end - start > MAX_WINDOW:
            raise S.SeriesError(f"the window is longer than {MAX_WINDOW.days} days: narrow it")
        return pd.Timestamp(start), pd.Timestamp(end)

    def _auto_start(self, end: pd.Timestamp) -> pd.Timestamp:
        """Where the "auto" window begins: the chosen series' first sample within ``AUTO_LONGEST``
        before ``end`` (a store of two hours shows two hours, one of three days three days)."""
        first = S.first_time(self.store, self.series, end - AUTO_LONGEST, end) if self.store is not None else None
        if first is None:
            return end - AUTO_FALLBACK
        return min(first, end - AUTO_SHORTEST)

    def compute(self) -> pd.DataFrame:
        """The frame for the current parameters (raises SeriesError/ValueError on a bad one)."""
        if self.store is None:
            raise S.SeriesError("no store")
        start, end = self.window_range()
        bin_name = S.resolve_bin(self.bin, (end - start).total_seconds())
        grouped = bool(self.group_by)
        frames = []
        for key in dict.fromkeys(self.series):
            ref = S.parse_series(key)
            frames.append(
                S.series_frame(
                    self.store,
                    key,
                    start,
                    end,
                    bin_name,
                    self.agg,
                    self.per_run,
                    self.group_by if grouped and not ref.is_metric else "",
                    self.max_groups,
                )
            )
        if grouped and self.series and all(S.parse_series(k).is_metric for k in self.series):
            raise S.SeriesError(
                f"group_by {self.group_by!r} needs a detail-table series ('module.table:column'); "
                "metrics have one value per run"
            )
        frame = (
            pd.concat([f for f in frames if not f.empty], ignore_index=True)
            if any(not f.empty for f in frames)
            else S.empty_frame()
        )
        if grouped and len(set(self.series)) == 1 and not frame.empty:
            frame = frame.assign(label=frame["group"])  # one series by host: the host names the curve
        self._range, self._bin_used = (start, end), bin_name
        return frame

    def csv(self) -> str:
        """``.data`` as CSV (times in ISO form, UTC)."""
        frame = self._data.copy()
        frame["time"] = pd.to_datetime(frame["time"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
        return frame.to_csv(index=False)

    def csv_filename(self) -> str:
        names = "_".join(s.replace(":", "-").replace(".", "-").replace(" ", "") for s in self.series[:3]) or "plot"
        names = "".join(ch for ch in names if ch.isalnum() or ch in "-_")[:80]
        start, end = self._range
        span = f"_{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}" if start is not None else ""
        return f"hfpanel_{names}{span}.csv"

    def plot_object(self):
        """The HoloViews object shown (built from ``.data`` and ``.status``)."""
        return build_plot(
            self._data,
            self.kind,
            self._status,
            self._title(),
            self.height,
            S.BINS.get(self._bin_used or "1h", 3600),
            self._range,
        )

    # -- widgets ----------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        """Widgets bound to the parameters (``from_param``: two-way, no flags); only the two time
        inputs translate text, and the choice lists follow the store in ``_sync_choices``."""
        self._w_series = pn.widgets.MultiChoice.from_param(
            self.param.series,
            label="Series (module:metric or module.table:column)",
            options=list(self.series),
            sizing_mode="stretch_width",
            search_option_limit=50,
            option_limit=500,
            placeholder="type to search metrics and columns",
        )
        self._w_window = pn.widgets.Select.from_param(
            self.param.window, label="Window", options=list(WINDOWS), width=95
        )
        self._w_start = pn.widgets.TextInput(label="Start (UTC)", placeholder="end − window", width=175)
        self._w_end = pn.widgets.TextInput(label="End (UTC)", placeholder="latest run", width=175)
        self._w_bin = pn.widgets.Select.from_param(self.param.bin, label="Bin", width=85)
        self._w_agg = pn.widgets.Select.from_param(self.param.agg, label="Aggregate", width=90)
        self._w_per_run = pn.widgets.Select.from_param(
            self.param.per_run,
            label="Rows of a run",
            width=110,
            options={"each row": "", **{k: k for k in S.PER_RUN if k}},
        )
        self._w_group = pn.widgets.Select.from_param(
            self.param.group_by, label="Group by", options={"(none)": ""}, width=170
        )
        self._w_kind = pn.widgets.RadioButtonGroup.from_param(self.param.kind, label="Kind", color="light", align="end")
        self._w_overlay = pn.widgets.Checkbox.from_param(
            self.param.overlay_status, label="Shade module status", align="end"
        )
        self._download = pn.widgets.FileDownload(
            callback=lambda: io.StringIO(self.csv()),
            filename="hfpanel_plot.csv",
            label="Download CSV",
            color="default",
            embed=False,
            width=150,
            align="end",
        )
        self._summary = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(2, 10))
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=self.height, linked_axes=False)
        self._code = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")
        self._w_start.param.watch(lambda e: self._from_time_widget("start", e.new), "value")
        self._w_end.param.watch(lambda e: self._from_time_widget("end", e.new), "value")
        controls = pn.Column(
            self._w_series,
            pn.Row(
                self._w_window,
                self._w_start,
                self._w_end,
                self._w_bin,
                self._w_agg,
                self._w_per_run,
                self._w_group,
                sizing_mode="stretch_width",
            ),
            pn.Row(self._w_kind, self._w_overlay, self._download, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        self._layout = pn.Column(
            controls,
            self._summary,
            self._plot,
            pn.Card(self._code, title="Reproduce in a notebook", collapsed=True, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
            styles={"background": "#ffffff", "border-radius": "10px", "box-shadow": "0 1px 3px rgba(60,64,67,.3)"},
        )
        fit_narrow_screens(self._layout)

    def _from_time_widget(self, name: str, text: str) -> None:
        try:
            value = to_time(text) if text and text.strip() else None
        except ValueError as error:
            self._error = f"{name}: {error}"
            self._render_summary()
            return
        if differs(getattr(self, name), value):
            setattr(self, name, value)

    def _sync_choices(self) -> None:
        """The choices offered follow the store (a chosen value stays offered even when unknown, and
        then errors); the time inputs show the window's ends."""
        options = list(S.available_series(self.store)["series"]) if self.store is not None else []
        self._w_series.options = options + [s for s in self.series if s not in options]
        self._w_window.param.update(
            options=list(WINDOWS) + ([self.window] if self.window not in WINDOWS else []),
            disabled=self.start is not None,
        )
        for widget, value in ((self._w_start, self.start), (self._w_end, self.end)):
            text = iso(value) if value is not None else ""
            if widget.value != text:
                widget.value = text
        groups = self._group_options()
        if self.group_by and self.group_by not in groups:
            groups.append(self.group_by)
        self._w_group.options = {"(none)": "", **{g: g for g in groups}}

    def _group_options(self) -> list[str]:
        """Columns every selected detail series' table has (text columns first)."""
        if self.store is None:
            return []
        found = None
        for key in self.series:
            try:
                ref = S.parse_series(key)
            except S.SeriesError:
                continue
            if ref.is_metric or not self.store.has_table(ref.store_table):
                continue
            columns = S.group_columns(S.schema(self.store, ref.store_table))
            found = columns if found is None else [c for c in found if c in columns]
        return list(found or [])

    # -- rendering --------------------------------------------------------------------------------
    def _update(self) -> None:
        self._error = ""
        try:
            self._data = self.compute()
            self._status = self._status_spans() if self.overlay_status else self._status.iloc[0:0]
        except (S.SeriesError, ValueError) as error:
            self._data = S.empty_frame()
            self._status = self._status.iloc[0:0]
            self._error = str(error)
        self._sync_choices()
        # the pane as high as the figure (its legend under it included), so nothing is cut
        height = figure_height(self._data, self.kind, self.height)
        self._plot.param.update(object=self.plot_object(), height=height)
        self._download.filename = self.csv_filename()
        self._download.disabled = self._data.empty
        self._render_summary()
        try:
            code = self.code()
        except (S.SeriesError, ValueError):
            code = self.code(pin=False)
        self._code.object = f"<pre style='white-space:pre-wrap;margin:0'>{esc(code)}</pre>"

    def _status_spans(self) -> pd.DataFrame:
        start, end = self._range
        modules = list(dict.fromkeys(S.parse_series(k).module for k in self.series))
        frames = [S.status_spans(self.store, m, start, end) for m in modules]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(columns=["module", "level", "start", "end", "runs"])
        return pd.concat(frames, ignore_index=True)

    def _title(self) -> str:
        if not self.series:
            return "choose one or more series"
        agg = self.agg + (f" of per-run {self.per_run}" if self.per_run else "")
        grouped = f" by {self.group_by}" if self.group_by else ""
        # the series are named by the legend and the axes: a short title fits a phone
        return f"{agg} per {self._bin_used or self.bin}{grouped}"

    def _render_summary(self) -> None:
        if self._error:
            self._summary.object = f'<div class="hf-noinfo"><b>Cannot plot:</b> {esc(self._error)}</div>'
            return
        if not self.series:
            self._summary.object = (
                '<div class="hf-muted">Choose series above: <code>module:metric</code> or '
                "<code>module.table:column</code>.</div>"
            )
            return
        start, end = self._range
        labels = self._data["label"].nunique() if not self._data.empty else 0
        parts = [
            f"{esc(fmt_time(start))} – {esc(fmt_time(end))}",
            f"bin {esc(self._bin_used)}",
            f"{labels} curve{'s' if labels != 1 else ''}",
            f"{len(self._data)} points",
        ]
        shaded = self._status[self._status["level"].isin(SHADED)] if not self._status.empty else self._status
        if self.overlay_status:
            if shaded.empty:
                parts.append("status: no warning/critical/no-info period in the window")
            else:
                spans = ", ".join(
                    f'<span style="color:{LEVEL_COLORS.get(r.level, "#5f6368")};font-weight:700">'
                    f"{esc(r.module)} {esc(r.level)}</span> {esc(r.start.strftime('%m-%d %H:%M'))}–"
                    f"{esc(pd.Timestamp(r.end).strftime('%m-%d %H:%M'))}"
                    for r in shaded.head(8).itertuples()
                )
                parts.append("shaded: " + spans + (" …" if len(shaded) > 8 else ""))
        empty = "" if not self._data.empty else " · <b>no data in this window</b>"
        self._summary.object = '<div class="hf-small">' + " · ".join(parts) + empty + "</div>"


# -- one call from a notebook ---------------------------------------------------------------------------
def plot(store, series=(), window: str = AUTO_WINDOW, agg: str = "mean", **params) -> PlotBuilder:
    """``plot(store, series=["condor_held:held"], window="7d", agg="max", overlay_status=True)``:
    a PlotBuilder (renders in a notebook cell; ``.data`` holds the numbers). ``store`` is a Store or
    a path; every other PlotBuilder parameter (start, end, group_by, bin, per_run, kind, …) can be given."""
    if isinstance(series, str):
        series = names(series)
    return PlotBuilder(store=store, series=list(series), window=window, agg=agg, **params)
