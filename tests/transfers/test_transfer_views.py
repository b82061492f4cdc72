"""The transfer views as a user would notice them: the numbers in the matrix, the timeline, the
sites, the top errors and XRootD access; filters; the pair opened by a click; escaping; the
"no transfer data yet" message; the URL of the page. No server: built in-process over the small
hand-built store of ``store_factory_transfers.py`` (its docstring lists the numbers)."""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest
from panel.io.location import Location
from store_factory_transfers import DAY2, END, HOSTILE, build_transfer_store

from hfpanel.components.style import LEVEL_COLORS
from hfpanel.components.transfers import (
    SiteHistory,
    SiteStatistics,
    TopErrors,
    TransferMatrix,
    TransferTimeline,
    XRootDAccess,
)
from hfpanel.components.transfers.page import TransferPage
from hfpanel.config import load_config
from hfpanel.queries import loaders
from hfpanel.store import StoreWriter

A, B, C = "alpha.example", "beta.example", "gamma.example"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    return build_transfer_store(tmp_path_factory.mktemp("transfers") / "store")


@pytest.fixture(scope="module")
def store(info):
    return loaders.shared_store(info.root)


def html_of(component) -> str:
    return "\n".join(str(p.object) for p in component.__panel__().select(pn.pane.HTML) if p.object)


def efficiency(matrix, src, dst) -> float:
    return float(matrix.cell(src, dst)["efficiency"])


# -- the matrix --------------------------------------------------------------------------------------
def test_matrix_cell_shows_the_pair_efficiency_over_the_last_day(store):
    matrix = TransferMatrix(store=store)
    assert matrix.filters.end == END and matrix.filters.grain == "10m"  # "now" = the newest bin
    cell = matrix.cell(A, B)
    assert (cell["transfers"], cell["successes"], cell["failures"]) == (14, 9, 5)
    assert efficiency(matrix, A, B) == pytest.approx(9 / 14)
    assert cell["throughput"] == pytest.approx(8.5e9 / 140)  # bytes / (duration_ms / 1000)
    assert efficiency(matrix, C, A) == 0.0 and efficiency(matrix, B, C) == 1.0


def test_matrix_filters_by_vo_activity_and_site(store):
    matrix = TransferMatrix(store=store, vo="cms")
    assert efficiency(matrix, A, B) == pytest.approx(0.8)
    matrix.vo = "atlas"
    assert efficiency(matrix, A, B) == pytest.approx(0.25)
    assert matrix.cell(B, C) is None  # no atlas transfers there
    matrix.param.update(vo="", activity="Debug")
    assert list(zip(matrix.data["src_site"], matrix.data["dst_site"])) == [(C, A)]
    matrix.param.update(activity="", site=C)
    assert set(zip(matrix.data["src_site"], matrix.data["dst_site"])) == {(B, C), (C, A)}


def test_long_windows_read_the_daily_table(store):
    matrix = TransferMatrix(store=store, window="7d")
    assert matrix.filters.grain == "1d"
    cell = matrix.cell(A, B)  # the day before counts now: 6 more transfers, all good
    assert (cell["transfers"], cell["successes"]) == (20, 15)


def test_an_explicit_end_or_viewed_time_moves_the_window(store):
    day_one = TransferMatrix(store=store, end=DAY2)  # the 24 hours before day 2
    assert list(zip(day_one.data["src_site"], day_one.data["transfers"])) == [(A, 6)]
    assert TransferMatrix(store=store, time=DAY2).data.equals(day_one.data)


def test_clicking_a_cell_opens_the_pair_with_its_transfers_and_errors(store):
    matrix = TransferMatrix(store=store, vo="cms")
    row, column = sorted(matrix.data["src_site"].unique()).index(A), sorted(matrix.data["dst_site"].unique()).index(B)
    matrix.click(column + 0.5, -row - 0.5)
    assert (matrix.src, matrix.dst) == (A, B)
    assert list(matrix.pair_errors["error_category"]) == ["CONNECTION"]
    assert int(matrix.pair_errors["failures"].iloc[0]) == 2
    rows = matrix.pair_transfers
    assert len(rows) == 10 and set(rows["vo"]) == {"cms"} and (rows["state"] == "Error").sum() == 2
    assert rows["time"].is_monotonic_decreasing  # newest first
    assert f"{A} → {B}" in html_of(matrix) and "10 transfers, 2 failed, efficiency 80.0%" in html_of(matrix)
    matrix._close.clicks += 1  # "✕ Close pair"
    assert (matrix.src, matrix.dst) == ("", "") and "hf-pair" not in html_of(matrix)


def test_pair_rows_follow_the_host_to_site_resolution(store):
    matrix = TransferMatrix(store=store, vo="cms", resolve=lambda host: "somewhere.else")
    matrix.select_pair(A, B)
    assert matrix.pair_transfers.empty and int(matrix.pair_errors["failures"].sum()) == 2
    assert "no raw transfer rows of this pair" in html_of(matrix)


