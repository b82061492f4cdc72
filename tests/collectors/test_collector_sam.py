"""The ``sam`` collector: SAM/ETF results from MONIT's Grafana ``_msearch`` proxy, as a shifter sees them.

Fixtures are composed documents in the MONIT format (FORMATS.md §4); the pagination, token and
fault tests use the local FaultServer, and one test runs the module through the real runner
against the demo simulator.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer, Reply

from collectors.sam import SamCollector, flavour
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import ConfigError, parse_config
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sam"
PROXY = "/api/datasources/proxy/9677/_msearch"
FAST = {"timeout": 2.0, "retries": 0, "backoff": 0.01}
TOKEN = "glsa_SeCrEt0123456789abcdefXYZ"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def services(result) -> dict[tuple[str, str], str]:
    return {(r.host, r.flavour): r.status for r in result.tables["services"].itertuples()}


@pytest.fixture
def srv():
    with FaultServer() as server:
        yield server


def test_entry_point_and_default_rating():
    assert collector_class("sam") is SamCollector
    rule = SamCollector.default_rating
    assert rule["type"] == "weakest_link" and rule["table"] == "services" and rule["label"] == "host"
    assert rule["map"] == {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0, "UNKNOWN": -1}


def test_the_fixture_as_a_shifter_sees_it():
    result = SamCollector(vo="cms").parse(fixture("sam_results.json"))
    status = services(result)
    assert {key for key, value in status.items() if value == "CRITICAL"} == {
        ("dcache-cms-webdav-wan.desy.de", "WEBDAV"),
        ("ce01.pi.infn.it", "HTCONDOR-CE"),
        ("gfe02.grid.hep.ph.ic.ac.uk", "XROOTD"),
        ("hepcms-ce.colorado.edu", "HTCONDOR-CE"),
    }
    assert status[("eoscms.cern.ch", "XROOTD")] == "WARNING"
    assert status[("ceprod00.grid.hep.ph.ic.ac.uk", "ARC-CE")] == "UNKNOWN"
    # 16 results on 15 services (the FNAL CE has two metrics); 9 OK, 2 WARNING, 4 CRITICAL, 1 UNKNOWN results
    assert len(result.tables["results"]) == 16
    # availability as WLCG's A/R counts it: OK or WARNING runs are up (9 + 2 of 15 rated; it was 9/15)
    assert result.metrics == {"ok": 8.0, "warning": 2.0, "critical": 4.0, "unknown": 1.0, "availability": 11 / 15}
    table = result.tables["services"]
    assert list(table["status"][:4]) == ["CRITICAL"] * 4  # worst first
    fnal_ce = table.set_index("host").loc["cmsgwms-ce3.fnal.gov"]
    assert fnal_ce["metrics"] == 2 and fnal_ce["failing"] == ""
    assert (
        table.set_index("host").loc["gfe02.grid.hep.ph.ic.ac.uk", "failing"] == "org.cms.SE-XRootD-99summary (CRITICAL)"
    )
    sites = result.tables["availability"].query("scope == 'site'").set_index("site")["availability"]
    assert sites["T1_US_FNAL"] == 1.0 and sites["T2_UK_London_IC"] == 0.0 and sites["T2_DE_DESY"] == 0.5
    row = result.tables["results"].set_index("host").loc["gfe02.grid.hep.ph.ic.ac.uk"]
    assert row["time"] == pd.Timestamp("2026-03-10 08:39:09") and row["summary"] == "CRITICAL: read test failed"
    assert row["site"] == "T2_UK_London_IC" and row["vo"] == "cms" and "Auth failed" in row["details"]
    rating = rate(SamCollector.default_rating, result)
    assert rating.status == 0.0 and "status=CRITICAL (6 of 15 rows not fine)" in rating.message  # UNKNOWN: not rated


def test_one_site_rates_on_its_own_services():
    result = SamCollector(vo="cms", site="T2_UK_London_IC").parse(fixture("sam_results.json"))
    assert services(result) == {
        ("gfe02.grid.hep.ph.ic.ac.uk", "XROOTD"): "CRITICAL",
        ("ceprod00.grid.hep.ph.ic.ac.uk", "ARC-CE"): "UNKNOWN",
    }
    assert result.metrics["availability"] == 0.0 and result.message == "CRITICAL: gfe02.grid.hep.ph.ic.ac.uk XROOTD"
    rating = rate(SamCollector.default_rating, result)
    assert rating.status == 0.0 and rating.message.startswith("worst: gfe02.grid.hep.ph.ic.ac.uk status=CRITICAL")


def test_latest_version_of_each_result_counts_and_flavours_are_spelt_one_way():
    """sam_versions.json: the gfe02 XRootD test ran at T-1h (two versions, one ingested very late) and
    at T (an OK version, then a CRITICAL one 30 s later, listed first). Flavours come as XRootD,
    webdav and org.opensciencegrid.htcondorce."""
    result = SamCollector(vo="cms", site="T2_UK_London_IC").parse(fixture("sam_versions.json"))
    results = result.tables["results"].set_index(["host", "flavour"])
    assert len(results) == 4  # 7 documents: 3 are older versions or runs
    latest = results.loc[("gfe02.grid.hep.ph.ic.ac.uk", "XROOTD")]
    assert latest["status"] == "CRITICAL" and latest["summary"] == "CRITICAL: read test failed"
    assert latest["time"] == pd.Timestamp(1773131949000, unit="ms")
    assert set(results.index.get_level_values("flavour")) == {"XROOTD", "WEBDAV", "ARC-CE", "HTCONDOR-CE"}
    # availability counts test runs (versions collapsed): XRootD OK at T-1h and CRITICAL at T, WebDAV OK
    hosts = result.tables["availability"].query("scope == 'host'").set_index("host")
    assert hosts.loc["gfe02.grid.hep.ph.ic.ac.uk", ["ok", "critical", "results"]].tolist() == [2, 1, 3]
    assert result.metrics["availability"] == 3 / 4  # 3 OK of 4 rated runs; the UNKNOWN is not rated
    assert result.metrics["critical"] == 1 and result.metrics["ok"] == 2 and result.metrics["unknown"] == 1


@pytest.mark.parametrize(
    "given, canonical",
    [
        ("webdav", "WEBDAV"),
        ("XRootD", "XROOTD"),
        ("ARC-CE", "ARC-CE"),
        ("org.opensciencegrid.htcondorce", "HTCONDOR-CE"),
        ("srm", "SRM"),
    ],
)
def test_flavour_spellings(given, canonical):
    assert flavour(given) == canonical


def test_flavour_filter_accepts_any_spelling_in_the_query_and_the_data():
    collector = SamCollector(vo="cms", service_flavours=["xrootd"])
    assert 'data.service_flavour:("XROOTD" OR "XRootD" OR "xrootd")' in collector.query_string()
    result = collector.parse(fixture("sam_versions.json"))
    assert set(result.tables["results"]["flavour"]) == {"XROOTD"}


def test_request_is_the_msearch_of_formats_md_with_window_filters_and_token(srv, tmp_path):
    srv.route(PROXY, fixture("sam_results.json"), content_type="application/json")
    (tmp_path / "token").write_text(TOKEN + "\n")
    collector = SamCollector(
        url=srv.url("/"),
        vo="cms",
        site="T2_DE_DESY",
        hosts=["a.example.org"],
        window="2h",
        bearer_token_file=str(tmp_path / "token"),
        **FAST,
    )
    payload = collector.fetch()
    (request,) = srv.requests(PROXY)
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.body.endswith(b"\n") and len(request.body.splitlines()) == 2
    header, query = (json.loads(line) for line in request.body.splitlines())
    reference_header, reference = (json.loads(line) for line in fixture("sam_msearch_request.ndjson").splitlines())
    assert header == reference_header
    window = query["query"]["bool"]["filter"][0]["range"]["metadata.timestamp"]
    assert window["format"] == "epoch_millis" and window["lte"] - window["gte"] == 2 * 3600 * 1000
    assert query["query"]["bool"]["filter"][0].keys() == reference["query"]["bool"]["filter"][0].keys()
    text = query["query"]["bool"]["filter"][1]["query_string"]["query"]
    assert text == 'data.vo:"cms" AND data.dst_experiment_site:"T2_DE_DESY" AND data.dst_hostname:("a.example.org")'
    assert query["size"] == 10_000 and query["sort"][0] == {"metadata.timestamp": "asc"}
    assert {"data.dst_hostname", "data.status", "metadata.kafka_timestamp"} <= set(query["_source"])
    assert json.loads(payload)[0] == json.loads(fixture("sam_results.json"))  # a list of the raw pages
    assert collector.source_url() == srv.url("/") and TOKEN not in collector.source_url()


def test_full_pages_are_followed_with_search_after(srv):
    doc = json.loads(fixture("sam_results.json"))
    hits = doc["responses"][0]["hits"]["hits"]
    for hit in hits:
        hit["sort"] = [hit["_source"]["metadata"]["timestamp"], hit["_source"]["metadata"]["kafka_timestamp"]]

    def page(part):
        return json.dumps({**doc, "responses": [{**doc["responses"][0], "hits": {"hits": part}}]})

    srv.sequence(
        PROXY, [Reply(200, page(hits[:10]), "application/json"), Reply(200, page(hits[10:]), "application/json")]
    )
    collector = SamCollector(url=srv.url(""), vo="cms", page_size=10, **FAST)
    payload = collector.fetch()
    first, second = srv.requests(PROXY)
    assert srv.hits(PROXY) == 2
    assert "search_after" not in json.loads(first.body.splitlines()[1])
    assert json.loads(second.body.splitlines()[1])["search_after"] == hits[9]["sort"]
    assert len(json.loads(payload)) == 2
    result = collector.parse(payload)
    assert len(result.tables["results"]) == 16 and result.metrics["critical"] == 4


def test_too_many_pages_is_a_reason_not_a_loop(srv):
    doc = json.loads(fixture("sam_results.json"))
    pages = []
    for n in range(1, 5):  # every page full, each ending on a new sort value
        doc["responses"][0]["hits"]["hits"][-1]["sort"] = [n]
        pages.append(Reply(200, json.dumps(doc), "application/json"))
    srv.sequence(PROXY, pages)
    text = reason(SamCollector(url=srv.url(""), vo="cms", page_size=16, max_pages=3, **FAST).fetch)
    assert text.startswith("more than 3 pages of 16 results") and srv.hits(PROXY) == 3


def test_expired_token_names_the_token_and_never_shows_it(srv, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    srv.route(PROXY, fixture("sam_grafana_unauthorized.json"), status=401, content_type="application/json")
    (tmp_path / "token").write_text(TOKEN)
    collector = SamCollector(url=srv.url(""), vo="cms", bearer_token_file=str(tmp_path / "token"), **FAST)
    text = reason(collector.fetch)
    assert "401" in text and "token expired or rejected" in text and TOKEN not in text
    assert srv.requests(PROXY)[0].headers["authorization"] == f"Bearer {TOKEN}"
    srv.route(PROXY, b"overloaded", status=503, content_type="text/plain")
    collector.retries = 1
    assert "503" in reason(collector.fetch)
    assert "retry 1 of 1" in caplog.text and TOKEN not in caplog.text


def test_html_instead_of_json_over_http(srv):
    login = fixture("sam_sso_login.html")
    srv.route(PROXY, login, content_type="text/html")
    collector = SamCollector(url=srv.url(""), vo="cms", **FAST)
    payload = collector.fetch()
    assert payload == login  # kept as it came, for the archive; parse says what it is
    assert reason(collector.parse, payload) == "expected JSON, got an HTML page (<title>Sign in to CERN</title>)"
    doc = json.loads(fixture("sam_results.json"))
    srv.sequence(PROXY, [Reply(200, json.dumps(doc), "application/json"), Reply(200, login, "text/html")])
    assert reason(SamCollector(url=srv.url(""), vo="cms", page_size=16, **FAST).fetch).startswith(
        "page 2: expected JSON, got an HTML page"
    )


@pytest.mark.parametrize(
    "name, key, why",
    [
        ("sam_missing_keys.json", "responses.0.hits.hits.1", "_source.data.status: missing, expected text"),
        (
            "sam_wrong_types.json",
            "responses.0.hits.hits.2",
            "_source.metadata.timestamp: str '2026-03-10T08:31:29Z', expected a number",
        ),
    ],
)
def test_one_unreadable_result_is_that_result_missing(name, key, why):
    """It used to blank the module: one malformed hit of MONIT's answer cost every other result."""
    collector = SamCollector(vo="cms")
    result = collector.parse(fixture(name))
    assert [(m.what, m.key, m.reason) for m in result.missing] == [("result", key, why)]
    total = len(json.loads(fixture(name))["responses"][0]["hits"]["hits"])
    assert result.expected["result"] == total and len(result.tables["results"]) == total - 1
    rating = rate(collector.default_rating, result)
    assert rating.message.startswith(f"1 of {total} results missing: {key} ({why})")
    assert rating.status <= 0.5  # never better than warning with a result missing


