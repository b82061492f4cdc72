"""TimeTravel: pick the moment to look at — a run, any time, one run back or forward, or now."""

from __future__ import annotations

import bisect
import statistics

import pandas as pd
import panel as pn

from ..clock import utcnow
from ..durations import format_duration
from ..queries import loaders
from .base import StoreView, to_time
from .style import CSS, esc, fmt_age, fmt_time, iso

NOW = ""  # the select's value for "now"
#: at most this many runs are offered in the select (the newest); older ones via the time input
MAX_OPTIONS = 1000


def _runs(store) -> pd.DataFrame:
    return loaders.cached("runs", store, (), lambda: store.runs())


def _options(store) -> dict:
    """The select's options, newest first: built once per store content, shared by sessions."""

    def build():
        recent = _runs(store).tail(MAX_OPTIONS).iloc[::-1]
        return {_label(run): iso(run["time"]) for run in recent.to_dict("records")}

    return loaders.cached("run_options", store, (), build)


def _label(run) -> str:
    bad = [f"{int(run[lvl])} {lvl}" for lvl in ("critical", "warning", "noinfo") if lvl in run and int(run[lvl] or 0)]
    return f"{fmt_time(run['time'])} — {', '.join(bad) if bad else 'all ok'}"


class TimeTravel(StoreView):
    """Controls for the viewed ``time``: a select of the stored runs, a time input, one run
    earlier / later, and "Now"; a banner says which moment is shown.

    Stepping later from the last-but-one run returns to now (the latest run, kept live).
    ``data`` is the runs table offered.
    """

    def __init__(self, **params):
        super().__init__(**params)
        self._syncing = False
        self._prev = pn.widgets.Button(label="◀ Earlier run", width=130, align="end")
        self._next = pn.widgets.Button(label="Later run ▶", width=130, align="end")
        self._now = pn.widgets.Button(label="Now", color="primary", width=90, align="end")
        self._select = pn.widgets.Select(label="Run (UTC)", options={"Now (live)": NOW}, value=NOW, width=330)
        self._input = pn.widgets.DatetimeInput(
            label="Go to time (UTC)", value=None, width=200, format="%Y-%m-%d %H:%M:%S"
        )
        self._banner = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(6, 10))
        self._prev.on_click(lambda event: self.step(-1))
        self._next.on_click(lambda event: self.step(+1))
        self._now.on_click(lambda event: self.go_now())
        self._select.param.watch(self._on_select, "value")
        self._input.param.watch(self._on_input, "value")
        self._layout = pn.Column(
            pn.Row(self._prev, self._select, self._next, self._now, self._input, sizing_mode="stretch_width"),
            self._banner,
            sizing_mode="stretch_width",
        )
        self._start()

    def __panel__(self):
        return self._layout

    # -- the API -------------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        return _runs(self.store) if self.store is not None else pd.DataFrame()

    def frame(self) -> pd.DataFrame:
        return self.data

    @property
    def run_times(self) -> list[pd.Timestamp]:
        return loaders.run_times(self.store) if self.store is not None else []

    @property
    def shown_run(self) -> pd.Timestamp | None:
        """The time of the run whose status is shown (the latest at or before ``time``)."""
        times = self.run_times
        if not times:
            return None
        if self.time is None:
            return times[-1]
        index = bisect.bisect_right(times, self.time) - 1
        return times[index] if index >= 0 else None

    def step(self, delta: int) -> None:
        """Move ``delta`` runs back (negative) or forward; past the last-but-one run means now."""
        times = self.run_times
        if not times:
            return
        index = len(times) - 1 if self.time is None else bisect.bisect_right(times, self.time) - 1
        target = index + delta
        if target >= len(times) - 1:
            self.time = None
        elif target >= 0:
            self.time = times[target]

    def link(self, *components) -> TimeTravel:
        """Make ``components`` follow this control's time, by reference (for notebooks; the app's
        Dashboard binds its components with ``follow``)."""
        for component in components:
            component.time = self.param.time
        return self

    def go_now(self) -> None:
        self.time = None

    def go(self, value) -> None:
        """Show the store as it was at ``value`` (a time, an ISO string; None or "now" for now)."""
        self.time = to_time(value)

    # -- widgets -> time -------------------------------------------------------------------------
    def _on_select(self, event) -> None:
        if self._syncing:
            return
        self.time = to_time(event.new) if event.new else None

    def _on_input(self, event) -> None:
        if self._syncing or event.new is None:
            return
        self.time = to_time(event.new)

    # -- time -> widgets -------------------------------------------------------------------------
    def _update(self) -> None:
        runs = self.data
        times = self.run_times
        options = {"Now (live)": NOW}
        if not runs.empty:
            options.update(_options(self.store))
        shown = self.shown_run
        value = NOW if self.time is None else (iso(shown) if shown is not None else NOW)
        if value not in options.values():  # an old run beyond MAX_OPTIONS: offer it too
            options[fmt_time(shown)] = value
        self._syncing = True
        try:
            self._select.param.update(options=options, value=value)
            self._input.value = None if self.time is None else self.time.to_pydatetime()
        finally:
            self._syncing = False
        index = len(times) - 1 if self.time is None else bisect.bisect_right(times, self.time) - 1
        self._prev.disabled = index <= 0
        self._next.disabled = self.time is None
        self._now.disabled = self.time is None
        self._banner.object = self._banner_html(times, shown)

    def _banner_html(self, times, shown) -> str:
        if not times:
            return '<div class="hf-banner hf-banner-live">The store has no runs yet.</div>'
        if self.time is not None:
            what = (
                f"status as of the run at {esc(fmt_time(shown))}"
                if shown is not None
                else "before the first run: nothing was known yet"
            )
            return (
                f'<div class="hf-banner hf-banner-past"><span class="hf-pill" style="background:#f9ab00;color:#202124;margin-right:8px">past</span>Viewing the past: {esc(fmt_time(self.time))} '
                f'<span style="font-weight:400">— {what}. Press <b>Now</b> to return to the live view.</span></div>'
            )
        latest = times[-1]
        age = (utcnow() - latest).total_seconds()
        recent = times[-21:]
        gaps = [(b - a).total_seconds() for a, b in zip(recent, recent[1:])]
        expected = max(3 * statistics.median(gaps), 900.0) if gaps else 3600.0
        if age > expected:
            return (
                f'<div class="hf-banner hf-banner-late">⚠ No new run for {esc(format_duration(age))} '
                f"(latest run {esc(fmt_time(latest))}) — is the collector running?</div>"
            )
        return (
            f'<div class="hf-banner hf-banner-live">● Live — latest run {esc(fmt_time(latest))} '
            f'<span style="font-weight:400">({esc(fmt_age(age))})</span></div>'
        )