def test_a_hostile_site_name_and_message_are_text(store):
    matrix = TransferMatrix(store=store, vo="ops")
    matrix.select_pair(HOSTILE, B)
    page = html_of(matrix)
    assert "<script>" not in page and ESCAPED in page
    assert list(matrix.pair_errors["example"]) == [HOSTILE]  # the frame keeps the text as it came


def test_colour_by_efficiency_or_volume(store):
    matrix = TransferMatrix(store=store)
    cells = matrix._cells().set_index(["src", "dst"])
    assert cells.loc[(B, C), "color"] == LEVEL_COLORS["ok"] and cells.loc[(C, A), "color"] == LEVEL_COLORS["critical"]
    matrix.color_by = "volume"
    cells = matrix._cells().set_index(["src", "dst"])
    assert cells.loc[(B, C), "color"] == "#08306b"  # the most bytes: the darkest blue


def test_efficiency_colours_are_the_levels_of_every_other_view(store, tmp_path):
    """A 64 % link is bad on WLCG: critical by default (the transfer_efficiency module's rating),
    in the colour critical has everywhere; the thresholds are the site's and the legend says them."""
    matrix = TransferMatrix(store=store)
    assert efficiency(matrix, A, B) == pytest.approx(9 / 14)
    cells = matrix._cells().set_index(["src", "dst"])
    assert cells.loc[(A, B), "color"] == LEVEL_COLORS["critical"]
    assert set(cells["color"]) <= {LEVEL_COLORS[level] for level in ("ok", "warning", "critical")}
    legend = html_of(matrix)
    assert "≥ 90%" in legend and "70%–90%" in legend and "&lt; 70%" in legend
    site = tmp_path / "site.yaml"
    site.write_text(
        "site: {name: T2_XX}\nstore: store\ncategories: [{name: c}]\n"
        "modules: [{name: m, category: c, collector: http_json, params: {url: 'file:///x.json'}}]\n"
        "transfers:\n  efficiency_levels: {warning: 95%, critical: 60%}\n"
    )
    matrix.config = load_config(site)
    cells = matrix._cells().set_index(["src", "dst"])
    assert cells.loc[(A, B), "color"] == LEVEL_COLORS["warning"]
    assert "≥ 95%" in html_of(matrix) and "&lt; 60%" in html_of(matrix)


# -- errors ------------------------------------------------------------------------------------------
def test_top_errors_grouped_by_category_with_counts(store):
    errors = TopErrors(store=store)
    totals = errors.categories.set_index("error_category")["failures"].to_dict()
    assert totals == {"CONNECTION": 3, "FILE_EXISTS": 3, HOSTILE: 3, "NO_SUCH_FILE": 1}
    timeouts = errors.data.set_index("error_category").loc["CONNECTION"]
    assert timeouts["pairs"] == 2 and timeouts["error_scope"] == "TRANSFER"
    assert timeouts["example"].startswith("TRANSFER ERROR: Connection timed out after ")
    errors.vo = "cms"
    assert set(errors.data["error_category"]) == {"CONNECTION", "NO_SUCH_FILE"}
    page = html_of(errors)
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


# -- over time, sites, XRootD ---------------------------------------------------------------------------
def test_timeline_has_every_ten_minute_bin(store):
    timeline = TransferTimeline(store=store)
    frame = timeline.data.set_index("time")
    assert len(frame) == 144 and frame.index[-1] == END - pd.Timedelta(minutes=10)
    at_ten = frame.loc[DAY2 + pd.Timedelta(hours=10)]
    assert (at_ten["transfers"], at_ten["failures"]) == (10, 2)
    assert at_ten["throughput"] == pytest.approx(8e9 / 100)
    assert frame.loc[DAY2 + pd.Timedelta(hours=9), "transfers"] == 0
    assert int(frame["transfers"].sum()) == 25


def test_site_statistics_in_and_out_and_one_sites_history(store):
    sites = SiteStatistics(store=store).data.set_index("site")
    assert (sites.loc[A, "out_transfers"], sites.loc[A, "in_transfers"]) == (14, 3)
    assert sites.loc[A, "out_efficiency"] == pytest.approx(9 / 14)
    assert sites.loc[A, "in_efficiency"] == pytest.approx(1 / 3)
    assert sites.loc[C, "in_bytes"] == 10_000_000_000
    assert list(SiteStatistics(store=store, site=C).data["site"]) == [C]
    history = SiteHistory(store=store, site=A).data
    busy = history[history["transfers"] > 0]
    assert list(zip(busy["direction"], busy["transfers"])) == [("out", 10), ("out", 4), ("in", 2), ("in", 1)]
    assert "Choose a site" in html_of(SiteHistory(store=store))