def test_every_result_unreadable_is_the_source_failing():
    doc = json.loads(fixture("sam_results.json"))
    for hit in doc["responses"][0]["hits"]["hits"]:
        del hit["_source"]["data"]["status"]
    text = reason(SamCollector(vo="cms").parse, json.dumps(doc).encode())
    assert text == "responses.0.hits.hits.0._source.data.status: missing, expected text"


def _all_ok(doc: dict) -> dict:
    for hit in doc["responses"][0]["hits"]["hits"]:
        hit["_source"]["data"]["status"] = "OK"
    return doc


def test_failed_shards_are_missing_not_all_fine():
    """Half the shards failed: the hits that came are all OK, which must not read as "all fine"."""
    doc = _all_ok(json.loads(fixture("sam_results.json")))
    doc["responses"][0]["_shards"] = {
        "total": 24,
        "successful": 12,
        "skipped": 0,
        "failed": 12,
        "failures": [
            {
                "shard": 3,
                "index": "monit_prod_sam3_enr_metric-2026-03-10",
                "node": "n1",
                "reason": {"type": "node_not_connected_exception", "reason": "[es-node-7] Node not connected"},
            }
        ],
    }
    collector = SamCollector(vo="cms")
    result = collector.parse(json.dumps(doc).encode())
    assert result.expected["shard"] == 24 and len([m for m in result.missing if m.what == "shard"]) == 12
    assert result.missing[0].key == "monit_prod_sam3_enr_metric-2026-03-10 shard 3"
    assert result.missing[0].reason == "node_not_connected_exception: [es-node-7] Node not connected"
    rating = rate(collector.default_rating, result)
    assert rating.status == 0.5  # 12 of 24 is not more than half: rated, at most warning
    assert rating.message.startswith(
        "12 of 24 shards missing: monit_prod_sam3_enr_metric-2026-03-10 shard 3 "
        "(node_not_connected_exception: [es-node-7] Node not connected), unnamed 2 (failed, no reason given)"
    )
    doc["responses"][0]["_shards"].update(successful=4, failed=20)
    most = rate(collector.default_rating, collector.parse(json.dumps(doc).encode()))
    assert most.status == -1 and most.message.startswith("no information: 20 of 24 shards missing")


