"""TransferPage: the ``/transfers`` page — filters, then the matrix, the timeline, the sites, the
top errors and XRootD access in tabs, all showing the same VO, activity, site and window.

The whole view lives in the URL (``/transfers?vo=cms&activity=Production&site=T2_CH_CERN&window=7d``,
plus ``end``, ``color``, ``src``/``dst`` of the opened pair and ``view`` = the tab), so a pasted
link reproduces it. Only the visible tab queries (the others wait, ``StoreView.active``).
"""

from __future__ import annotations

import logging

import pandas as pd
import panel as pn
import param

from ...queries import transfers as queries
from ...queries.transfer_filters import WINDOWS, make_filters, window_length
from ..base import StoreView, to_time
from ..page import fit_narrow_screens, site_header
from ..session_refresh import session_refresh
from ..style import CSS, esc, iso
from ..url import DURATION, TIME, UrlField, UrlSync, differs
from .errors import TopErrors
from .matrix import TransferMatrix
from .sites import SiteHistory, SiteStatistics
from .timeline import TransferTimeline
from .xrootd import XRootDAccess

log = logging.getLogger("hfpanel.components")
#: milliseconds between checks for a new aggregation commit
REFRESH_PERIOD = 30_000
VIEWS = ("matrix", "timeline", "sites", "errors", "xrootd")
TAB_TITLES = ("Matrix", "Over time", "Sites", "Top errors", "XRootD access")


def _check_window(text: str) -> None:
    window_length(text)


