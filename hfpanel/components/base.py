"""What every component shares: the store, the viewed time and (optionally) the site config."""

from __future__ import annotations

import weakref

from pathlib import Path

import pandas as pd
import panel as pn
import param

from ..config import DEFAULTS, SiteConfig, load_config
from ..durations import parse_duration
from ..runner import utcnow
from ..store import Store
from ..store.frames import utc_naive
from . import data

#: how old a module's row may be before it counts as stale when no site config says otherwise
DEFAULT_MAX_AGE = parse_duration(DEFAULTS["max_age"])


def to_time(value) -> pd.Timestamp | None:
    """None/"" / "now" mean now; anything else becomes a naive-UTC timestamp (ValueError if not a time)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "now")):
        return None
    try:
        stamp = utc_naive(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a time: {value!r}") from error
    if pd.isna(stamp):
        return None
    return stamp.floor("us")


def to_store(value) -> Store | None:
    if value is None or isinstance(value, Store):
        return value
    return data.shared_store(value)


def to_config(value) -> SiteConfig | None:
    if value is None or isinstance(value, SiteConfig):
        return value
    return load_config(Path(value))


class StoreView(pn.viewable.Viewer):
    """Base of the components: ``store`` (a Store or a path), ``time`` (None = now) and ``config``.

    Subclasses build their panes once in ``__init__``, call ``self._update()`` whenever one of
    ``_watched`` changes, and expose what they show as ``.data``.
    """

    store = param.ClassSelector(class_=Store, allow_None=True, doc="The store to show (a path is opened).")
    time = param.ClassSelector(class_=pd.Timestamp, allow_None=True, default=None,
                               doc="The viewed time as naive UTC; None means now (the latest run).")
    config = param.ClassSelector(class_=SiteConfig, allow_None=True, default=None,
                                 doc="The site config (instructions, links, max ages); optional.")
    active = param.Boolean(default=True, doc="False while hidden (e.g. in a collapsed card): updates "
                                             "wait until the component is shown again.")

    _watched: tuple = ("store", "time", "config")
    #: every component alive in this process (the server logs the count as sessions close: a
    #: count that keeps growing is a session leak)
    live: "weakref.WeakSet[StoreView]" = weakref.WeakSet()

    def __init__(self, **params):
        if "store" in params:
            params["store"] = to_store(params["store"])
        if "time" in params:
            params["time"] = to_time(params["time"])
        if "config" in params:
            params["config"] = to_config(params["config"])
        super().__init__(**params)
        StoreView.live.add(self)

    def _start(self):
        """Call at the end of a subclass ``__init__``: first render, then follow changes.

        A hidden component only notes that it is out of date and renders when shown: a page
        builds and steps through time at the cost of what the shifter actually sees."""
        self._outdated = True
        self._update_if_shown()
        self.param.watch(lambda *_: self._update_if_shown(outdated=True), list(self._watched))
        self.param.watch(lambda event: self._update_if_shown() if event.new else None, "active")

    def _update_if_shown(self, outdated: bool = False) -> None:
        self._outdated = self._outdated or outdated
        if self.active and self._outdated:
            self._outdated = False
            self._update()

    def refresh(self) -> None:
        """Re-read the data (a new run may have landed) and update the panes in place."""
        self._update_if_shown(outdated=True)

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------
    def reference_time(self) -> pd.Timestamp:
        """The time ages are measured against: the viewed time, or the wall clock at now."""
        return self.time if self.time is not None else utcnow()

    def max_age(self, module: str) -> float:
        if self.config is not None:
            try:
                return self.config.module(module).max_age
            except StopIteration:
                pass
        return DEFAULT_MAX_AGE

    def module_config(self, module: str):
        if self.config is None:
            return None
        try:
            return self.config.module(module)
        except StopIteration:
            return None

    def set_time(self, value) -> None:
        """Set the viewed time from anything time-like (None, "now", a string, a datetime)."""
        self.time = to_time(value)
