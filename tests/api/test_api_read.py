"""The read API as a script or a widget uses it: pages that hold still while runs land, answers that
cost nothing between runs (304), a feed of what changed, transfer statistics equal to the views',
and nothing a source wrote taken for markup, a formula or SQL."""

from __future__ import annotations

import csv
import io
import time

import pandas as pd
import pytest
import requests
from api_server import served_api
from store_factory import DEFAULT_SCENARIO, HOSTILE, build_store, site_config
from store_factory_transfers import build_transfer_store

from hfpanel.api.base import PREFIX
from hfpanel.queries import events, transfer_filters, transfers
from hfpanel.queries.loaders import shared_store
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter


@pytest.fixture
def live(tmp_path):
    """A store of its own (tests here add runs to it) and the API over it."""
    info = build_store(tmp_path / "store")
    with served_api(info.root, info.config) as url:
        yield info, url + PREFIX


def add_run(info, when, change=None):
    """One more run: the last run of the scenario with ``change`` (module -> params) applied."""
    specs = {**DEFAULT_SCENARIO[-1], **(change or {})}
    with StoreWriter(info.root) as writer:
        Runner(site_config(specs, info.root, index=9)).run_once(writer, now=when, force=True)


def follow(url, **params) -> list[dict]:
    rows, pages = [], 0
    answer = requests.get(url, params=params, timeout=30).json()
    while True:
        rows += answer["rows"]
        pages += 1
        if not answer["next"]:
            return rows, pages
        answer = requests.get(url.split(PREFIX)[0] + answer["next"], timeout=30).json()


def test_pages_follow_the_cursor_to_every_row_once(live):
    info, api = live
    whole = requests.get(f"{api}/modules/sam_ce/history", timeout=30).json()["rows"]
    paged, pages = follow(f"{api}/modules/sam_ce/history", limit=1)
    assert paged == whole and pages == len(info.times) == 4
    modules, pages = follow(f"{api}/modules", limit=2)
    assert [m["module"] for m in modules] == [m["module"] for m in requests.get(f"{api}/modules").json()["rows"]]
    assert pages == 3


def test_a_run_landing_between_pages_does_not_shift_them(live):
    info, api = live
    first = requests.get(f"{api}/modules", params={"limit": 2}, timeout=30).json()
    add_run(info, info.times[-1] + pd.Timedelta(minutes=30), {"sam_ce": {"health": 1.0}})
    rest = requests.get(api.split(PREFIX)[0] + first["next"], timeout=30).json()
    assert rest["time"] == first["time"]  # the page is of the run the first page showed
    now = requests.get(f"{api}/modules/sam_ce", timeout=30).json()["module"]
    assert now["level"] == "ok" and now["time"] > first["time"]


def test_csv_pages_carry_the_next_link(live):
    _, api = live
    answer = requests.get(f"{api}/modules/sam_ce/history", params={"limit": 2, "format": "csv"}, timeout=30)
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(answer.text)))) == 2
    assert 'rel="next"' in answer.headers["Link"]
    by_accept = requests.get(f"{api}/runs", headers={"Accept": "text/csv"}, timeout=30)
    assert by_accept.text.startswith("run_id,time,")


def test_repeat_requests_between_runs_are_304_and_a_new_run_changes_the_answer(live):
    info, api = live
    # /runs changes only with a commit (the feed also each minute: a module may fall silent without one)
    first = requests.get(f"{api}/feed", timeout=30)
    runs = requests.get(f"{api}/runs", timeout=30)
    etag, modified = runs.headers["ETag"], runs.headers["Last-Modified"]
    assert requests.get(f"{api}/runs", headers={"If-None-Match": etag}, timeout=30).status_code == 304
    assert requests.get(f"{api}/runs", headers={"If-Modified-Since": modified}, timeout=30).status_code == 304
    assert requests.get(f"{api}/runs?limit=1", headers={"If-None-Match": etag}).status_code != 304  # per URL
    time.sleep(1.1)  # Last-Modified has whole seconds
    add_run(info, info.times[-1] + pd.Timedelta(minutes=15), {"sam_ce": {"health": 1.0}})
    after = requests.get(f"{api}/runs", headers={"If-None-Match": etag}, timeout=30)
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert requests.get(f"{api}/runs", headers={"If-Modified-Since": modified}, timeout=30).status_code == 200
    after = requests.get(f"{api}/feed", params={"since_run": first.json()["run_id"]}, timeout=30)
    assert after.json()["changes"] == [
        {
            "module": "sam_ce",
            "category": "availability",
            "time": after.json()["time"],
            "from": "critical",
            "to": "ok",
        }
    ]


