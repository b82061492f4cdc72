"""Dashboard: the time travel controls, the overview and the module view, linked together.

``time``, ``category`` and ``module`` are the whole state of a view; ``sync_url()`` keeps them in the
page's URL (``?time=2026-11-20T14:00:00&category=storage&module=sam_ce``), so a pasted link reproduces the view, and
``start_refresh()`` keeps "now" current while runs land, without touching the user's place.
"""

from __future__ import annotations

import logging

import pandas as pd
import panel as pn
import param

from ..levels import LEVELS
from . import data
from .base import StoreView, to_time
from .changes import WhatChanged
from .module_view import ModuleView
from .overview import StatusOverview
from .search import Search
from .strip import StatusStrip
from .style import CSS, LEVEL_COLORS, esc, iso
from .timetravel import TimeTravel
from .why import WhyThisColour

log = logging.getLogger("hfpanel.components")
#: on every layout of the page: rows wrap, and a narrow screen may squeeze a layout below the sum of
#: its children's widths (which Panel otherwise makes its minimum width)
NARROW_CSS = ":host { min-width: 0 !important; }"
WRAP_CSS = ":host { min-width: 0 !important; flex-wrap: wrap; }"
#: milliseconds between checks for a new run
REFRESH_PERIOD = 10_000


class UrlState(param.Parameterized):
    """The view's state as URL query parameters ("" = now / no module)."""

    time = param.String(default="")
    category = param.String(default="")
    module = param.String(default="")


