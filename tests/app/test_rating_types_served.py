"""Every rating type through the served page: opened by link, clicked in a tile, the session keeps
refreshing afterwards, and "why this colour" explains each one (no traceback, no dead card)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from browser_support import module_row, served, tile, wait_for_level

from hfpanel.config import load_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

pytestmark = pytest.mark.browser

FAKE, PLAIN = "store_factory:FakeCollector", "store_factory:PlainCollector"
ROWS = [{"host": "ce1", "state": "OK"}, {"host": "ce2", "state": "BAD"}, {"host": "ce3", "state": "OK"}]
#: module -> (collector, rating, params, expected level, words "why this colour" must say)
MODULES = {
    "by_threshold": (
        FAKE,
        {"type": "threshold", "metric": "health", "warning": 0.6, "critical": 0.3},
        {"health": 0.5},
        "warning",
        "at or below the warning bound 0.6",
    ),
    "by_weakest_link": (
        FAKE,
        {"type": "weakest_link", "column": "state", "map": {"OK": 1, "BAD": 0}, "label": "host"},
        {"rows": ROWS},
        "critical",
        "weakest link over rows[state]: ce2 = BAD",
    ),
    "by_fraction": (
        FAKE,
        {"type": "fraction", "column": "state", "states": ["BAD"], "warning": 0.2, "critical": 0.5, "label": "host"},
        {"rows": ROWS},
        "warning",
        "1 of 3 rows (33%) have state BAD",
    ),
    "by_map": (
        FAKE,
        {"type": "map", "metric": "health", "map": {0: 0.0, 1: 1.0, 2: 0.5}},
        {"health": 2},
        "warning",
        "health = 2 → 0.5 (from the map)",
    ),
    "by_no_rule": (PLAIN, None, {"health": 0.1}, "ok", "fine whenever its data arrives"),
    "by_failure": (FAKE, None, {"fail": "HTTP 503 from the source"}, "noinfo", "the source failed — HTTP 503"),
}


def write_config(folder, store, health_of_map: int = 2):
    modules = []
    for name, (collector, rating, params, _, _) in MODULES.items():
        params = dict(params)
        if name == "by_map":
            params["health"] = health_of_map
        modules.append(
            {
                "name": name,
                "category": "kinds",
                "collector": collector,
                "params": params,
                "interval": "1h",
                **({"rating": rating} if rating else {}),
            }
        )
    config = {
        "site": {"name": "T2_XX_Kinds"},
        "store": str(store),
        "categories": [{"name": "kinds"}],
        "modules": modules,
    }
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def collect(path, when):
    with StoreWriter(load_config(path).store) as writer:
        Runner(load_config(path)).run_once(writer, now=when, force=True)


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    path = write_config(folder, folder / "store")
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("min")
    collect(path, now - pd.Timedelta(minutes=30))
    with served(folder / "store", folder / "serve.log", config=path) as url:
        yield url, path, folder


@pytest.mark.parametrize("module", list(MODULES))
def test_every_rating_type_explains_itself_when_opened_by_link(page, kinds, module):
    url, _, folder = kinds
    level, words = MODULES[module][3], MODULES[module][4]
    page.goto(f"{url}?module={module}")
    page.locator(f'.hf-module-head[data-module="{module}"]').wait_for()
    why = page.locator(f'.hf-header[data-module="{module}"]')
    why.wait_for()
    assert why.get_attribute("data-level") == level
    page.get_by_text(words, exact=False).first.wait_for()
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "could not be shown" not in body
    assert "could not be shown" not in (folder / "serve.log").read_text()


def test_clicking_map_rated_modules_keeps_the_tab_alive(page, kinds):
    """Click the map-rated module in its tile, then the others: each explains itself, and a run
    that lands afterwards still reaches the open tab (the refresh did not die)."""
    url, path, folder = kinds
    page.goto(url)
    tile(page, "kinds").wait_for()
    for module in ("by_map", "by_threshold", "by_map"):
        page.locator(f'button.hf-modbtn[data-select="{module}"]').click()
        page.locator(f'.hf-header[data-module="{module}"]').wait_for()
    wait_for_level(module_row(page, "by_map"), "warning")
    write_config(folder, folder / "store", health_of_map=0)  # the probe turns critical in the next run
    collect(path, pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s"))
    wait_for_level(module_row(page, "by_map"), "critical")
    page.locator('.hf-header[data-module="by_map"][data-level="critical"]').wait_for()
    log = (folder / "serve.log").read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