def test_a_search_timed_out_on_the_server_is_not_all_fine():
    doc = _all_ok(json.loads(fixture("sam_results.json")))
    doc["responses"][0]["timed_out"] = True
    collector = SamCollector(vo="cms")
    rating = rate(collector.default_rating, collector.parse(json.dumps(doc).encode()))
    assert rating.status == 0.5
    assert rating.message.startswith(
        "1 search missing: the search (timed out on the server: only the hits found in time came back), "
        "so at most warning; "
    )


def test_no_hits_because_every_shard_failed_says_so():
    doc = {
        "responses": [
            {
                "timed_out": False,
                "_shards": {"total": 2, "successful": 0, "failed": 2, "failures": []},
                "hits": {"hits": []},
                "status": 200,
            }
        ]
    }
    assert reason(SamCollector(vo="cms").parse, json.dumps(doc).encode()) == (
        "no SAM results for vo cms in the last 2h (2 of 2 shards missing: unnamed 1 (failed, no reason given), "
        "unnamed 2 (failed, no reason given))"
    )


@pytest.mark.parametrize(
    "name, words",
    [
        ("sam_es_error.json", "Elasticsearch error in responses.0: query_shard_exception: Failed to parse query"),
        ("sam_grafana_unauthorized.json", "Grafana: Unauthorized (bearer token expired or rejected?)"),
        ("sam_grafana_invalid_key.json", "Grafana: invalid API key (bearer token expired or rejected?)"),
        ("sam_sso_login.html", "expected JSON, got an HTML page (<title>Sign in to CERN</title>)"),
    ],
)
def test_malformed_answers_give_one_line_reasons(name, words):
    text = reason(SamCollector(vo="cms").parse, fixture(name))
    assert words in text and "\n" not in text