def test_xrootd_reads_bytes_and_clients_per_site(store):
    view = XRootDAccess(store=store)
    frame = view.data.set_index("site")
    assert frame.loc[A, "records"] == 150 and frame.loc[A, "bytes_read"] == 6_000_000_000
    assert frame.loc[A, "clients"] == 7  # the most distinct clients in one bin, not a sum over bins
    timeline = view.timeline.set_index(["site", "time"])
    assert len(timeline) == 2 * 144  # every site has every bin: an idle bin is a zero, not a line across it
    assert timeline.loc[(A, DAY2 + pd.Timedelta(hours=10)), "records"] == 100
    assert timeline.loc[(A, DAY2 + pd.Timedelta(hours=10, minutes=30)), "records"] == 0
    view.site = B
    assert list(view.data["site"]) == [B]


@pytest.mark.parametrize(
    "view", [TransferMatrix, TransferTimeline, SiteStatistics, TopErrors, XRootDAccess, TransferPage]
)
def test_every_view_renders_as_in_a_notebook_cell(store, view):
    shown = view(store=store, site=A)
    model = pn.panel(shown).get_root()  # what a Jupyter cell's display builds
    assert model is not None and not shown.data.empty


# -- no data ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "view", [TransferMatrix, TransferTimeline, SiteStatistics, SiteHistory, TopErrors, XRootDAccess, TransferPage]
)
def test_a_store_without_transfer_tables_says_so(tmp_path, view):
    with StoreWriter(tmp_path) as writer:
        writer.write({"runs": pd.DataFrame([{"run_id": "r1", "time": pd.Timestamp("2026-03-01")}])})
    shown = view(store=tmp_path, site=A)
    assert shown.data.empty
    assert "No transfer data yet" in html_of(shown)


def test_a_bad_window_is_a_message(store):
    matrix = TransferMatrix(store=store, window="forever")
    assert matrix.data.empty and "Cannot show this view" in html_of(matrix)


def test_views_share_one_cached_answer(store):
    assert TransferMatrix(store=store, vo="cms").data is TransferMatrix(store=store, vo="cms").data


# -- the page and its URL -----------------------------------------------------------------------------
def test_page_reads_its_filters_from_the_url_and_writes_changes_back(store):
    location = Location(search=f"?vo=cms&window=6h&src={A}&dst={B}&module=sam_ce")
    page = TransferPage(store=store)
    page.sync_url(location)
    assert (page.vo, page.window, page.matrix.vo, page.matrix.window) == ("cms", "6h", "cms", "6h")
    assert (page.matrix.src, page.matrix.dst) == (A, B) and len(page.matrix.pair_transfers) == 10
    assert page._w_vo.value == "cms" and "atlas" in page._w_vo.options.values()
    page._w_vo.value = "atlas"  # a user changes the filter
    assert location.query_params.get("vo") == "atlas"
    assert efficiency(page.matrix, A, B) == pytest.approx(0.25)
    page.window = "24h"  # back to the default: the key leaves the URL
    assert "window=" not in location.search and "module=sam_ce" in location.search


def test_page_only_queries_the_visible_tab_and_a_bad_link_is_a_message(store):
    page = TransferPage(store=store, view="errors", vo="cms")
    assert page.errors.active and not page.matrix.active and page.matrix.data.empty
    page.view = "matrix"
    assert not page.matrix.data.empty
    location = Location(search="?view=nonsense")
    page.sync_url(location)
    assert "Ignoring the link" in html_of(page)


def test_the_page_at_now_follows_a_new_aggregation(tmp_path):
    from store_factory_transfers import raw_rows

    from hfpanel.transfers.aggregate import aggregate

    raw = raw_rows()
    later = raw[raw["vo"] == "atlas"].assign(
        time=lambda f: f["time"] + pd.Timedelta(hours=1), t=lambda f: f["t"] + 3600, key=lambda f: f["key"] + "-later"
    )
    with StoreWriter(tmp_path) as writer:
        writer.write({"fts_complete": raw.assign(commit=writer.next_generation)})
    aggregate(tmp_path)
    page = TransferPage(store=tmp_path, vo="atlas")
    assert int(page.matrix.cell(A, B)["transfers"]) == 4
    with StoreWriter(tmp_path) as writer:
        writer.write({"fts_complete": later.assign(commit=writer.next_generation)})
    aggregate(tmp_path)
    page.tick()  # what the periodic callback of a served page runs
    assert int(page.matrix.cell(A, B)["transfers"]) == 8


def test_the_csv_download_holds_the_frame_shown(store):
    errors = TopErrors(store=store, vo="cms")
    frame = pd.read_csv(errors.csv_bytes())
    assert list(frame["error_category"]) == list(errors.data["error_category"])
    assert errors.csv_filename().startswith("hfpanel_toperrors_cms_")
