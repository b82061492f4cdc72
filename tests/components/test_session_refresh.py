"""A page built after its session ended (a tab closed or reloaded mid-build) starts no refresh: Panel
would run it on the server's event loop forever and hold the page (the concurrent-reload leak)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from hfpanel.components.session_refresh import session_refresh


class LiveSession:  # what a served document has while its session lives
    id = "s"


def test_a_document_whose_session_ended_gets_no_refresh_task():
    """Panel's own ``add_periodic_callback`` on such a document (no session context) starts an asyncio
    task that repeats for ever when the loop runs in this thread; ``session_refresh`` starts nothing."""
    ticks = []

    async def build_after_the_tab_went():
        before = set(asyncio.all_tasks())
        with set_curdoc(Document()):  # no session context: Bokeh destroyed it, or never had one
            ours = session_refresh(lambda: ticks.append(1), 10)
        await asyncio.sleep(0.05)
        return ours, set(asyncio.all_tasks()) - before

    with ThreadPoolExecutor(1) as pool:  # its own loop: the browser tests' Playwright may hold this thread's
        ours, started = pool.submit(asyncio.run, build_after_the_tab_went()).result(timeout=60)
    assert ours is None and started == set() and ticks == []


def test_a_refresh_stops_itself_once_its_document_is_destroyed(monkeypatch):
    started, ticks, stopped = {}, [], []

    class Callback:
        def stop(self):
            stopped.append(True)

    def fake_add(callback, period):
        started["callback"] = callback
        return Callback()

    monkeypatch.setattr(pn.state, "add_periodic_callback", fake_add)
    doc = Document()
    session = LiveSession()
    doc._session_context = lambda: session  # Bokeh keeps a weak reference to the session context
    with set_curdoc(doc):
        assert session_refresh(lambda: ticks.append(1), 10) is not None
    started["callback"]()
    assert ticks == [1] and stopped == []
    doc._session_context = None  # the session ended (Bokeh's Document.destroy)
    started["callback"]()
    assert ticks == [1] and stopped == [True]