def test_truncated_and_odd_documents():
    assert "truncated" in reason(SamCollector(vo="cms").parse, fixture("sam_results.json")[:5000])
    assert "no key 'responses'" in reason(SamCollector(vo="cms").parse, b'{"took": 3}')
    assert "status 500" in reason(
        SamCollector(vo="cms").parse, b'{"responses": [{"status": 500, "hits": {"hits": []}}]}'
    )
    assert "page 2: expected an _msearch answer" in reason(SamCollector(vo="cms").parse, b'[{"responses": []}, 3]')


def test_no_results_for_a_site_is_suspicious_not_fine():
    text = reason(SamCollector(vo="cms", site="T2_DE_DESY", window="2h").parse, fixture("sam_empty.json"))
    assert text == "no SAM results for site T2_DE_DESY in the last 2h"
    # results of other sites only (a proxy that ignored the query) are no results for this one
    assert "site T2_XX_Nowhere" in reason(
        SamCollector(vo="cms", site="T2_XX_Nowhere").parse, fixture("sam_results.json")
    )
    assert (
        reason(SamCollector(vo="atlas").parse, fixture("sam_results.json"))
        == "no SAM results for vo atlas in the last 2h"
    )


def test_bad_params_are_config_errors(tmp_path):
    module = {
        "name": "sam",
        "category": "availability",
        "collector": "sam",
        "params": {"url": "https://monit-grafana.cern.ch", "vo": "cms", "window": "two hours"},
    }
    config = {"site": "T2_XX", "store": str(tmp_path), "categories": [{"name": "availability"}], "modules": [module]}
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    assert "key 'params': window: not a duration: 'two hours'" in str(info.value)
    with pytest.raises(ValueError, match="vo"):
        SamCollector(url="https://monit-grafana.cern.ch")


