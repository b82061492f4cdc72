"""A page built after its session ended (a tab closed or reloaded mid-build) starts no refresh: Panel
would run it on the server's event loop forever and hold the page (the concurrent-reload leak)."""

from __future__ import annotations

import asyncio

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from hfpanel.components.session_refresh import session_refresh


class LiveSession:  # what a served document has while its session lives
    id = "s"


def test_a_document_whose_session_ended_gets_no_refresh_task():
    ticks = []

    async def build_after_the_tab_went():
        before = len(asyncio.all_tasks())
        with set_curdoc(Document()):  # no session context: Bokeh destroyed it, or never had one
            plain = pn.state.add_periodic_callback(lambda: ticks.append(1), period=10)
        leaked = len(asyncio.all_tasks()) - before  # what Panel does on its own: a task for ever
        plain.stop()
        await asyncio.sleep(0)  # the stopped task is cancelled and gone
        before = len(asyncio.all_tasks())
        with set_curdoc(Document()):
            ours = session_refresh(lambda: ticks.append(1), 10)
        return leaked, ours, len(asyncio.all_tasks()) - before

    leaked, ours, tasks = asyncio.run(build_after_the_tab_went())
    assert leaked == 1 and ours is None and tasks == 0


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
