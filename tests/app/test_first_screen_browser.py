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
