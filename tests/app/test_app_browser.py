"""The served app in headless Chromium: what a shifter sees, clicks and pastes.

Starts ``hfpanel serve`` on a free port of 127.0.0.1 over a store made by ``store_factory`` and
drives it with Playwright (its CSS and text locators pierce Bokeh's open shadow roots).
"""

from __future__ import annotations

import pytest
from browser_support import module_row, tile, wait_for_level
from store_factory import HOSTILE

from hfpanel.components.style import fmt_time, iso

pytestmark = pytest.mark.browser


def test_every_category_tile_with_its_level(page, server, shots):
    page.goto(server)
    # the batch system: one of its two modules without information, so not green (warning)
    for category, title, level in (
        ("availability", "Site availability", "critical"),
        ("jobs", "Batch system", "warning"),
        ("storage", "Storage", "ok"),
    ):
        head = tile(page, category)
        head.wait_for()
        assert head.get_attribute("data-level") == level
        assert head.locator(".hf-word").inner_text().lower() == level
        assert head.get_by_text(title, exact=True).is_visible()
    # modules with their levels, the reason for no information and the stale badge
    assert module_row(page, "sam_ce").get_attribute("data-level") == "critical"
    condor = module_row(page, "condor_queue")
    assert condor.get_attribute("data-level") == "noinfo"
    assert condor.get_by_text("connection refused: condor.example.org:9618").is_visible()
    assert condor.locator(".hf-stale").is_visible()
    # text from a source is shown as text, never run
    assert page.get_by_text(f"node note {HOSTILE}").is_visible()
    page.get_by_text("Live — latest run").wait_for()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)


def test_travelling_back_shows_the_banner_and_the_old_level(page, server, site):
    page.goto(server)
    wait_for_level(module_row(page, "sam_ce"), "critical")
    assert page.get_by_text("Viewing the past").count() == 0
    page.get_by_role("button", name="◀ Earlier run").click()
    banner = page.get_by_text(f"Viewing the past: {fmt_time(site.times[-2])}")
    banner.wait_for()
    wait_for_level(module_row(page, "sam_ce"), "ok")
    wait_for_level(tile(page, "availability"), "ok")
    page.wait_for_url(f"**time={iso(site.times[-2]).replace(':', '%3A')}*")
    page.get_by_role("button", name="◀ Earlier run").click()
    page.get_by_text(f"Viewing the past: {fmt_time(site.times[-3])}").wait_for()
    wait_for_level(module_row(page, "dcache_pools"), "warning")
    # the run select goes straight to any run
    page.get_by_role("combobox").first.select_option(label=f"{fmt_time(site.times[0])} — all ok")
    page.get_by_text(f"Viewing the past: {fmt_time(site.times[0])}").wait_for()
    wait_for_level(module_row(page, "condor_queue"), "ok")
    page.get_by_role("button", name="Now", exact=True).click()
    wait_for_level(module_row(page, "sam_ce"), "critical")
    assert page.get_by_text("Viewing the past").count() == 0


def test_clicking_a_module_opens_its_view(page, server, site):
    page.goto(server)
    page.locator('button.hf-modbtn[data-select="condor_queue"]').click()  # its title in the tile
    head = page.locator('.hf-module-head[data-module="condor_queue"]')
    head.wait_for()
    assert head.get_attribute("data-level") == "noinfo"
    assert page.get_by_text(f"as of {fmt_time(site.times[0])}").first.is_visible()
    page.wait_for_url("**module=condor_queue*")


def test_a_pasted_link_opens_that_exact_view(page, server, site, shots):
    when = site.times[1]
    page.goto(f"{server}?time={iso(when)}&module=dcache_pools")
    page.get_by_text(f"Viewing the past: {fmt_time(when)}").wait_for()
    head = page.locator('.hf-module-head[data-module="dcache_pools"]')
    head.wait_for()
    assert head.get_attribute("data-level") == "warning"
    assert page.get_by_text(f"as of {fmt_time(when)}").first.is_visible()
    assert module_row(page, "dcache_pools").get_attribute("data-level") == "warning"
    assert module_row(page, "sam_ce").get_attribute("data-level") == "ok"
    # the detail table of that run: sortable, cells as text
    page.get_by_text("dcache_pools-1", exact=True).wait_for()
    page.screenshot(path=str(shots / "module.png"), full_page=True)


def test_hostile_detail_cell_is_text(page, server):
    page.goto(f"{server}?module=condor_nodes")
    page.locator('.hf-module-head[data-module="condor_nodes"]').wait_for()
    page.get_by_text(HOSTILE, exact=True).wait_for()


def test_plot_builder_page_draws_the_linked_plot(page, server, shots):
    page.goto(f"{server}plots?series=sam_ce%3Ahealth%2Cdcache_pools%3Ahealth&window=24h&overlay=1")
    page.locator(".bk-Canvas, canvas").first.wait_for()
    assert page.locator('option[value="sam_ce:health"]').count() >= 1  # the series chooser holds it
    page.get_by_role("button", name="bar", exact=True).click()
    page.wait_for_url("**kind=bar*")
    page.screenshot(path=str(shots / "plots.png"), full_page=True)
