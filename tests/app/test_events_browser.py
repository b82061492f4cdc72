"""The ``/events`` page in headless Chromium: a shifter acknowledges the open incident and silences a
module from the page; the board says who and why at once, and the rows are in the store as if
``hfpanel ack`` and ``hfpanel silence`` had written them. Fails on a console error or a dialog."""

from __future__ import annotations

import pytest
from browser_support import served
from event_sites import EventSite, notifying

from hfpanel.store import Store

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("events-browser") / "store"
    site = EventSite(
        root, {"ce": "availability", "pool": "storage"}, notifications=notifying(hook_url="http://127.0.0.1:9/x")
    )
    site.run({}, send=False)
    site.run({"ce": {"health": 0.1, "note": "spool full"}}, send=False)
    return site


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    with served(site.root, tmp_path_factory.mktemp("serve-log-events") / "serve.log") as url:
        yield url + "events"


def test_acknowledge_and_silence_from_the_page(page, server, site, shots):
    page.goto(server)
    page.get_by_text("Open (1)").wait_for()
    page.get_by_label("Your name").fill("dana")
    page.get_by_label("Comment").fill(f"restarting the CE {HOSTILE}")
    page.get_by_label("Comment").press("Tab")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    page.get_by_text("acknowledged by dana").wait_for()
    page.get_by_text("Acknowledged (1)").wait_for()
    page.get_by_text(f"restarting the CE {HOSTILE}").first.wait_for()  # as text, never markup
    page.get_by_text("(applied at the next run)").wait_for()
    page.get_by_label("Silence what matches").fill("module=pool")
    page.get_by_label("Why").fill("dCache upgrade")
    page.get_by_label("Why").press("Tab")
    page.get_by_role("button", name="Silence", exact=True).click()
    page.get_by_text("Silences in force").wait_for()
    page.locator("li", has_text="dana: dCache upgrade").wait_for()
    page.screenshot(path=str(shots / "events_ack.png"), full_page=True)
    with Store(site.root) as store:
        acks = store.sql("SELECT author, action, comment FROM acks")
        silences = store.sql("SELECT author, comment, matchers FROM silences")
    assert acks.values.tolist() == [["dana", "ack", f"restarting the CE {HOSTILE}"]]
    assert silences.values.tolist() == [["dana", "dCache upgrade", '{"module": ["pool"]}']]
