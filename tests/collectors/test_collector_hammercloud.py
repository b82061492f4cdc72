"""The ``hammercloud`` (xhr/json API) and ``hammercloud_monit`` (CMS condor records in MONIT) collectors.

Efficiencies are recomputed here by hand from the fixtures' statuses, so the collector and the test
do not share a mistake. Faults use the local FaultServer; each collector also runs once through the
real runner (the xhr one against the demo simulator).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer, Reply

from collectors.hammercloud import HammerCloudCollector, HammerCloudMonitCollector, json_literals
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import parse_config
from hfpanel.demo import payloads
from hfpanel.demo.payloads.hammercloud import hammercloud_results
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "hammercloud"
FAST = {"timeout": 2.0, "retries": 0, "backoff": 0.01}
TOKEN = "glsa_HcToKeN0123456789abcdef"
XHR = "/hc/app/atlas/xhr/json/"
PROXY = "/api/datasources/proxy/8787/_msearch"
RATING = HammerCloudCollector.default_rating


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def by_hand(results: list[dict]) -> dict[str, float]:
    """completed / (completed + failed) per site, from the raw ganga statuses."""
    counts = Counter((r["site"], r["ganga_status"]) for r in results)
    sites = {r["site"] for r in results}
    return {s: counts[s, "c"] / (counts[s, "c"] + counts[s, "f"]) for s in sites if counts[s, "c"] + counts[s, "f"]}


@pytest.fixture
def srv():
    with FaultServer() as server:
        yield server


def test_entry_points_and_default_rating():
    assert collector_class("hammercloud") is HammerCloudCollector
    assert collector_class("hammercloud_monit") is HammerCloudMonitCollector
    assert (
        RATING
        == HammerCloudMonitCollector.default_rating
        == {"type": "threshold", "metric": "efficiency_min", "warning": 0.8, "critical": 0.5}
    )


# -- xhr/json -----------------------------------------------------------------------------------
def test_efficiency_per_site_as_computed_by_hand():
    raw = json.loads(fixture("hammercloud.json"))["20451137"]["results"]
    expected = by_hand(raw)
    assert expected == {"ANALY_BNL_VP": 5 / 6, "ANALY_DESY-HH_UCORE": 4 / 5}  # what a shifter counts on the page
    result = HammerCloudCollector(tests=[20451137]).parse(fixture("hammercloud.json"))
    sites = result.tables["sites"].set_index("site")
    assert sites["efficiency"].to_dict() == pytest.approx(expected)
    assert sites.loc["ANALY_DESY-HH_UCORE", ["completed", "failed", "running", "killed", "submitted"]].tolist() == [
        4,
        1,
        1,
        1,
        0,
    ]
    assert sites.loc["ANALY_BNL_VP", ["completed", "failed", "submitted"]].tolist() == [5, 1, 1]
    assert result.tables["sites"]["site"][0] == "ANALY_DESY-HH_UCORE"  # worst first
    assert result.metrics["efficiency"] == pytest.approx(9 / 11)
    assert result.metrics["efficiency_min"] == pytest.approx(0.8)
    assert result.metrics["completed"] == 9 and result.metrics["failed"] == 2
    rating = rate(RATING, result)
    assert rating.status == 0.5 and "worst site ANALY_DESY-HH_UCORE: 4 of 5 finished jobs succeeded" in rating.message
    results = result.tables["results"].set_index("id")
    assert len(results) == 14 and results.loc[913550014, "status"] == "killed"
    assert (
        results.loc[913550001, "duration"]
        == (pd.Timestamp("2026-03-10T07:24:01") - pd.Timestamp("2026-03-10T06:35:46")).total_seconds()
    )
    assert pd.isna(results.loc[913550013, "start_time"]) and results.loc[913550001, "backend_id"] == "6512330000"
    assert (results["test_id"] == 20451137).all()


def test_python_none_quirk_is_fixed_outside_strings_only():
    assert (
        json_literals('{"a": None, "b": "None True False", "c": [True, False], "d": "say \\"None\\""}')
        == '{"a": null, "b": "None True False", "c": [true, false], "d": "say \\"None\\""}'
    )
    tricky = r'{"a": "x\" None", "b": "\\", "c": None, "d": "True\\", "e": False}'  # escaped quote, trailing backslash
    assert json.loads(json_literals(tricky)) == {"a": 'x" None', "b": "\\", "c": None, "d": "True\\", "e": False}
    assert json_literals('{"a": "None"}') == '{"a": "None"}'
    result = HammerCloudCollector(tests=[20451137]).parse(fixture("hammercloud_results_raw_none.txt"))
    results = result.tables["results"].set_index("id")
    assert results["status"].to_dict() == {913550012: "running", 913550013: "submitted", 913550014: "killed"}
    assert pd.isna(results.loc[913550013, "start_time"])
    assert math.isnan(result.metrics["efficiency_min"])  # nothing finished: no information, not an error
    rating = rate(RATING, result)
    assert rating.status == -1 and rating.message == "efficiency_min has no value; no finished jobs (3 in the answer)"


def test_the_sites_filter():
    only = HammerCloudCollector(tests=[20451137], sites=["ANALY_BNL_VP"]).parse(fixture("hammercloud.json"))
    assert list(only.tables["sites"]["site"]) == ["ANALY_BNL_VP"]
    assert only.metrics["efficiency_min"] == pytest.approx(5 / 6) and rate(RATING, only).status == 1.0


def test_fetch_asks_each_test_and_keeps_the_raw_answers(srv, tmp_path):
    first = fixture("hammercloud.json")
    second = json.dumps({"20451140": {"results": json.loads(first)["20451137"]["results"][:2]}})
    srv.sequence(XHR, [Reply(200, first, "application/json"), Reply(200, second, "application/json")])
    collector = HammerCloudCollector(
        url=srv.url(""), app="atlas", tests=[20451137, "20451140"], bearer_token=TOKEN, **FAST
    )
    payload = collector.fetch()
    assert [r.query for r in srv.requests(XHR)] == ["action=results&test=20451137", "action=results&test=20451140"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" and r.method == "GET" for r in srv.requests(XHR))
    assert [a["test"] for a in json.loads(payload)] == ["20451137", "20451140"]
    assert json.loads(payload)[0]["body"].encode() == first  # archived as it came
    result = collector.parse(payload)
    assert sorted(result.tables["results"]["test_id"].unique()) == [20451137, 20451140]
    assert result.metrics["completed"] == 11 and collector.source_url() == srv.url("")


def test_a_failing_test_names_itself_and_no_token(srv, caplog):
    caplog.set_level(logging.DEBUG)
    srv.sequence(
        XHR,
        [
            Reply(200, fixture("hammercloud.json"), "application/json"),
            Reply(404, '{"error": "test \'1\' does not exist"}', "application/json"),
        ],
    )
    collector = HammerCloudCollector(url=srv.url(""), app="atlas", tests=[20451137, 1], bearer_token=TOKEN, **FAST)
    result = collector.parse(collector.fetch())  # the test that failed is missing, the other one rated
    assert [(m.what, m.key, m.reason) for m in result.missing] == [("test", "1", "HTTP 404 Not Found")]
    assert result.expected["test"] == 2 and result.metrics["completed"] > 0
    message = rate(RATING, result).message
    assert message.startswith("1 of 2 tests missing: 1 (HTTP 404 Not Found)")
    assert TOKEN not in message and TOKEN not in caplog.text
    srv.route(XHR, "<html><head><title>HammerCloud - Login</title></head></html>", content_type="text/html")
    text = reason(lambda: collector.parse(collector.fetch()))
    assert text == (
        "test 20451137: expected JSON, got an HTML page (<title>HammerCloud - Login</title>) (and 1 more test failed)"
    )
    srv.route(XHR, b"Unauthorized", status=401, content_type="text/plain")
    assert "token expired or rejected" in reason(collector.fetch)


@pytest.mark.parametrize(
    "name, key, why",
    [
        ("hammercloud_missing_keys.json", "20451137.results.1", "site: missing, expected text"),
        ("hammercloud_wrong_types.json", "20451137.results.2", "submit_time: not a time: 'yesterday'"),
        ("hammercloud_wrong_status_type.json", "20451137.results.0", "ganga_status: int '3', expected text"),
    ],
)
def test_one_malformed_job_record_is_that_job_missing(name, key, why):
    """It used to blank the module: one bad record of a test's answer cost every other job."""
    result = HammerCloudCollector(tests=[20451137]).parse(fixture(name))
    records = json.loads(fixture(name))["20451137"]["results"]
    assert [(m.what, m.key, m.reason) for m in result.missing] == [("job", key, why)]
    assert result.expected == {"job": len(records)} and len(result.tables["results"]) == len(records) - 1
    rating = rate(RATING, result)
    assert rating.message.startswith(f"1 of {len(records)} jobs missing: {key} ({why})") and rating.status <= 0.5


