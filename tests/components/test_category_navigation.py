"""Category navigation: ``category`` narrows the overview to one tile and is kept in the URL."""

from __future__ import annotations

import pytest
from panel.io.location import Location
from store_factory import build_store

from hfpanel.components import Dashboard, StatusOverview
from hfpanel.components.style import iso


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("category") / "store")


def test_overview_shows_only_the_chosen_category(info):
    overview = StatusOverview(store=info.root, category="storage")
    assert list(overview.categories["category"]) == ["storage"]
    assert list(overview.data["module"]) == ["dcache_pools"]
    assert len(overview.all_modules) == 5
    assert overview.level_of("sam_ce") == "critical"  # any module's level is still known
    assert overview._all.visible
    assert len(overview._grid.objects) == 1
    overview._all.clicks += 1  # "All categories"
    assert overview.category == ""
    assert set(overview.categories["category"]) == {"availability", "storage", "jobs"}
    assert len(overview._grid.objects) == 3 and not overview._all.visible


def test_clicking_a_tile_title_focuses_it(info):
    overview = StatusOverview(store=info.root)
    tile = overview._tiles["jobs"]
    assert '<button class="hf-catbtn" data-focus="jobs">Batch system ›</button>' in tile.view.html
    tile.view._handle_msg({"focus": "jobs"})  # what a click on the tile's title sends
    assert overview.category == "jobs"
    assert set(overview.data["module"]) == {"condor_queue", "condor_nodes"}
    assert "hf-catbtn" not in tile.view.html  # focused: no button to focus it again


def test_unknown_category_says_so(info):
    overview = StatusOverview(store=info.root, category="nope")
    assert overview.data.empty and overview._note.visible
    assert "nope" in overview._note.object


def test_dashboard_category_in_the_url(info):
    location = Location(search="?category=storage")
    dash = Dashboard(store=info.root)
    dash.sync_url(location)
    assert dash.category == "storage" and dash.overview.category == "storage"
    assert list(dash.overview.data["module"]) == ["dcache_pools"]
    dash.overview.select("dcache_pools")
    assert location.query_params == {"category": "storage", "module": "dcache_pools"}
    dash.timetravel.step(-1)
    assert location.query_params["time"] == iso(info.times[-2])
    assert dash.overview.category == "storage"
    dash.overview.focus("")
    assert "category" not in location.query_params
    assert location.query_params["module"] == "dcache_pools"
    dash.overview._tiles["availability"].view._handle_msg({"focus": "availability"})
    assert location.query_params["category"] == "availability"
    # the header still counts the whole site
    assert len(dash.overview.data) == 2
    counts = {level: n for level, n, _ in dash.header.counts}
    assert counts["ok"] == 4 and counts["noinfo"] == 1


def test_a_pasted_category_link_reproduces_the_view(info):
    location = Location(search=f"?time={iso(info.times[1])}&category=storage&module=dcache_pools")
    dash = Dashboard(store=info.root)
    dash.sync_url(location)
    assert dash.time == info.times[1] and dash.category == "storage" and dash.module == "dcache_pools"
    assert list(dash.overview.categories["category"]) == ["storage"]
    assert dash.overview.level_of("dcache_pools") == "warning"