def test_the_feed_says_what_changed_since_the_run_a_reader_saw(site):
    with served_api(site.root, site.config) as url:
        runs = requests.get(f"{url}{PREFIX}/runs", timeout=30).json()["rows"]
        feed = requests.get(f"{url}{PREFIX}/feed", params={"since_run": runs[-2]["run_id"]}, timeout=30).json()
    assert feed["level"] == "critical"
    assert {c["name"]: c["level"] for c in feed["categories"]} == {
        "availability": "critical",
        "jobs": "warning",
        "storage": "ok",
    }
    assert [(c["module"], c["from"], c["to"]) for c in feed["changes"]] == [("sam_ce", "ok", "critical")]
    assert feed["counts"] == {"ok": 3, "warning": 0, "critical": 1, "noinfo": 1, "downtime": 0}


def test_source_text_stays_text_in_json_and_csv(site):
    with served_api(site.root, site.config) as url:
        detail = requests.get(f"{url}{PREFIX}/modules/condor_nodes/detail/rows", timeout=30)
        as_csv = requests.get(f"{url}{PREFIX}/modules/condor_nodes/detail/rows?format=csv", timeout=30)
    assert "<script>" not in detail.text and "\\u003cscript\\u003e" in detail.text
    assert HOSTILE in [r["node"] for r in detail.json()["rows"]]  # the value itself is intact
    assert detail.headers["Content-Type"].startswith("application/json")
    assert "default-src 'none'" in detail.headers["Content-Security-Policy"]
    assert as_csv.headers["X-Content-Type-Options"] == "nosniff"


def test_csv_cells_that_start_a_formula_are_made_text(tmp_path):
    scenario = [{"condor_nodes": {"health": 0.9, "note": '=HYPERLINK("http://evil")'}}]
    info = build_store(tmp_path / "store", scenario)
    with served_api(info.root, info.config) as url:
        text = requests.get(f"{url}{PREFIX}/modules", params={"format": "csv"}, timeout=30).text
    cell = next(r for r in csv.DictReader(io.StringIO(text)) if r["module"] == "condor_nodes")["message"]
    assert not cell.startswith("=") and "HYPERLINK" in cell


def test_sql_in_parameters_is_inert(site):
    tables_before = shared_store(site.root).tables()
    hostile = ["x' OR '1'='1", "sam_ce'; DROP TABLE runs; --", 'sam_ce" OR 1=1 --']
    with served_api(site.root, site.config) as url:
        for text in hostile:
            assert requests.get(f"{url}{PREFIX}/modules/{text}", timeout=30).status_code == 404
            metric = requests.get(f"{url}{PREFIX}/modules/sam_ce/metrics/{text}", timeout=30)
            assert metric.status_code == 200 and metric.json()["rows"] == []
            answer = requests.get(f"{url}{PREFIX}/transfers/matrix", params={"vo": text}, timeout=30)
            assert answer.status_code == 200 and answer.json()["rows"] == []
        assert len(requests.get(f"{url}{PREFIX}/runs", timeout=30).json()["rows"]) == 4
    assert shared_store(site.root).tables() == tables_before


