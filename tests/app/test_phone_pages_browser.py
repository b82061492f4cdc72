"""Every page on a phone (375 px, mobile emulation honouring the page's viewport): one column, no
horizontal scroll, readable text — the status page with the problems first, the plot builder with
a plot, the transfer page with its filters and matrix."""

from __future__ import annotations

import pytest
from browser_support import served
from store_factory import build_store
from store_factory_transfers import build_transfer_store

pytestmark = pytest.mark.browser
PHONE = 375

#: the pages, and what must be on screen when each has rendered
PAGES = {
    "": ".hf-prow",
    "plots?series=sam_ce%3Ahealth%2Cdcache_pools.rows%3Avalue&overlay=1": ".bk-Canvas, canvas",
    "transfers": ".hf-eff-level",
}


#: the controls, plots, problems and tiles that reach beyond the screen (a wide table scrolling inside
#: its own box is fine: a phone cannot show twelve columns)
CUT_OFF = """(limit) => { const out = [];
  const walk = (root) => { for (const e of root.querySelectorAll('*')) {
    if (e.matches('input, select, button, canvas, .hf-prow, .hf-tile, .hf-topbar') && !e.closest('.tabulator')) {
      const r = e.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && (r.left < -1 || r.right > limit + 1))
        out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.left) + '–' + Math.round(r.right));
    }
    if (e.shadowRoot) walk(e.shadowRoot); } };
  walk(document); return out.slice(0, 10) }"""


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory):
    """One store with module runs and transfers, so every page has something to lay out."""
    root = tmp_path_factory.mktemp("phone") / "store"
    build_store(root)
    build_transfer_store(root)
    with served(root, tmp_path_factory.mktemp("serve-log") / "serve.log") as url:
        yield url


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_a_phone(browser, phone_server, path, shots):
    context = browser.new_context(
        viewport={"width": PHONE, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(phone_server + path)
        page.locator(PAGES[path]).first.wait_for()
        page.wait_for_timeout(1500)  # the last layouts settle (Bokeh sizes its plots after the first paint)
        assert page.evaluate("window.innerWidth") <= PHONE + 1, f"/{path} is laid out wider than the phone"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE + 1, f"horizontal scroll on /{path}: scrollWidth {width}"
        nav = page.locator(".hf-nav a").first
        size = nav.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 13, f"text of {size}px on /{path}"
        wide = page.evaluate(CUT_OFF, PHONE)
        assert not wide, f"cut off on /{path}: {wide}"
        name = (path.split("?")[0] or "status").replace("/", "")
        page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
    finally:
        context.close()


def test_the_problems_come_first_on_a_phone(browser, phone_server):
    context = browser.new_context(
        viewport={"width": PHONE, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(phone_server)
        first = page.locator(".hf-prow").first
        first.wait_for()
        below = [page.locator(s).first for s in (".hf-tile", "canvas.hf-strip")]
        for other in below:
            other.wait_for()
            assert first.bounding_box()["y"] < other.bounding_box()["y"]
    finally:
        context.close()
