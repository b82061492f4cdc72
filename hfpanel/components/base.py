"""What every component shares: the store, the viewed time and (optionally) the site config."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path

import pandas as pd
import panel as pn
import param

from ..clock import parse_time, utcnow
from ..config import SiteConfig, load_config
from ..queries import loaders
from ..queries.status import DEFAULT_MAX_AGE
from ..store import Store
from .style import esc
from .url import differs

log = logging.getLogger("hfpanel.components")


#: None/"" / "now" mean now; anything else becomes a naive-UTC timestamp (ValueError if not a time)
to_time = parse_time


def to_store(value) -> Store | None:
    if value is None or isinstance(value, Store):
        return value
    return loaders.shared_store(value)


def to_config(value) -> SiteConfig | None:
    if value is None or isinstance(value, SiteConfig):
        return value
    return load_config(Path(value))


class StoreView(pn.viewable.Viewer):
    """Base of the components: ``store`` (a Store or a path), ``time`` (None = now) and ``config``.

    Subclasses build their panes once in ``__init__``, call ``self._update()`` whenever one of
    ``_watched`` changes, and expose what they show as ``.data``.
    """

    store = param.ClassSelector(
        class_=Store, allow_None=True, allow_refs=True, doc="The store to show (a path is opened)."
    )
    time = param.ClassSelector(
        class_=pd.Timestamp,
        allow_None=True,
        default=None,
        allow_refs=True,
        doc="The viewed time as naive UTC; None means now (the latest run).",
    )
    config = param.ClassSelector(
        class_=SiteConfig,
        allow_None=True,
        default=None,
        allow_refs=True,
        doc="The site config (instructions, links, max ages); optional.",
    )
    active = param.Boolean(
        default=True,
        allow_refs=True,
        doc="False while hidden (e.g. in a collapsed card): updates wait until the component is shown again.",
    )

    _watched: tuple = ("store", "time", "config")
    #: this component's parameters that follow the page it is part of (see ``follow``), by the name
    #: the page gives them: {"selected": "module"} makes a click in the overview the page's module
    _follows: dict = {"store": "store", "time": "time", "config": "config"}
    #: every component alive in this process (the server logs the count as sessions close: a
    #: count that keeps growing is a session leak)
    live: weakref.WeakSet[StoreView] = weakref.WeakSet()

    def __init__(self, **params):
        if "store" in params:
            params["store"] = to_store(params["store"])
        if "time" in params:
            params["time"] = to_time(params["time"])
        if "config" in params:
            params["config"] = to_config(params["config"])
        super().__init__(**params)
        StoreView.live.add(self)

    def follow(self, owner: param.Parameterized, **renamed: str) -> StoreView:
        """Bind this component to the page ``owner``: each parameter of ``_follows`` (plus ``renamed``,
        own name → the owner's name) follows the owner's through a parameter reference, and a
        change made here (a click, a step through time) is handed to the owner, which every other
        component follows in turn. One two-way binding, declared by ``_follows``, instead of
        watchers copying state between components."""
        mapping = {own: theirs for own, theirs in {**self._follows, **renamed}.items() if theirs in owner.param}
        self._owner, self._bound = owner, mapping
        self.param.update(**{own: owner.param[theirs] for own, theirs in mapping.items()})
        self.param.watch(self._hand_to_owner, list(mapping))
        return self

    def _hand_to_owner(self, *events) -> None:
        """Bound parameters changed here, not through the owner (that unbinds their references):
        give the values to the owner, in one update, and follow it again."""
        changed = {
            event.name: event.new
            for event in events
            if differs(getattr(self._owner, self._bound[event.name]), event.new)
        }
        if changed:
            self._owner.param.update(**{self._bound[own]: value for own, value in changed.items()})
            self.param.update(**{own: self._owner.param[self._bound[own]] for own in changed})

    def _start(self):
        """Call at the end of a subclass ``__init__``: first render, then follow changes.

        A hidden component only notes that it is out of date and renders when shown: a page
        builds and steps through time at the cost of what the shifter actually sees."""
        self._outdated = True
        self._failure = pn.pane.HTML(
            "", visible=False, sizing_mode="stretch_width", margin=(4, 10), css_classes=["hf-failure"]
        )
        self._failed_error, self._hidden_by_failure = None, []
        if isinstance(self._layout, pn.layout.ListPanel):
            self._layout.insert(0, self._failure)
        self._update_if_shown()
        self.param.watch(lambda *_: self._update_if_shown(outdated=True), list(self._watched))
        self.param.watch(lambda event: self._update_if_shown() if event.new else None, "active")

    def _update_if_shown(self, outdated: bool = False) -> None:
        self._outdated = self._outdated or outdated
        if self.active and self._outdated:
            self._outdated = False
            self._guarded_update()

    def _guarded_update(self) -> None:
        """``_update()``, but a failure stays in this component: its card says what failed (and hides
        what would be stale), the error is logged once, and the page and the session carry on."""
        if self._failed_error is not None:
            for pane in self._hidden_by_failure:
                pane.visible = True
            self._hidden_by_failure, self._failure.visible = [], False
        try:
            self._update()
        except Exception as error:  # any bug or bad datum: contained here, never a traceback on the page
            self._show_failure(error)
        else:
            self._failed_error = None

    def _show_failure(self, error: Exception) -> None:
        what = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if what != self._failed_error:  # one log line per distinct failure, not one per refresh
            log.error("%s could not be shown (%s); the rest of the page carries on", type(self).__name__, what)
            log.debug("traceback of the %s failure", type(self).__name__, exc_info=error)
        self._failed_error = what
        if isinstance(self._layout, pn.layout.ListPanel):
            self._hidden_by_failure = [pane for pane in self._layout if pane is not self._failure and pane.visible]
            for pane in self._hidden_by_failure:
                pane.visible = False
        self._failure.object = (
            f'<div class="hf-noinfo" role="alert"><b>This part could not be shown.</b> '
            f"{esc(self.failure_subject())}failed with {esc(what)}. The rest of the page works; "
            "the error is in the server log.</div>"
        )
        self._failure.visible = True

    def failure_subject(self) -> str:
        """What was being shown when a failure happened (e.g. "Why this colour of sam_ce "), for its message."""
        module = getattr(self, "module", "")
        return f"{type(self).__name__}" + (f" of {module} " if isinstance(module, str) and module else " ")

    @property
    def failure(self) -> str | None:
        """The failure this component shows instead of its content (None when it shows its content)."""
        return self._failed_error

    def refresh(self) -> None:
        """Re-read the data (a new run may have landed) and update the panes in place."""
        self._update_if_shown(outdated=True)

    def __panel__(self):
        return self._layout

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------
    def reference_time(self) -> pd.Timestamp:
        """The time ages are measured against: the viewed time, or the wall clock at now."""
        return self.time if self.time is not None else utcnow()

    def max_age(self, module: str) -> float:
        entry = self.module_config(module)
        return entry.max_age if entry is not None else DEFAULT_MAX_AGE

    def module_config(self, module: str):
        """The module's configuration: today's site config when the app has one, else the one stored
        with the run viewed (instructions, links, max ages survive a ``--store``-only app)."""
        if self.config is not None:
            try:
                return self.config.module(module)
            except KeyError:
                return None
        return loaders.stored_module(self.store, module, self.time) if self.store is not None else None

    def set_time(self, value) -> None:
        """Set the viewed time from anything time-like (None, "now", a string, a datetime)."""
        self.time = to_time(value)