def test_transfer_statistics_are_the_views_numbers(tmp_path):
    info = build_transfer_store(tmp_path / "transfers")
    store = shared_store(info.root)
    with served_api(info.root) as url:
        matrix = requests.get(f"{url}{PREFIX}/transfers/matrix", params={"window": "24h"}, timeout=30).json()
        cms = requests.get(f"{url}{PREFIX}/transfers/matrix", params={"vo": "cms"}, timeout=30).json()
        errors = requests.get(f"{url}{PREFIX}/transfers/errors", params={"format": "csv"}, timeout=30).text
        site_answer = requests.get(f"{url}{PREFIX}/site", timeout=30)
    filters = transfer_filters.make_filters(store, "24h")
    expected = transfers.matrix(store, filters)
    assert [(r["src_site"], r["dst_site"], r["transfers"], r["successes"]) for r in matrix["rows"]] == list(
        zip(expected["src_site"], expected["dst_site"], expected["transfers"], expected["successes"])
    )
    assert ("alpha.example", "beta.example", 14, 9) in [
        (r["src_site"], r["dst_site"], r["transfers"], r["successes"]) for r in matrix["rows"]
    ]
    assert all(r["transfers"] for r in cms["rows"]) and len(cms["rows"]) < len(matrix["rows"])
    assert "<script>" in errors and "TRANSFER ERROR: Connection timed out after <n> s" in errors
    assert site_answer.status_code == 200 and site_answer.json()["run_id"] is None  # a store without runs


def test_events_are_the_stored_events_filtered_and_paged(site):
    store = shared_store(site.root)
    with served_api(site.root, site.config) as url:
        everything = requests.get(f"{url}{PREFIX}/events", timeout=30).json()
        sam, pages = follow(f"{url}{PREFIX}/events", module="sam_ce", limit=1)
        changed = requests.get(f"{url}{PREFIX}/events", params={"kind": "level_changed", "level": "critical"}).json()
    since, until = site.times[-1] - pd.Timedelta(hours=24), site.times[-1]
    expected = events.events(store, since, until)
    assert [e["event_id"] for e in everything["rows"]] == list(expected["event_id"]) and len(expected)
    assert sam and {e["module"] for e in sam} == {"sam_ce"} and pages == len(sam)
    assert [e["subject"] for e in changed["rows"]] == ["module/sam_ce"]


def test_path_traversal_reaches_nothing(site):
    with served_api(site.root, site.config) as url:
        for path in (
            "/modules/..%2F..%2F_manifest.json",
            "/modules/sam_ce/detail/..%2F..%2F_manifest.json",
            "/modules/sam_ce/detail/%2E%2E",
            "/modules/sam_ce/metrics/..%2F..%2Fetc%2Fpasswd",
            "/../../_manifest.json",
        ):
            answer = requests.get(f"{url}{PREFIX}{path}", timeout=30)
            assert answer.status_code in (200, 404), (path, answer.status_code)
            assert "generation" not in answer.text and "root:" not in answer.text, path


def test_a_stopped_collector_is_no_information_in_the_api_within_a_minute(tmp_path, monkeypatch):
    """The last run is 3 hours old (interval 1h + max age 90m): /site, /status (its categories and
    modules) and /feed say no information, not ok; and a reader holding the ETag of an answer about "now" gets a
    new answer the next minute, though nothing was committed (a 304 would keep the old colours)."""
    from hfpanel.api import server
    from hfpanel.clock import utcnow

    info = build_store(
        tmp_path / "store", scenario=DEFAULT_SCENARIO[:1], end=utcnow().floor("min") - pd.Timedelta(hours=3)
    )
    with served_api(info.root, info.config) as url:
        api = url + PREFIX
        for route in ("site", "status", "feed"):
            assert requests.get(f"{api}/{route}", timeout=30).json()["level"] == "noinfo", route
        now = requests.get(f"{api}/status", timeout=30).json()
        assert {c["level"] for c in now["categories"]} == {"noinfo"}
        assert all("modules without information" in c["message"] for c in now["categories"])
        assert all("longer than its interval + max age" in m["message"] for m in now["modules"])
        clock = time.time()
        monkeypatch.setattr(server.time, "time", lambda: clock)
        etags = {
            route: requests.get(f"{api}/{route}", timeout=30).headers["ETag"] for route in ("site", "status", "feed")
        }
        monkeypatch.setattr(server.time, "time", lambda: clock + 60)
        for route, etag in etags.items():
            assert requests.get(f"{api}/{route}", headers={"If-None-Match": etag}, timeout=30).status_code == 200, route
