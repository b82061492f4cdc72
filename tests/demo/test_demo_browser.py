"""The served demo app as a new user meets it after `make demo`: every category's tile, and a
journey back to before the CE incident."""

import pandas as pd
import pytest
from browser_support import module_row, served, tile, wait_for_level

from hfpanel.components.style import fmt_time, iso
from hfpanel.config import load_config
from hfpanel.queries.status import category_frame, module_frame
from hfpanel.store import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(demo_store, tmp_path_factory):
    config = demo_store.parent / "demo-store.site.yaml"
    with served(demo_store, tmp_path_factory.mktemp("demo-serve") / "serve.log", config=config) as url:
        yield url


def test_demo_tiles_and_travel_back_before_the_incident(page, demo_server, demo_store, demo_start, shots):
    config = load_config(demo_store.parent / "demo-store.site.yaml")
    store = Store(demo_store)
    # as the page answers now (a module silent beyond interval + max_age is no information by the time the test runs)
    now = category_frame(store, None, config).set_index("category")
    page.goto(demo_server)
    for category in config.categories:
        head = tile(page, category.name)
        head.wait_for()
        assert head.get_attribute("data-level") == now.loc[category.name, "level"]
        assert head.get_by_text(category.title, exact=True).is_visible()
    sam_ce_now = module_frame(store, None, config).set_index("module").loc["sam_ce", "level"]  # the slow ARC CE
    wait_for_level(module_row(page, "sam_ce"), sam_ce_now)
    page.screenshot(path=str(shots / "demo-overview.png"), full_page=True)

    before = demo_start + pd.Timedelta(hours=19)  # before the incident: every CE test fine
    run = store.latest_run(before)
    page.goto(f"{demo_server}?time={iso(pd.Timestamp(run['time']))}")
    page.get_by_text(f"Viewing the past: {fmt_time(pd.Timestamp(run['time']))}").wait_for()
    wait_for_level(module_row(page, "sam_ce"), "ok")
    page.get_by_role("button", name="Later run ▶").click()  # step forward one run
    later = store.runs(start=pd.Timestamp(run["time"]) + pd.Timedelta(seconds=1)).iloc[0]["time"]
    page.get_by_text(f"Viewing the past: {fmt_time(pd.Timestamp(later))}").wait_for()
    page.get_by_role("button", name="Now", exact=True).click()
    wait_for_level(module_row(page, "sam_ce"), sam_ce_now)
