"""The ``/transfers`` page in headless Chromium: a pasted link sets the filters and shows the
matrix, a click on a cell opens that pair, a filter change lands in the URL, hostile text stays
text. Every test fails on a console error or a dialog (the ``page`` fixture)."""

from __future__ import annotations

import pytest
from browser_support import served
from store_factory_transfers import HOSTILE, HOSTILE_MESSAGE, build_transfer_store

pytestmark = pytest.mark.browser
A, B = "alpha.example", "beta.example"
#: every Bokeh plot frame in page pixels: the canvas's bounding box plus the frame's offsets in it
PLOT_FRAMES_JS = """() => {
  const out = [], seen = new Set();
  function walk(v) {
    if (!v || seen.has(v)) return; seen.add(v);
    if (v.frame && v.canvas_view) {
      const r = v.canvas_view.el.getBoundingClientRect(), b = v.frame.bbox;
      out.push({x0: r.left + b.x0, x1: r.left + b.x1, y0: r.top + b.y0, y1: r.top + b.y1});
    }
    for (const k of (v.child_views || [])) walk(k);
  }
  for (const v of Object.values(Bokeh.index)) walk(v);
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    info = build_transfer_store(tmp_path_factory.mktemp("transfers-browser") / "store")
    with served(info.root, tmp_path_factory.mktemp("serve-log-transfers") / "serve.log") as url:
        yield url + "transfers"


def matrix_frame(page) -> dict:
    """The matrix plot's frame (the first Bokeh canvas of the page)."""
    canvas = page.locator("canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    frames = [
        f
        for f in page.evaluate(PLOT_FRAMES_JS)
        if box["x"] <= f["x0"] < box["x"] + box["width"] and box["y"] <= f["y0"] < box["y"] + box["height"]
    ]
    assert frames, "the matrix plot frame was not found"
    return frames[0]


def test_a_pasted_link_sets_the_filters_and_shows_the_matrix(page, server, shots):
    page.goto(f"{server}?vo=cms&activity=Production&window=3d")
    # cms Production over 3 days: alpha→beta 16 (10 today, 6 the day before), beta→gamma 5, beta→alpha 1
    page.get_by_text("3 site pairs, 22 transfers").wait_for()
    assert page.get_by_label("VO").input_value() == "cms"
    assert page.get_by_label("Activity").input_value() == "Production"
    assert page.get_by_label("Window").input_value() == "3d"
    page.locator("canvas").first.wait_for()
    page.screenshot(path=str(shots / "transfers.png"), full_page=True)


def test_clicking_a_cell_shows_the_pairs_transfers_and_errors(page, server, shots):
    page.goto(f"{server}?vo=cms")
    page.get_by_text("4 site pairs, 18 transfers").wait_for()
    frame = matrix_frame(page)
    # cms: sources and destinations are alpha, beta, gamma (sorted); alpha → beta is row 0, column 1
    x = frame["x0"] + 1.5 * (frame["x1"] - frame["x0"]) / 3
    y = frame["y0"] + 0.5 * (frame["y1"] - frame["y0"]) / 3
    page.mouse.click(x, y)
    pair = page.locator(f'.hf-pair[data-src="{A}"][data-dst="{B}"]')
    pair.wait_for()
    assert "10 transfers, 2 failed, efficiency 80.0%" in pair.inner_text()
    assert "CONNECTION" in pair.inner_text()
    page.get_by_text("se1.alpha.example").first.wait_for()  # a raw transfer row of the pair
    page.wait_for_url(f"**src={A}*")
    assert f"dst={B}" in page.url
    page.screenshot(path=str(shots / "transfers_pair.png"), full_page=True)
    # gamma → alpha (row 2, column 0): its raw rows hold a hostile message, shown as text
    page.mouse.click(
        frame["x0"] + 0.5 * (frame["x1"] - frame["x0"]) / 3, frame["y0"] + 2.5 * (frame["y1"] - frame["y0"]) / 3
    )
    page.locator(f'.hf-pair[data-src="gamma.example"][data-dst="{A}"]').wait_for()
    page.get_by_text(HOSTILE_MESSAGE, exact=True).first.wait_for()


def test_the_overview_header_links_to_the_transfers_page(page, server):
    page.goto(server.removesuffix("transfers"))
    page.get_by_role("link", name="transfers").click()
    page.get_by_text("Transfer matrix").wait_for()


def test_changing_a_filter_updates_the_url_and_the_matrix(page, server):
    page.goto(server)
    page.get_by_text("5 site pairs, 25 transfers").wait_for()
    page.get_by_label("VO").select_option("atlas")
    page.wait_for_url("**vo=atlas*")
    page.get_by_text("1 site pair, 4 transfers").wait_for()
    page.get_by_label("Window").select_option("7d")
    page.wait_for_url("**window=7d*")
    assert "vo=atlas" in page.url


def test_hostile_names_and_messages_are_text(page, server):
    page.goto(f"{server}?vo=ops&view=errors")
    page.get_by_text("3 failures in 1 pattern", exact=True).wait_for()
    category = page.locator(".hf-error-category").first
    assert category.locator("b").first.inner_text() == HOSTILE  # shown as text, never run (no dialog)
    assert category.locator("code").inner_text() == HOSTILE
    page.locator(".bk-tab").get_by_text("Matrix", exact=True).click()  # the hostile site as a tick label
    page.get_by_text("1 site pair, 3 transfers").wait_for()
    page.wait_for_url(lambda url: "view=" not in url)  # the default tab: its key leaves the URL
