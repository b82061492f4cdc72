"""A served page lets go of everything when its session closes: 20 sessions reloading all day
must not grow the server (issue 3: memory flat session after session)."""

from __future__ import annotations

import contextlib
import gc
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import panel as pn
from bokeh.client import pull_session
from browser_support import free_port

from apps.overview import build
from hfpanel.serve import _page


def open_and_close(url: str) -> None:
    """One browser-less session: connect, pull the document, close. In its own thread, because
    bokeh's client runs an event loop and the browser tests' Playwright may hold this one's."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: pull_session(url=url).close()).result(timeout=120)


@contextlib.contextmanager
def tracked_server(site):
    """The overview served in this process with short session lifetimes; yields (url, weak
    references to every page built)."""
    built = []

    def tracked_build(**kwargs):
        page = build(**kwargs)
        built.append(weakref.ref(page))
        return page

    port = free_port()
    server = pn.serve(
        {"/": _page(tracked_build, store=site.root)},
        port=port,
        address="127.0.0.1",
        show=False,
        threaded=True,
        websocket_origin=[f"127.0.0.1:{port}"],
        unused_session_lifetime_milliseconds=500,
        check_unused_sessions_milliseconds=300,
    )
    try:
        yield f"http://127.0.0.1:{port}/", built
    finally:
        server.stop()


def still_alive(built, seconds: float) -> int:
    """How many of the tracked pages are alive after waiting up to ``seconds`` for all to go."""
    deadline = time.monotonic() + seconds
    while any(ref() is not None for ref in built) and time.monotonic() < deadline:
        time.sleep(0.5)
        gc.collect()
    gc.collect()
    return sum(ref() is not None for ref in built)


def test_closed_sessions_free_their_components(site):
    with tracked_server(site) as (url, built):
        deadline = time.monotonic() + 60
        while True:
            try:
                open_and_close(url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for _ in range(5):
            open_and_close(url)
        assert len(built) == 6, "one page per session"
        alive = still_alive(built, 30)
        assert alive == 0, f"{alive} of 6 closed sessions still hold their page"


def test_tabs_reloading_concurrently_leave_no_page_behind(site, browser):
    """Three tabs reloading together, three times, as a wall display and two shifters do: some
    sessions close while their page is still being sent. Every page must be freed afterwards (the
    notification area's entry in Panel's view registry kept such pages alive, more each round)."""
    with tracked_server(site) as (url, built):
        contexts = [browser.new_context() for _ in range(3)]
        pages = [context.new_page() for context in contexts]
        pages[0].goto(url, timeout=90_000)
        for _ in range(3):
            for page in pages:
                page.goto(url, wait_until="commit", timeout=90_000)
            for page in pages:
                page.locator(".hf-tile").first.wait_for(timeout=90_000)
        for context in contexts:
            context.close()
        assert len(built) >= 10
        # a session closed while its page was still being built (slow under load) is freed when that
        # build ends; a leak never is: wait long enough for the former (seen needing > 45 s at load 18)
        alive = still_alive(built, 120)
        assert alive == 0, f"{alive} of {len(built)} pages still alive after every tab closed"