def test_malformed_answers():
    text = reason(HammerCloudCollector(tests=[20451137]).parse, fixture("hammercloud_error.json"))
    assert "HammerCloud: test '20451137' does not exist" in text and "\n" not in text
    doc = json.loads(fixture("hammercloud_missing_keys.json"))
    for record in doc["20451137"]["results"]:
        record.pop("site", None)
    text = reason(HammerCloudCollector(tests=[20451137]).parse, json.dumps(doc).encode())
    assert text == "site: missing, expected text"  # nothing readable: the source failing


def test_odd_documents():
    parse = HammerCloudCollector(tests=[1]).parse
    assert "truncated" in reason(parse, fixture("hammercloud.json")[:300])
    assert "path '20451137.results' not found" in reason(parse, b'{"20451137": {"jobs": []}}')
    assert "not a list" in reason(parse, b'{"20451137": {"results": {"a": 1}}}')
    assert reason(parse, b"") == "empty document"
    assert "got a list" in reason(parse, b'[{"id": 1}]')
    assert "unexpected key 'results_at_site'" in reason(parse, b'{"results_at_site": {}}')
    assert "no key 'results'" in reason(parse, fixture("hammercloud_results_at_site.json"))  # fetch never asks for it


def test_empty_results_are_no_information_not_an_error():
    result = HammerCloudCollector(tests=[20451137]).parse(fixture("hammercloud_empty.json"))
    assert result.tables["sites"].empty and result.metrics["completed"] == 0
    assert rate(RATING, result).status == -1