def test_against_the_demo_simulator_and_through_the_runner(tmp_path):
    """A day into the demo, ce02's spool disk is full: its job submission is CRITICAL, its WN tests UNKNOWN."""
    start = datetime(2026, 11, 1)
    with Simulator(start=start) as sim:
        sim.clock = now = start + timedelta(hours=22)
        base = sim.base_url
        collector = SamCollector(url=sim.base_url, vo="cms", site="T2_XX_Demo", **FAST)
        result = collector.parse(collector.fetch())
        status = services(result)
        assert status[("ce02.demo-t2.example.org", "HTCONDOR-CE")] == "CRITICAL"
        assert {v for k, v in status.items() if k[0] != "ce02.demo-t2.example.org"} == {"OK"}
        failing = result.tables["services"].set_index("host").loc["ce02.demo-t2.example.org", "failing"]
        assert failing.startswith("org.sam.CONDOR-JobSubmit-/cms-ce-token (CRITICAL), ") and "(UNKNOWN)" in failing

        module = {
            "name": "sam_site",
            "title": "SAM tests",
            "category": "availability",
            "collector": "sam",
            "params": {"url": sim.base_url, "vo": "cms", "site": "T2_XX_Demo", "retries": 0},
            "timeout": "5s",
        }
        config = parse_config(
            {
                "site": "T2_XX_Demo",
                "store": str(tmp_path),
                "categories": [{"name": "availability"}],
                "modules": [module],
            }
        )
        with StoreWriter(tmp_path) as writer:
            Runner(config).run_once(writer, now=now, force=True)
    store = Store(tmp_path)
    row = store.status_at().set_index("module").loc["sam_site"]
    assert row["level"] == "critical" and row["status"] == 0.0
    assert row["message"].startswith("worst: ce02.demo-t2.example.org status=CRITICAL (1 of 6 rows not fine)")
    assert row["source_url"] == base and not row["error"]
    detail = store.detail("sam_site", "services")
    assert len(detail) == 6 and detail.iloc[0]["host"] == "ce02.demo-t2.example.org"
    assert detail.iloc[0]["status"] == "CRITICAL" and set(detail["status"][1:]) == {"OK"}
    metrics = store.metrics("sam_site")
    assert metrics["critical"] == 1 and metrics["ok"] == 5 and 0 < metrics["availability"] < 1
    assert not math.isnan(metrics["availability"])