class Dashboard(StoreView):
    """The whole app: header, TimeTravel, StatusOverview and (when a module is chosen) ModuleView.

    ``time`` and ``module`` drive the three components; clicking a module in the overview or
    stepping through time updates them (and the URL, once ``sync_url()`` was called).
    """

    module = param.String(default="", doc="The module opened in the module view ('' for none).")
    category = param.String(default="", doc="The only category the overview shows ('' for all).")

    _watched = ("store", "time", "config", "module", "category")

    def __init__(self, **params):
        super().__init__(**params)
        common = dict(store=self.store, time=self.time, config=self.config)
        self.timetravel = TimeTravel(store=self.store, time=self.time)
        self.overview = StatusOverview(selected=self.module, category=self.category, **common)
        self.module_view = ModuleView(module=self.module, **common)
        self.strip = StatusStrip(**common)
        self.changes = WhatChanged(active=False, **common)  # its card starts collapsed
        self.why = WhyThisColour(module=self.module, **common)
        self.search = Search(active=False, **common)  # its card starts collapsed
        self.timetravel.param.watch(lambda e: setattr(self, "time", e.new), "time")
        self.overview.param.watch(lambda e: setattr(self, "module", e.new), "selected")
        self.overview.param.watch(lambda e: setattr(self, "category", e.new), "category")
        self.module_view.param.watch(lambda e: setattr(self, "module", e.new), "module")
        self.strip.param.watch(lambda e: setattr(self, "time", e.new), "time")  # a cell click travels
        self.strip.param.watch(lambda e: setattr(self, "module", e.new or self.module), "selected")
        self.search.param.watch(lambda e: setattr(self, "module", e.new or self.module), "selected")
        self._header = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(4, 10))
        self._side = pn.Column(self.module_view, pn.Card(self.why, title="Why this colour", collapsed=False,
                                                         sizing_mode="stretch_width"),
                               sizing_mode="stretch_width", min_width=340, max_width=900,
                               margin=(8, 8), visible=False)
        self._layout = pn.Column(
            self._header, self.timetravel,
            self._card(self.search, "Search modules, categories and detail rows", collapsed=True),
            self._card(self.strip, "Status strip (click a cell to travel to that run)", collapsed=False),
            pn.Row(pn.Column(self.overview, sizing_mode="stretch_width"), self._side, sizing_mode="stretch_width"),
            self._card(self.changes, "What changed since the start of the shift", collapsed=True),
            sizing_mode="stretch_width")
        self._wrap_rows()
        self._url = None
        self._warned = None
        self._last_run = None
        self._start()

    def __panel__(self):
        return self._layout

    @staticmethod
    def _card(component: StoreView, title: str, collapsed: bool) -> pn.Card:
        """A card whose component renders only while the card is open (``active``)."""
        card = pn.Card(component, title=title, collapsed=collapsed, sizing_mode="stretch_width")
        component.active = not collapsed
        card.param.watch(lambda event: setattr(component, "active", not event.new), "collapsed")
        return card

    def _wrap_rows(self) -> None:
        """Let every row of the page wrap and no layout insist on the sum of its children's widths
        (Panel's computed minimum), so that a phone (375 px) gets no horizontal scroll."""
        layouts = list(self._layout.select(pn.layout.ListPanel))
        for child in self._children():
            layouts += list(child.__panel__().select(pn.layout.ListPanel))
        for layout in layouts:
            layout.stylesheets = [*layout.stylesheets, WRAP_CSS if isinstance(layout, pn.Row) else NARROW_CSS]

    @property
    def data(self) -> pd.DataFrame:
        return self.overview.data

    # -- propagation ---------------------------------------------------------------------------
    def _children(self):
        return (self.timetravel, self.overview, self.module_view, self.strip, self.changes, self.why, self.search)

    def _update(self) -> None:
        for child in self._children():
            changes = {}
            if child.store is not self.store:
                changes["store"] = self.store
            if child.time != self.time:
                changes["time"] = self.time
            if child is not self.timetravel and child.config is not self.config:
                changes["config"] = self.config
            if changes:
                child.param.update(**changes)
        if self.overview.category != self.category:
            self.overview.category = self.category
        if self.overview.selected != self.module:
            self.overview.selected = self.module
        if self.module_view.module != self.module:
            self.module_view.module = self.module
        if self.why.module != self.module:
            self.why.module = self.module
        self._side.visible = bool(self.module)
        self._render_header()
        if self._url is not None:
            self._url.param.update(time=iso(self.time) if self.time is not None else "", module=self.module,
                                   category=self.category)

    def refresh(self) -> None:
        for child in self._children():
            child.refresh()
        self._render_header()

    def _render_header(self) -> None:
        title = self.config.title if self.config is not None else (data.site_name(self.store) if self.store else "")
        modules = self.overview.all_modules
        counts = modules["level"].value_counts() if not modules.empty else {}
        summary = "".join(
            f'<span><i class="hf-dot" style="background:{LEVEL_COLORS[lvl]}"></i><b>{int(counts.get(lvl, 0))}</b> {lvl}</span>'
            for lvl in LEVELS)
        self._header.object = (f'<div class="hf-topbar"><h1>{esc(title or "hfpanel")}</h1>'
                               f'<span class="hf-sub">site status · hfpanel</span>'
                               f'<a class="hf-sub" href="transfers" style="color:#8ab4f8">transfers</a>'
                               f'<span class="hf-sum">{summary}</span></div>')

    # -- serving -------------------------------------------------------------------------------
    def sync_url(self, location=None) -> None:
        """Keep ``time``, ``category`` and ``module`` in the URL query (and apply those the URL already has)."""
        location = location or pn.state.location
        if location is None:
            return
        self._url = UrlState(time=iso(self.time) if self.time is not None else "", module=self.module,
                             category=self.category)
        location.sync(self._url, {"time": "time", "category": "category", "module": "module"})
        self._apply_url()
        self._url.param.watch(lambda *_: self._apply_url(), ["time", "category", "module"])
        self._url.param.watch(lambda *_: self._tidy_url(location), ["time", "category", "module"])
        self._tidy_url(location)

    def _apply_url(self) -> None:
        try:
            time = to_time(self._url.time)
        except ValueError:
            if self._url.time != self._warned:
                self._notify(f"Ignoring the time in the link: {self._url.time!r} is not a time")
            self._warned = self._url.time
            time = self.time
            self._url.time = iso(time) if time is not None else ""  # and put a good one in the URL
        module = self._url.module.strip()
        category = self._url.category.strip()
        if time != self.time or module != self.module or category != self.category:
            self.param.update(time=time, module=module, category=category)

    @staticmethod
    def _notify(message: str) -> None:
        """A warning toast once the page is loaded (a toast sent while building the page is lost)."""
        log.info(message)
        if pn.state.curdoc is None:
            return

        def show():
            if pn.state.notifications is not None:
                pn.state.notifications.warning(message, duration=8000)
        pn.state.onload(show)

    @staticmethod
    def _tidy_url(location) -> None:
        """Drop empty ``time=`` / ``category=`` / ``module=`` from the query so links stay short."""
        query = location.query_params
        tidy = {k: v for k, v in query.items() if not (k in ("time", "category", "module") and v in ("", None))}
        if tidy != query:
            from urllib.parse import urlencode
            location.search = ("?" + urlencode(tidy)) if tidy else ""

    def start_refresh(self, period: int = REFRESH_PERIOD):
        """Check for a new run every ``period`` ms; at now, show it (keeping module and scroll)."""
        self._last_run = self._latest()
        return pn.state.add_periodic_callback(self.tick, period=period)

    def _latest(self):
        times = data.run_times(self.store) if self.store is not None else []
        return times[-1] if times else None

    def tick(self) -> None:
        """One refresh check: cheap (a stat of the manifest) unless something changed."""
        try:
            self._tick()
        except Exception:  # a bad moment (e.g. the store moved) must not kill the callback
            log.exception("refreshing the dashboard failed; trying again at the next tick")

    def _tick(self) -> None:
        latest = self._latest()
        new_run = latest != self._last_run
        self._last_run = latest
        if self.time is None:
            self.refresh()  # new data, or at least ages that moved on
        elif new_run:
            self.timetravel.refresh()