def test_params_are_checked():
    with pytest.raises(ValueError, match="tests"):
        HammerCloudCollector(url="https://hammercloud.cern.ch")
    with pytest.raises(ValueError, match="tests"):
        HammerCloudCollector(tests=["20451137; drop"])
    with pytest.raises(ValueError):
        HammerCloudCollector(tests=[1], app="../admin")


def test_xhr_through_the_runner_against_the_demo_simulator(tmp_path):
    start = datetime(2026, 11, 1)
    tests = list(payloads.HC_TESTS)
    with Simulator(start=start) as sim:
        sim.clock = now = start + timedelta(hours=10)
        jobs = [j for t in tests for j in hammercloud_results(sim, now.replace(microsecond=0), t)]
        module = {
            "name": "hc_cms",
            "title": "HammerCloud",
            "category": "compute",
            "collector": "hammercloud",
            "params": {"url": sim.base_url, "app": "cms", "tests": tests, "retries": 0},
            "timeout": "5s",
        }
        config = parse_config(
            {"site": "T2_XX_Demo", "store": str(tmp_path), "categories": [{"name": "compute"}], "modules": [module]}
        )
        with StoreWriter(tmp_path) as writer:
            Runner(config).run_once(writer, now=now, force=True)
    efficiency = by_hand(jobs)[payloads.SITE]
    store = Store(tmp_path)
    row = store.status_at().set_index("module").loc["hc_cms"]
    assert row["level"] == ("ok" if efficiency > 0.8 else "warning" if efficiency > 0.5 else "critical")
    assert row["message"].startswith(f"efficiency_min = {efficiency:.3g}")
    sites = store.detail("hc_cms", "sites")
    assert sites["site"].tolist() == [payloads.SITE]
    assert sites["efficiency"].iloc[0] == pytest.approx(efficiency)
    assert sites["completed"].iloc[0] == sum(j["ganga_status"] == "c" for j in jobs)


