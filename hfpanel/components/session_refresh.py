"""A page's periodic refresh, tied to its session: gone when the session is.

Panel's ``add_periodic_callback`` runs on the session's document while it has one; asked when the
document is already destroyed (a tab closed or reloaded while its page was still being built, which
a wall display reloading under load does), it falls back to an asyncio task on the server's loop
that repeats forever and holds the page — the page then never goes (the concurrent-reload session
test saw 1–2 of ~18 pages stay). So a refresh is started only for a live session, and each tick first
checks that its document still is one, stopping itself otherwise.
"""

from __future__ import annotations

import weakref

import panel as pn


def _alive(doc) -> bool:
    return doc is not None and getattr(doc, "session_context", None) is not None and hasattr(doc, "_roots")


def session_refresh(tick, period: int):
    """``tick()`` every ``period`` ms while the current session lives; None outside a live session."""
    doc = pn.state.curdoc
    if not _alive(doc):
        return None
    document = weakref.ref(doc)
    handle = {}

    def guarded() -> None:
        if not _alive(document()):  # started after its session ended: stop, and let the page go
            callback = handle.pop("callback", None)
            if callback is not None:
                callback.stop()
            return
        tick()

    handle["callback"] = pn.state.add_periodic_callback(guarded, period=period)
    return handle["callback"]
