"""Who a page session is, and the page as they may see it: the same ``Gate`` and ``auth.access``
rules as the API, applied when Panel builds a session's page.

Bokeh keeps the request that opened the session (its headers and cookies travel in the signed
session token; the connection is the WebSocket's), so the gate reads the same session cookie,
bearer token or proxy-verified DN it reads for the API — a DN still counts only when the
connection comes from a trusted proxy.
"""

from __future__ import annotations

import html
import types
import weakref

import panel as pn
from tornado.httputil import HTTPHeaders

from ..auth.access import Viewer
from ..auth.acting import Actor, Scope
from ..auth.identity import NOBODY_NEEDED
from ..auth.settings import PAGES
from ..queries.loaders import shared_store
from ..queries.viewed import hidden_for, viewed_config, viewed_store
from .style import CSS


class _SessionHandler:
    """What ``Gate.identify`` reads of a request handler, taken from a page session's request."""

    def __init__(self, request):
        raw = getattr(request, "_request", None)
        self.request = types.SimpleNamespace(
            headers=HTTPHeaders({k: v if isinstance(v, str) else ", ".join(v) for k, v in request.headers.items()}),
            remote_ip=getattr(raw, "remote_ip", None),
            connection=getattr(raw, "connection", None),
            protocol=getattr(raw, "protocol", "http"),
        )
        self._cookies = dict(request.cookies)

    def get_cookie(self, name: str, default=None):
        return self._cookies.get(name, default)


def session_viewer(gate) -> Viewer:
    """The reader of the page session being built (nobody signed in: only what is open to all)."""
    if gate.open:
        return gate.viewer(NOBODY_NEEDED)
    context = getattr(pn.state.curdoc, "session_context", None)
    request = getattr(context, "request", None)
    identity = gate.identify(_SessionHandler(request)) if request is not None else None
    return gate.viewer(identity)


#: each page session's reader (their document -> Viewer), for what a page records in their name and
#: what it lets them do; a session of a site with sign-in always has one (an anonymous one: may not act)
_VIEWERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def session_identity():
    """The signed-in reader of the current page session, or None (no sign-in configured, or not a
    served page): an acknowledgement from the events page is given in this name."""
    viewer = _VIEWERS.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    return viewer.identity if viewer is not None else None


def session_actor(store) -> Actor | None:
    """The current page session's reader as one who acts (``hfpanel.auth.acting``): what they may
    do (``auth.acknowledge`` / ``auth.silence``) and on what (``store``'s hidden names, the page's
    own view); None without sign-in or outside a served page (anyone acts, as the local admin)."""
    viewer = _VIEWERS.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    if viewer is None:
        return None
    return Actor(viewer, Scope.of(getattr(store, "hidden", None)))


def refused(name: str):
    """The page a reader gets instead of one ``auth.access`` keeps from them."""
    return pn.pane.HTML(
        f'<div class="hf-banner hf-banner-late" role="alert">The {html.escape(name)} page is not open to '
        'you (the site\'s access rules). <a href="/">Back to the overview</a>.</div>',
        stylesheets=[CSS],
        sizing_mode="stretch_width",
    )


def guarded(build, name: str, gate, **kwargs):
    """One session's page from ``build(**kwargs)``, as the session's reader may see it: refused when
    a page rule keeps it from them, else over the ``store`` and ``config`` narrowed to what they see."""
    if gate is None or gate.open:
        return build(**kwargs)
    viewer = session_viewer(gate)
    if pn.state.curdoc is not None:
        _VIEWERS[pn.state.curdoc] = viewer
    if name in PAGES and not viewer.page(name):
        return refused(name)
    store, config = kwargs.get("store"), kwargs.get("config")
    hidden = hidden_for(viewer, shared_store(store), config)
    return build(**{**kwargs, "store": viewed_store(store, hidden), "config": viewed_config(config, hidden)})