# -- MONIT condor records (CMS) -----------------------------------------------------------------
def test_monit_condor_records_per_site():
    """DESY 2 of 2 (exit code 0), IC 1 of 1 (only ExitCode), Nebraska 0 of 1 (8021), Pisa 0 of 1
    (removed: wall clock limit), FNAL 0 of 1 (SYSTEM_PERIODIC_REMOVE counts against the site)."""
    result = HammerCloudMonitCollector().parse(fixture("hammercloud_monit_condor.json"))
    sites = result.tables["sites"].set_index("site")
    assert sites["efficiency"].to_dict() == {
        "T1_US_FNAL": 0.0,
        "T2_IT_Pisa": 0.0,
        "T2_US_Nebraska": 0.0,
        "T2_DE_DESY": 1.0,
        "T2_UK_London_IC": 1.0,
    }
    assert result.metrics["efficiency"] == 0.5 and result.metrics["efficiency_min"] == 0.0
    assert rate(RATING, result).status == 0.0
    results = result.tables["results"].set_index("job")
    assert set(results["template"]) == {98, 101}
    assert results.loc["crab3@vocms0199.cern.ch#61220823.0#1773124642", "remove_reason"].startswith(
        "SYSTEM_PERIODIC_REMOVE"
    )
    assert results["time"].min() == pd.Timestamp(1773126600, unit="s")


def test_monit_latest_record_per_job_and_ignored_removals():
    """The versions fixture adds: an earlier Running record of a DESY job, a condor_rm and a proxy
    expiry removal (ignored), a Nebraska success and an ordinary CRAB job (not HammerCloud)."""
    result = HammerCloudMonitCollector().parse(fixture("hammercloud_monit_versions.json"))
    sites = result.tables["sites"].set_index("site")
    assert sites.loc["T2_DE_DESY", ["completed", "failed", "killed", "running"]].tolist() == [2, 0, 1, 0]
    assert sites.loc["T2_US_Nebraska", ["completed", "failed", "killed"]].tolist() == [1, 1, 1]
    assert sites.loc["T2_US_Nebraska", "efficiency"] == 0.5
    assert len(result.tables["results"]) == 9 and "jdoe" not in "".join(result.tables["results"]["workflow"])
    only = HammerCloudMonitCollector(sites=["T2_DE_DESY", "T2_US_Nebraska"], templates=[98]).parse(
        fixture("hammercloud_monit_versions.json")
    )
    assert only.metrics["efficiency"] == 3 / 4 and only.metrics["efficiency_min"] == 0.5


def test_monit_request(srv):
    srv.route(PROXY, fixture("hammercloud_monit_condor.json"), content_type="application/json")
    collector = HammerCloudMonitCollector(
        url=srv.url(""), templates=[98], sites=["T2_DE_DESY"], window="6h", bearer_token=TOKEN, **FAST
    )
    collector.parse(collector.fetch())
    (request,) = srv.requests(PROXY)
    header, query = (json.loads(line) for line in request.body.splitlines())
    assert (
        header["index"] == ["monit_prod_condor_raw_metric*"] and request.headers["authorization"] == f"Bearer {TOKEN}"
    )
    window = query["query"]["bool"]["filter"][0]["range"]["data.RecordTime"]
    assert window["lte"] - window["gte"] == 6 * 3600 * 1000
    assert "data.CRAB_Workflow" in query["_source"] and "data.Chirp_CRAB3_Job_ExitCode" in query["_source"]
    text = query["query"]["bool"]["filter"][1]["query_string"]["query"]
    assert text == '(data.CRAB_Workflow:*_crab_HC\\-98\\-*) AND data.Site:("T2_DE_DESY")'


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.pop("GlobalJobId", None), "responses.0.hits.hits.0._source.data.GlobalJobId: missing"),
        (
            lambda d: d.update(RecordTime="yesterday"),
            "responses.0.hits.hits.0._source.data.RecordTime: str 'yesterday'",
        ),
        (
            lambda d: d.update(CRAB_Workflow=42),
            "responses.0.hits.hits.0._source.data.CRAB_Workflow: int '42', expected text",
        ),
    ],
)
def test_monit_malformed_records(change, words):
    doc = json.loads(fixture("hammercloud_monit_condor.json"))
    change(doc["responses"][0]["hits"]["hits"][0]["_source"]["data"])
    result = HammerCloudMonitCollector().parse(json.dumps(doc).encode())  # that record missing, the rest rated
    assert words in f"{result.missing[0].key}.{result.missing[0].reason}" and result.missing[0].what == "record"
    assert result.expected["record"] == len(doc["responses"][0]["hits"]["hits"]) and result.metrics["completed"] > 0
    for hit in doc["responses"][0]["hits"]["hits"]:
        change(hit["_source"]["data"])
    assert words in reason(HammerCloudMonitCollector().parse, json.dumps(doc).encode())  # none readable: an error