class TransferPage(UrlSync, StoreView):
    """Every transfer view under one set of filters. ``data`` is the matrix frame; the views are
    ``matrix``, ``timeline``, ``sites``, ``history``, ``errors`` and ``xrootd``. They follow the
    page's parameters (``StoreView.follow``); the page's view lives in the URL (``url_fields``)."""

    vo = param.String(default="")
    activity = param.String(default="")
    site = param.String(default="")
    window = param.String(default="24h")
    end = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None)
    color_by = param.Selector(default="efficiency", objects=["efficiency", "volume"])
    src = param.String(default="")
    dst = param.String(default="")
    view = param.Selector(default="matrix", objects=list(VIEWS))

    _watched = ("store", "time", "config", "vo", "activity", "site", "window", "end", "color_by", "src", "dst", "view")
    url_fields = (
        UrlField("vo"),
        UrlField("activity"),
        UrlField("site"),
        UrlField("window", codec=DURATION, check=_check_window),
        UrlField("end", codec=TIME),
        UrlField("color_by", key="color"),
        UrlField("src"),
        UrlField("dst"),
        UrlField("view"),
    )

    def __init__(self, **params):
        if params.get("end") is not None:
            params["end"] = to_time(params["end"])
        super().__init__(**params)
        # only the visible tab queries. (Set in ``_update``, not as an ``rx`` reference to ``view``: param
        # 2.4 leaves such a reference stale when ``view`` changes in one update with a followed parameter.)
        shown = lambda tab: tab == self.view  # noqa: E731
        self.matrix = TransferMatrix(active=shown("matrix")).follow(self, color_by="color_by", src="src", dst="dst")
        self.timeline = TransferTimeline(active=shown("timeline")).follow(self)
        self.sites = SiteStatistics(active=shown("sites")).follow(self, selected="site")
        self.history = SiteHistory(active=shown("sites")).follow(self)
        self.errors = TopErrors(active=shown("errors")).follow(self)
        self.xrootd = XRootDAccess(active=shown("xrootd")).follow(self)
        self._stamp = self.store.stamp() if self.store is not None else None  # the data shown
        self._build_widgets()
        self._start()

    @property
    def data(self) -> pd.DataFrame:
        return self.matrix.data

    def views(self) -> dict:
        return {
            "matrix": (self.matrix,),
            "timeline": (self.timeline,),
            "sites": (self.sites, self.history),
            "errors": (self.errors,),
            "xrootd": (self.xrootd,),
        }

    # -- widgets ---------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self._header = site_header(
            self.store, self.config, active="transfers", subtitle="FTS transfers and XRootD access"
        )
        self._w_vo = pn.widgets.Select.from_param(self.param.vo, label="VO", options={"(all)": ""}, width=140)
        self._w_activity = pn.widgets.Select.from_param(
            self.param.activity, label="Activity", options={"(all)": ""}, width=190
        )
        self._w_site = pn.widgets.Select.from_param(self.param.site, label="Site", options={"(all)": ""}, width=230)
        self._w_window = pn.widgets.Select.from_param(
            self.param.window, label="Window", options=list(WINDOWS), width=90
        )
        self._w_end = pn.widgets.TextInput(
            label="End (UTC)", placeholder="newest data", width=180, value=iso(self.end) if self.end is not None else ""
        )
        self._w_color = pn.widgets.RadioButtonGroup.from_param(
            self.param.color_by, label="Colour", color="light", align="end"
        )
        self._note = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width", margin=(0, 10))
        self._w_end.param.watch(lambda event: self._from_end(event.new), "value")
        self._tabs = pn.Tabs(
            *[
                (title, pn.Column(*[v.__panel__() for v in self.views()[name]], sizing_mode="stretch_width"))
                for name, title in zip(VIEWS, TAB_TITLES)
            ],
            sizing_mode="stretch_width",
            dynamic=False,
            active=VIEWS.index(self.view),
        )
        self._tabs.param.watch(lambda event: setattr(self, "view", VIEWS[event.new]), "active")
        filters = pn.Row(
            self._w_vo,
            self._w_activity,
            self._w_site,
            self._w_window,
            self._w_end,
            self._w_color,
            sizing_mode="stretch_width",
        )
        self._layout = pn.Column(self._header, filters, self._note, self._tabs, sizing_mode="stretch_width")
        fit_narrow_screens(self._layout)

    def _from_end(self, text: str) -> None:
        try:
            end = to_time(text) if text and text.strip() else None
        except ValueError as error:
            self._note.object = f'<div class="hf-noinfo">End: {esc(error)}</div>'
            return
        if differs(self.end, end):
            self.end = end

    def url_problem(self, message: str) -> None:
        self._note.object = f'<div class="hf-noinfo">Ignoring the link: {esc(message)}</div>'

    def _options(self) -> dict[str, list[str]]:
        try:
            filters = make_filters(self.store, self.window, self.end if self.end is not None else self.time)
        except ValueError:
            return {"vo": [], "activity": [], "site": []}
        return queries.options(self.store, filters) if filters is not None else {"vo": [], "activity": [], "site": []}

    def _sync_widgets(self) -> None:
        """The choices offered: the VOs, activities and sites of the window (the value chosen stays
        offered even when the window has none of it); the widgets' values follow the parameters."""
        found = self._options() if self.store is not None else {"vo": [], "activity": [], "site": []}
        for widget, name in ((self._w_vo, "vo"), (self._w_activity, "activity"), (self._w_site, "site")):
            value = getattr(self, name)
            names = found.get(name, []) + ([value] if value and value not in found.get(name, []) else [])
            widget.options = {"(all)": "", **{n: n for n in names}}
        self._w_window.options = list(WINDOWS) + ([self.window] if self.window not in WINDOWS else [])
        end = iso(self.end) if self.end is not None else ""
        if self._w_end.value != end:
            self._w_end.value = end
        if self._tabs.active != VIEWS.index(self.view):
            self._tabs.active = VIEWS.index(self.view)

    # -- what the page itself shows ---------------------------------------------------------------------
    def _update(self) -> None:
        self._note.object = ""
        for name, views in self.views().items():
            for view in views:
                view.active = name == self.view
        self._sync_widgets()

    # -- following new data -------------------------------------------------------------------------------
    def start_refresh(self, period: int = REFRESH_PERIOD):
        """Check every ``period`` ms for a new commit (one ``stat`` of the manifest); at now, show it."""
        return session_refresh(self.tick, period)

    def tick(self) -> None:
        """One refresh check. A window with a fixed end (``end`` or ``time``) never moves."""
        try:
            stamp = self.store.stamp() if self.store is not None else None
            if stamp == self._stamp or self.end is not None or self.time is not None:
                return
            self._stamp = stamp
            for views in self.views().values():
                for view in views:
                    view.refresh()  # a hidden tab only notes it is out of date
            self._sync_widgets()
        except Exception:  # a bad moment (the store moved) must not kill the callback
            log.exception("refreshing the transfer page failed; trying again at the next tick")
