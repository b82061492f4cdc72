"""The shifter's first screen in Chromium: what is broken right now, worst first, and since when;
the header shared by every page; and a real phone layout (375 px, mobile viewport)."""

from __future__ import annotations

import pytest
from browser_support import served, tile
from store_factory import build_store

from hfpanel.components.header import PAGES

pytestmark = pytest.mark.browser


def problem(page, module: str):
    return page.locator(f'.hf-prow[data-module="{module}"]')


def test_problems_now_worst_first_with_since_when(page, server, site, shots):
    """The store ends with sam_ce critical (last run) and condor_queue without information since the
    second run: both listed above everything, critical first, each with since when."""
    page.goto(server)
    critical, noinfo = problem(page, "sam_ce"), problem(page, "condor_queue")
    critical.wait_for()
    assert critical.get_attribute("data-level") == "critical" and noinfo.get_attribute("data-level") == "noinfo"
    assert critical.bounding_box()["y"] < noinfo.bounding_box()["y"]
    assert f"CRITICAL since {site.times[-1]:%H:%M} UTC" in critical.inner_text()
    assert f"NO INFORMATION since {site.times[1]:%H:%M} UTC — 2h" in noinfo.inner_text()
    # what to do: the first line of the instruction, from the configuration stored with the run
    assert "→ If critical for more than an hour, open a GGUS ticket." in critical.inner_text()
    assert "Check the CE log first." not in critical.inner_text()
    # above the tiles and the time-travel controls
    assert critical.bounding_box()["y"] < tile(page, "availability").bounding_box()["y"]
    assert critical.bounding_box()["y"] < page.get_by_role("button", name="◀ Earlier run").bounding_box()["y"]
    # a count in the header shows that level alone, and the link keeps it
    page.locator('.hf-count[data-level="noinfo"]').click()
    page.wait_for_url("**level=noinfo*")
    critical.wait_for(state="detached")
    assert noinfo.is_visible()
    # clicking a problem opens its module view
    page.locator('.hf-prow[data-module="condor_queue"] .hf-ptitle').click()
    page.locator('.hf-module-head[data-module="condor_queue"]').wait_for()
    page.screenshot(path=str(shots / "first-screen.png"), full_page=True)


def test_an_all_green_site_says_so_in_one_line(page, tmp_path):
    scenario = [{m: {"health": 1.0} for m in ("sam_ce", "sam_srm", "dcache_pools", "condor_queue", "condor_nodes")}]
    info = build_store(tmp_path / "store", scenario=scenario)
    with served(info.root, tmp_path / "serve.log") as url:
        page.goto(url)
        page.get_by_text("Every module is ok — nothing needs attention.").wait_for()
        assert page.locator(".hf-prow").count() == 0
        assert page.get_by_text("All 5 modules ok now.").is_visible()


def test_every_page_shares_the_header(page, server):
    for path, active in ((p.removeprefix("./"), title) for p, title in PAGES):
        page.goto(server + path)
        nav = page.locator("nav.hf-nav")
        nav.wait_for()
        assert [a.inner_text() for a in nav.locator("a").all()] == [title for _, title in PAGES]
        assert nav.locator('a[aria-current="page"]').inner_text() == active
        assert page.locator(".hf-topbar h1").inner_text() == "TEST-SITE"  # the site's name, on every page


def test_a_phone_gets_one_readable_column_with_the_problems_first(browser, server, shots):
    """A real phone viewport (mobile emulation honours the page's viewport): no zoomed-out desktop
    page, no horizontal scroll, text at a readable size, the problems first."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(server)
        first = problem(page, "sam_ce")
        first.wait_for()
        assert page.evaluate("window.innerWidth") <= 376, "the page is laid out wider than the phone"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 376, f"horizontal scroll on a phone: scrollWidth {width}"
        size = first.evaluate("e => parseFloat(getComputedStyle(e.querySelector('.hf-psince')).fontSize)")
        assert size >= 13, f"text of {size}px on a phone"
        assert first.bounding_box()["y"] < tile(page, "availability").bounding_box()["y"]
        for category in ("availability", "jobs", "storage"):
            box = tile(page, category).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 376, f"tile {category} cut: {box}"
        page.screenshot(path=str(shots / "phone-first-screen.png"), full_page=True)
    finally:
        context.close()


def test_a_long_instruction_and_message_keep_the_list_short_on_a_phone(browser, tmp_path, monkeypatch):
    """An instruction of a paragraph (as the demo's are) and a long error: the problem shows their
    first lines (three of the instruction, two of the message), the whole text on hover, so two
    problems still fit a phone's first screen."""
    import store_factory

    instruction = "Open a GGUS ticket to the site admins naming the CE. " + "Compare with the SAM history. " * 20
    error = "connection refused: condor.example.org:9618 " + "after retrying every backend in the list " * 10
    category, title, extra = store_factory.MODULES["sam_ce"]
    monkeypatch.setitem(store_factory.MODULES, "sam_ce", (category, title, {**extra, "instruction": instruction}))
    scenario = [
        {
            "sam_ce": {"health": 0.1},
            "sam_srm": {"health": 0.99},
            "dcache_pools": {"health": 0.9},
            "condor_queue": {"fail": error},
            "condor_nodes": {"health": 0.95},
        }
    ]
    info = build_store(tmp_path / "store", scenario=scenario)
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        with served(info.root, tmp_path / "serve.log") as url:
            page.goto(url)
            what = problem(page, "sam_ce").locator(".hf-pwhat")
            message = problem(page, "condor_queue").locator(".hf-pmsg")
            what.wait_for()
            lines = lambda node: node.evaluate(  # noqa: E731
                "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
            )
            assert lines(what) <= 3.2 and lines(message) <= 2.2, (lines(what), lines(message))
            assert what.get_attribute("title") == instruction.strip()
            assert message.get_attribute("title").startswith("no information: connection refused")
            assert what.inner_text().startswith("→ Open a GGUS ticket to the site admins naming the CE.")
            assert problem(page, "condor_queue").bounding_box()["y"] + 40 < 812, "the second problem is below the fold"
    finally:
        context.close()
