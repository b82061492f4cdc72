"""The status strip in Chromium at a desktop width and on a phone: labels whole and clear of the
cells, time-axis labels that never touch, held results joined, a missing run marked "no run"."""

from __future__ import annotations

import json

import pytest
from browser_support import served
from playwright.sync_api import expect
from store_factory_history import FLAKY_GAP, INTERVAL_TIMES, build_interval_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def strip_server(tmp_path_factory):
    root = build_interval_store(tmp_path_factory.mktemp("intervals") / "store")
    with served(root, tmp_path_factory.mktemp("serve-log") / "serve.log") as url:
        yield url


def open_strip(page, url):
    page.goto(url)
    canvas = page.locator("canvas.hf-strip")
    canvas.wait_for()
    expect(canvas).to_have_attribute("data-cells", str(len(INTERVAL_TIMES)))
    return canvas


def check_labels_and_axis(canvas, width: int) -> dict:
    data = canvas.evaluate("c => ({...c.dataset})")
    assert data["cut"] == "0", f"a strip label was cut at {width} px"
    if data["layout"] == "beside":
        assert int(data["labelw"]) + 6 <= float(data["left"]), "a label runs into the cells"
    ticks = json.loads(data["ticks"])
    assert len(ticks) >= 3, f"a time axis with {len(ticks)} labels"
    for (_, end), (start, _) in zip(ticks, ticks[1:]):
        assert end + 4 <= start, f"axis labels collide at {width} px: {ticks}"
    assert ticks[0][0] >= 0 and ticks[-1][1] <= canvas.bounding_box()["width"], "an axis label is cut"
    return data


def hover_text(page, canvas, data, row: int, cell: int) -> str:
    box = canvas.bounding_box()
    page.mouse.move(
        box["x"] + float(data["left"]) + (cell + 0.5) * float(data["cellw"]),
        box["y"] + float(data["top"]) + row * float(data["rowh"]) + 0.5 * (float(data["rowh"]) - float(data["labelh"])),
    )
    tip = page.locator(".hf-strip-tip")
    expect(tip).to_be_visible()
    return tip.inner_text()


def test_strip_at_a_desktop_width(page, strip_server, shots):
    page.set_viewport_size({"width": 1400, "height": 900})
    canvas = open_strip(page, strip_server)
    data = check_labels_and_axis(canvas, 1400)
    assert data["layout"] == "beside"
    rows = ["jobs", "quarter", "half", "flaky", "hourly"]  # the category, then its modules by title
    flaky = hover_text(page, canvas, data, rows.index("flaky"), INTERVAL_TIMES.index(FLAKY_GAP[0]))
    assert "no run" in flaky
    hourly = hover_text(page, canvas, data, rows.index("hourly"), 1)
    assert "held: the result of" in hourly and "warning" in hourly
    # the hourly module's result holds for an hour: its held cells are as solid as the run cell, joined
    # to it, so the row is one block per run and not a stripe of runs and something thinner between
    page.mouse.move(0, 0)
    top = float(data["top"]) + rows.index("hourly") * float(data["rowh"])
    height = float(data["rowh"]) - float(data["labelh"])

    def pixel(cell: int, dy: float) -> list:
        x = float(data["left"]) + (cell + 0.5) * float(data["cellw"])
        return canvas.evaluate(
            "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data)", [x, top + dy]
        )

    run = pixel(0, 2)
    assert run[3] == 255 and run != [255, 255, 255, 255], run
    assert [pixel(cell, dy) for cell in (1, 2, 3) for dy in (2, height - 2)] == [run] * 6
    page.screenshot(path=str(shots / "strip-desktop.png"))


def test_strip_on_a_phone(browser, strip_server, shots):
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        canvas = open_strip(page, strip_server)
        data = check_labels_and_axis(canvas, 375)
        assert data["layout"] == "above", "on a phone each label gets a line of its own"
        assert canvas.bounding_box()["width"] <= 375
        page.screenshot(path=str(shots / "strip-phone.png"), full_page=True)
    finally:
        context.close()


def test_the_demo_s_long_titles_are_whole_on_a_phone(browser, tmp_path, monkeypatch):
    """Titles as long as the demo's ("HammerCloud: CMS CRAB3 MiniAOD lazy-download (XCache)", a category
    "Storage: dCache pools, doors and accounting") fit a 375 px phone's strip whole, not cut."""
    import store_factory

    long_module = "HammerCloud: CMS CRAB3 MiniAOD lazy-download (XCache)"
    category, _, extra = store_factory.MODULES["condor_nodes"]
    monkeypatch.setitem(store_factory.MODULES, "condor_nodes", (category, long_module, extra))
    categories = [dict(c) for c in store_factory.CATEGORIES]
    categories[1]["title"] = "Storage: dCache pools, doors and accounting"
    monkeypatch.setattr(store_factory, "CATEGORIES", categories)
    info = store_factory.build_store(tmp_path / "store")
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        with served(info.root, tmp_path / "serve.log") as url:
            page.goto(url)
            canvas = page.locator("canvas.hf-strip")
            canvas.wait_for()
            expect(canvas).to_have_attribute("data-layout", "above")
            assert canvas.get_attribute("data-cut") == "0", "a strip label was cut on the phone"
    finally:
        context.close()