def test_monit_error_documents():
    parse = HammerCloudMonitCollector().parse
    assert reason(parse, b'{"message": "Unauthorized"}') == "Grafana: Unauthorized (bearer token expired or rejected?)"
    assert "index_not_found" in reason(
        parse,
        json.dumps(
            {"responses": [{"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404}]}
        ).encode(),
    )
    empty = parse(b'{"responses": [{"hits": {"hits": []}, "status": 200}]}')
    assert empty.tables["sites"].empty and rate(RATING, empty).status == -1


def test_monit_through_the_runner(srv, tmp_path):
    srv.route(PROXY, fixture("hammercloud_monit_condor.json"), content_type="application/json")
    module = {
        "name": "hc_monit",
        "title": "HammerCloud (MONIT)",
        "category": "compute",
        "collector": "hammercloud_monit",
        "params": {"url": srv.url(""), "bearer_token": TOKEN, "retries": 0},
        "timeout": "5s",
    }
    config = parse_config(
        {"site": "T2_XX", "store": str(tmp_path), "categories": [{"name": "compute"}], "modules": [module]}
    )
    with StoreWriter(tmp_path) as writer:
        Runner(config).run_once(writer, now=pd.Timestamp("2026-03-10 09:00"), force=True)
    store = Store(tmp_path)
    row = store.status_at().set_index("module").loc["hc_monit"]
    assert row["level"] == "critical"
    assert (
        row["message"]
        == "efficiency_min = 0 (critical below 0.5); worst site T1_US_FNAL: 0 of 1 finished jobs succeeded"
    )
    assert TOKEN not in row["source_url"] and TOKEN not in row["message"]
    sites = store.detail("hc_monit", "sites").set_index("site")
    assert sites.loc["T2_DE_DESY", "completed"] == 2 and sites.loc["T2_US_Nebraska", "failed"] == 1


# -- numbers a shifter acts on ----------------------------------------------------------------------
def test_a_null_exit_code_is_no_failure():
    """A completed job whose CRAB exit code is null: condor's ExitCode decides (eval_hc.py's "or");
    with both null nobody knows the outcome, and it counts neither way."""
    doc = json.loads(fixture("hammercloud_monit_condor.json"))
    data = doc["responses"][0]["hits"]["hits"][0]["_source"]["data"]  # DESY, completed, both codes 0
    data.update(Chirp_CRAB3_Job_ExitCode=None)
    sites = HammerCloudMonitCollector().parse(json.dumps(doc).encode()).tables["sites"].set_index("site")
    assert (sites.loc["T2_DE_DESY", "completed"], sites.loc["T2_DE_DESY", "failed"]) == (2, 0)
    data.update(ExitCode=None)
    result = HammerCloudMonitCollector().parse(json.dumps(doc).encode())
    sites = result.tables["sites"].set_index("site")
    assert (sites.loc["T2_DE_DESY", "completed"], sites.loc["T2_DE_DESY", "failed"]) == (1, 0)
    assert sites.loc["T2_DE_DESY", "unknown"] == 1 and sites.loc["T2_DE_DESY", "efficiency"] == 1.0
    assert result.metrics["unknown"] == 1
    data.update(ExitCode="0")  # text where a number belongs: that record is reported, not counted
    result = HammerCloudMonitCollector().parse(json.dumps(doc).encode())
    assert [(m.what, m.reason) for m in result.missing] == [
        ("record", "_source.data.ExitCode: the text '0', expected a number")
    ]
