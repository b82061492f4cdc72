"""Dashboard: the time travel controls, the overview and the module view, linked together.

``time``, ``category`` and ``module`` are the whole state of a view; ``sync_url()`` (``url.UrlSync``) keeps them in the
page's URL (``?time=2026-11-20T14:00:00&category=storage&module=sam_ce``), so a pasted link reproduces the view, and
``start_refresh()`` keeps "now" current while runs land, without touching the user's place.
"""

from __future__ import annotations

import logging

import pandas as pd
import panel as pn
import param

from ..queries import loaders
from .base import StoreView
from .changes import WhatChanged
from .header import PageHeader
from .module_view import ModuleView
from .overview import StatusOverview
from .page import fit_narrow_screens
from .problems import PROBLEM_LEVELS, ProblemList
from .search import Search
from .session_refresh import session_refresh
from .strip import StatusStrip
from .timetravel import TimeTravel
from .url import TIME, UrlField, UrlSync
from .why import WhyThisColour

log = logging.getLogger("hfpanel.components")
#: milliseconds between checks for a new run
REFRESH_PERIOD = 10_000


def check_level(level: str) -> None:
    if level and level not in PROBLEM_LEVELS:
        raise ValueError(f"one of {', '.join(PROBLEM_LEVELS)}")


class Dashboard(UrlSync, StoreView):
    """The whole app: header, TimeTravel, StatusOverview and (when a module is chosen) ModuleView.

    The dashboard's ``time``, ``module`` and ``category`` are the page's state: every component
    follows them (``StoreView.follow``), and a click in any of them — a tile, a strip cell, a search
    result, a step through time — changes them for all (and the URL, once ``sync_url()`` was called).
    """

    module = param.String(default="", doc="The module opened in the module view ('' for none).")
    category = param.String(default="", doc="The only category the overview shows ('' for all).")
    level = param.String(default="", doc="The only level the problem list shows ('' for every problem).")

    _watched = ("store", "time", "config", "module", "category")
    url_fields = (
        UrlField("time", codec=TIME),
        UrlField("category"),
        UrlField("module"),
        UrlField("level", check=check_level),
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.problems = ProblemList().follow(self, level="level")
        self.header = PageHeader(
            on_level=self.problems.show_level,
            local_counts=True,
            active="./",
            subtitle="site status",
            sizing_mode="stretch_width",
            margin=(4, 10),
        )
        self.timetravel = TimeTravel().follow(self)
        self.overview = StatusOverview().follow(self)
        self.module_view = ModuleView().follow(self)
        self.strip = StatusStrip().follow(self)
        self.changes = WhatChanged(active=False).follow(self)  # its card starts collapsed
        self.why = WhyThisColour().follow(self)
        self.search = Search(active=False).follow(self)  # its card starts collapsed
        self._side = pn.Column(
            self.module_view,
            pn.Card(self.why, title="Why this colour", collapsed=False, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
            min_width=340,
            max_width=900,
            margin=(8, 8),
            visible=False,
        )
        self._layout = pn.Column(
            self.header,
            self.problems,
            self.timetravel,
            self._card(self.search, "Search modules, categories and detail rows", collapsed=True),
            self._card(self.strip, "Status strip (click a cell to travel to that run)", collapsed=False),
            pn.Row(pn.Column(self.overview, sizing_mode="stretch_width"), self._side, sizing_mode="stretch_width"),
            self._card(self.changes, "What changed since the start of the shift", collapsed=True),
            sizing_mode="stretch_width",
        )
        self._wrap_rows()
        self._last_run = None
        self._start()

    def __panel__(self):
        return self._layout

    @staticmethod
    def _card(component: StoreView, title: str, collapsed: bool) -> pn.Card:
        """A card whose component renders only while the card is open (``active``)."""
        card = pn.Card(component, title=title, collapsed=collapsed, sizing_mode="stretch_width")
        component.active = card.param.collapsed.rx.not_()  # a reference: open card, active component
        return card

    def _wrap_rows(self) -> None:
        """Let every row of the page wrap and no layout insist on the sum of its children's widths
        (Panel's computed minimum), so that a phone (375 px) gets no horizontal scroll."""
        fit_narrow_screens(self._layout, *self._children())

    @property
    def data(self) -> pd.DataFrame:
        return self.overview.data

    # -- what the dashboard itself shows ------------------------------------------------------------
    def _children(self):
        return (
            self.problems,
            self.timetravel,
            self.overview,
            self.module_view,
            self.strip,
            self.changes,
            self.why,
            self.search,
        )

    def _update(self) -> None:
        self._side.visible = bool(self.module)
        self._render_header()

    def refresh(self) -> None:
        for child in self._children():
            child.refresh()
        self._render_header()

    def _render_header(self) -> None:
        """The shared header: the site's name and its counts per level (a click filters the problems)."""
        title = self.config.title if self.config is not None else (loaders.site_name(self.store) if self.store else "")
        modules = self.overview.all_modules
        counts = modules["level"].value_counts().to_dict() if not modules.empty else {}
        self.header.title = title or "hfpanel"
        self.header.set_counts(counts)

    # -- serving -------------------------------------------------------------------------------
    def url_problem(self, message: str) -> None:
        """A warning toast once the page is loaded (a toast sent while building the page is lost)."""
        message = f"Ignoring part of the link: {message}"
        log.info(message)
        if pn.state.curdoc is None:
            return

        def show():
            if pn.state.notifications is not None:
                pn.state.notifications.warning(message, duration=8000)

        pn.state.onload(show)

    def start_refresh(self, period: int = REFRESH_PERIOD):
        """Check for a new run every ``period`` ms; at now, show it (keeping module and scroll)."""
        self._last_run = self._latest()
        return session_refresh(self.tick, period)

    def _latest(self):
        times = loaders.run_times(self.store) if self.store is not None else []
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
