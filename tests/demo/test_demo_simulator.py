"""The demo site's simulator: real formats over real HTTP, incidents on schedule, determinism,
the Nagios-style probe command and the demo configuration."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import requests
import yaml
from lxml import etree

from hfpanel.demo import payloads
from hfpanel.demo.simulator import Incident, Simulator
from hfpanel.demo.site import demo_config, write_demo_config

START = datetime(2026, 3, 7, 8, 0)
GENERIC = {"http_json", "http_csv", "html_table", "http_xml", "command"}
SOURCE_SPECIFIC = {
    "sam",
    "hammercloud",
    "htcondor_jobs",
    "htcondor_slots",
    "dcache_pools",
    "gocdb_downtimes",
    "cric_topology",
    "rucio_rules",
}
#: the transfer modules' collectors read the store the demo's transfer feed fills, not the simulator
STORE_READING = {"ingest_health", "transfer_efficiency"}
SE_HOSTS = {payloads.SE_HOST, payloads.XROOTD_HOST}
SAM_URL = "/api/datasources/proxy/9677/_msearch"
SAM_BODY = (
    '{"search_type":"query_then_fetch","ignore_unavailable":true,"index":["monit_prod_sam3_enr_*"]}\n'
    '{"size":500,"query":{"match_all":{}}}\n'
)
HC_TEST = next(iter(payloads.HC_TESTS))
GET_ENDPOINTS = [
    f"/hc/app/cms/xhr/json/?action=results&test={HC_TEST}",
    "/api/v1/pools",
    "/api/v1/pools/dcache-pool05_2/usage",
    "/api/v1/poolgroups/cms-disk/usage",
    "/api/v1/poolgroups/cms-local/pools",
    "/condor/q.json",
    "/condor/status.json",
    "/gocdbpi/public/?method=get_downtime&topentity=DEMO-T2",
    "/rucio/rules.json",
    "/rucio/rules/",
    "/cric/sites.json",
    "/perfsonar/throughput.csv",
    "/squid/status.html",
    "/accounting/storage.csv",
    "/probe/dcache_pools",
]


@pytest.fixture(scope="module")
def sim():
    with Simulator(START, seed=0, hang_seconds=0.6) as simulator:
        yield simulator


def at(sim: Simulator, hours: float) -> Simulator:
    sim.clock = START + timedelta(hours=hours)
    return sim


def get(sim: Simulator, path: str, **kwargs) -> requests.Response:
    return requests.get(sim.base_url + path, timeout=kwargs.pop("timeout", 10), **kwargs)


def sam_hits(sim: Simulator) -> list[dict]:
    answer = requests.post(
        sim.base_url + SAM_URL, data=SAM_BODY, timeout=10, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200
    return answer.json()["responses"][0]["hits"]["hits"]


def sam_status(sim: Simulator, host: str, metric: str) -> dict:
    return next(
        h["_source"]["data"]
        for h in sam_hits(sim)
        if h["_source"]["data"]["dst_hostname"] == host and h["_source"]["data"]["metric_name"] == metric
    )


# --- formats -----------------------------------------------------------------------------------
def test_sam_msearch_has_the_monit_document_fields(sim):
    at(sim, 10)
    hits = sam_hits(sim)
    assert len(hits) == len(list(payloads.sam_tests()))
    clock_ms = payloads.epoch(sim.clock) * 1000
    for hit in hits:
        assert {"_index", "_id", "_source", "sort"} <= set(hit)
        metadata, data = hit["_source"]["metadata"], hit["_source"]["data"]
        assert {"dst_hostname", "service_flavour", "metric_name", "status", "summary", "vo"} <= set(data)
        assert data["status"] in ("OK", "WARNING", "CRITICAL", "UNKNOWN")
        assert isinstance(metadata["timestamp"], int) and clock_ms - 2 * 3600_000 < metadata["timestamp"] <= clock_ms
        assert metadata["kafka_timestamp"] >= metadata["timestamp"] and metadata["producer"] == "sam3"
    flavours = {h["_source"]["data"]["service_flavour"] for h in hits}
    assert flavours == {"HTCONDOR-CE", "ARC-CE", "SRM", "WEBDAV", "XROOTD"}


def test_hammercloud_results_format(sim):
    at(sim, 10)
    answer = get(sim, f"/hc/app/cms/xhr/json/?action=results&test={HC_TEST}")
    assert answer.status_code == 200
    results = answer.json()[str(HC_TEST)]["results"]
    assert 20 <= len(results) <= 25
    assert {r["ganga_status"] for r in results} <= set("srcfk")
    for r in results:
        assert set(r) == {"id", "site", "ganga_status", "submit_time", "start_time", "stop_time", "backendID"}
        datetime.fromisoformat(r["submit_time"])
        assert (r["stop_time"] is None) == (r["ganga_status"] in "sr")
    at_site = get(sim, f"/hc/app/cms/xhr/json/?action=results_at_site&test={HC_TEST}").json()
    assert at_site[str(HC_TEST)]["results_at_site"][payloads.SITE] == results
    assert get(sim, "/hc/app/cms/xhr/json/?action=results&test=1").status_code == 404


def test_condor_q_is_the_condor_json_array_text(sim):
    at(sim, 10)
    text = get(sim, "/condor/q.json").text
    assert text.startswith("[\n{\n") and text.rstrip().endswith("}\n]") and "\n}\n,\n{\n" in text
    assert '"\\/Expr(((ResidentSetSize + 1023) / 1024))\\/"' in text
    ads = json.loads(text)
    assert 80 <= len(ads) <= 300
    for ad in ads:
        assert isinstance(ad["JobStatus"], int) and ad["JobStatus"] in (1, 2, 5, 6)
        assert re.fullmatch(r"[\w.-]+#\d+\.0#\d+", ad["GlobalJobId"])
        assert ad["Requirements"].startswith("/Expr(") and ad["Requirements"].endswith(")/")
        assert list(ad) == sorted(ad, key=str.lower)
        assert isinstance(ad["QDate"], int) and ad["QDate"] <= ad["ServerTime"]
    running = [ad for ad in ads if ad["JobStatus"] == 2]
    assert running and all(ad["RemoteHost"].startswith("slot1_") for ad in running)


def test_condor_status_slots(sim):
    at(sim, 10)
    slots = get(sim, "/condor/status.json").json()
    partitionable = [s for s in slots if s["SlotType"] == "Partitionable"]
    assert len(partitionable) == len(payloads.WORKERS)
    assert [s["State"] for s in partitionable].count("Drained") == 1
    dynamic = [s for s in slots if s["SlotType"] == "Dynamic"]
    assert dynamic and all(s["State"] == "Claimed" and s["Activity"] == "Busy" for s in dynamic)
    assert all(0 <= s["Cpus"] <= s["TotalSlotCpus"] for s in partitionable)


def test_dcache_pool_group_usage(sim):
    at(sim, 10)
    doc = get(sim, "/api/v1/poolgroups/cms-disk/usage").json()
    assert set(doc["costDataForPools"]) == set(payloads.POOL_GROUPS["cms-disk"]) == set(doc["cellDataForPools"])
    for cost in doc["costDataForPools"].values():
        assert {"total", "free", "precious", "removable"} <= set(cost["space"])
        assert all(isinstance(cost["space"][k], int) for k in ("total", "free", "precious", "removable"))
        for queue in ("mover", "store", "restore", "p2p", "p2pClient"):
            assert {"name", "active", "maxActive", "queued", "readers", "writers"} <= set(cost[queue])
    assert doc["groupSpaceData"]["total"] == sum(c["space"]["total"] for c in doc["costDataForPools"].values())
    pools = get(sim, "/api/v1/pools").json()
    assert len(pools) == 12 and {"name", "groups", "links"} <= set(pools[0])
    assert get(sim, "/api/v1/poolgroups/cms-local/pools").json() == payloads.POOL_GROUPS["cms-local"]
    assert get(sim, "/api/v1/poolgroups/nope/usage").status_code == 404


def test_rucio_rules_fields_and_stream(sim):
    at(sim, 10)
    rules = get(sim, "/rucio/rules.json").json()
    assert len(rules) >= 15
    keys = set(rules[0])
    assert {
        "id",
        "state",
        "rse_expression",
        "locks_ok_cnt",
        "locks_replicating_cnt",
        "locks_stuck_cnt",
        "created_at",
        "stuck_at",
        "bytes",
        "activity",
        "did_type",
    } <= keys
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["id"]) for r in rules)
    assert all(re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC", r["created_at"]) for r in rules)
    assert {r["state"] for r in rules} <= {"OK", "REPLICATING"}
    stream = get(sim, "/rucio/rules/")
    assert stream.headers["Content-Type"] == "application/x-json-stream"
    assert [json.loads(line) for line in stream.text.splitlines()] == rules


def test_csv_html_and_cric(sim):
    at(sim, 10)
    throughput = list(csv.DictReader(io.StringIO(get(sim, "/perfsonar/throughput.csv").text)))
    assert len(throughput) == 2 * len(payloads.PEERS)
    assert all(float(row["throughput_mbps"]) > 500 for row in throughput)
    accounting = list(csv.DictReader(io.StringIO(get(sim, "/accounting/storage.csv").text)))
    assert {row["storage_share"] for row in accounting} == {"CMS_DISK", "CMS_LOCALGROUP", "OPS"}
    assert all(0 < int(row["used_bytes"]) < int(row["total_bytes"]) for row in accounting)
    page = get(sim, "/squid/status.html")
    assert page.headers["Content-Type"].startswith("text/html")
    table = etree.HTML(page.text).xpath("//table[.//th[text()='Hit ratio']]")[0]
    assert [td.text for td in table.xpath(".//tbody/tr/td[3]")] == ["OK", "OK"]
    sites = get(sim, "/cric/sites.json").json()
    assert sites[payloads.SITE]["status"] == "enabled" and sites[payloads.SITE]["tier_level"] == 2


def test_unknown_paths_are_404(sim):
    assert get(sim, "/nope").status_code == 404
    assert get(sim, "/probe/nope").status_code == 404
    assert requests.post(sim.base_url + "/condor/q.json", data="x", timeout=5).status_code == 404
    assert requests.post(sim.base_url + "/api/datasources/proxy/1/_msearch", data="x", timeout=5).status_code == 404
    index = get(sim, "/").text
    assert all(i.name in index for i in sim.incidents)


# --- incidents ---------------------------------------------------------------------------------
def test_incident_schedule(sim):
    names = [i.name for i in sim.incidents]
    assert len(names) == len(set(names)) >= 6
    for incident in sim.incidents:
        assert isinstance(incident, Incident) and incident.description
        assert START < incident.begins < START + timedelta(days=3)
        assert incident.ends is None or incident.begins < incident.ends <= START + timedelta(days=3)
    assert sim.incident("ce_submission_failure").begins == START + timedelta(hours=20)


def test_ce_goes_critical_in_sam_and_held_jobs_pile_up(sim):
    ce, metric = payloads.fqdn(payloads.FAILING_CE), payloads.JOBSUBMIT["HTCONDOR-CE"]
    held = lambda: sum(ad["JobStatus"] == 5 for ad in get(sim, "/condor/q.json").json())  # noqa: E731
    at(sim, 19.5)
    assert sam_status(sim, ce, metric)["status"] == "OK"
    before = held()
    at(sim, 25.5)
    during = sam_status(sim, ce, metric)
    assert during["status"] == "CRITICAL" and "submission failed" in during["summary"]
    assert held() >= before + 30
    assert sam_status(sim, payloads.fqdn("ce01"), metric)["status"] == "OK"
    at(sim, 28)
    assert sam_status(sim, ce, metric)["status"] == "OK" and held() < 10


def test_hammercloud_answers_503_then_hangs(sim):
    path = f"/hc/app/cms/xhr/json/?action=results&test={HC_TEST}"
    at(sim, 31)
    assert get(sim, path).status_code == 503
    at(sim, 33)
    with pytest.raises(requests.Timeout):
        get(sim, path, timeout=0.2)
    assert get(sim, path, timeout=5).status_code == 504
    at(sim, 35)
    assert get(sim, path).status_code == 200


def gocdb(sim, hours, query="&ongoing_only=yes"):
    at(sim, hours)
    answer = get(sim, f"/gocdbpi/public/?method=get_downtime&topentity=DEMO-T2{query}")
    assert answer.status_code == 200
    return etree.fromstring(answer.content).findall("DOWNTIME")


def test_se_downtime_in_gocdb_sam_and_probes(sim):
    incident = sim.incident("se_downtime")
    rows = gocdb(sim, 46)
    assert {r.findtext("HOSTNAME") for r in rows} == {payloads.SE_HOST, payloads.XROOTD_HOST}
    for row in rows:
        assert row.get("CLASSIFICATION") == "SCHEDULED" and row.findtext("SEVERITY") == "OUTAGE"
        assert int(row.findtext("START_DATE")) == payloads.epoch(incident.begins)
        assert int(row.findtext("END_DATE")) == payloads.epoch(incident.ends)
        assert row.findtext("FORMATED_START_DATE") == f"{incident.begins:%Y-%m-%d %H:%M}"
        assert row.findtext("ENDPOINT") == row.findtext("HOSTNAME") + row.findtext("SERVICE_TYPE")
    statuses = {
        h["_source"]["data"]["status"]
        for h in sam_hits(sim)
        if h["_source"]["data"]["service_flavour"] in ("SRM", "WEBDAV", "XROOTD")
    }
    assert statuses == {"CRITICAL"}
    assert get(sim, "/probe/webdav_door").json()["status"] == 2
    assert gocdb(sim, 40) == [] and gocdb(sim, 50) == []
    assert {r.findtext("SEVERITY") for r in gocdb(sim, 40, "")} == {"OUTAGE"}  # announced, not yet ongoing
    at(sim, 40)
    assert get(sim, "/probe/webdav_door").json()["status"] == 0
    assert {h["_source"]["data"]["status"] for h in sam_hits(sim)} <= {"OK", "WARNING"}


def test_gocdb_window_follows_the_run_time_not_the_wall_clock(sim):
    """The gocdb_downtimes collector asks for "the run's day .. + 7d" (Collector.now(), set by the runner
    to the simulated time during a backfill), so the simulator answers its own calendar as it is."""
    from collectors.gocdb import GocdbDowntimeCollector
    from hfpanel.downtime import ongoing_outages

    collector = GocdbDowntimeCollector(url=sim.base_url + "/gocdbpi/public/", site=payloads.GOCDB_SITE)

    def table(hours):
        at(sim, hours)
        collector.run_time = pd.Timestamp(sim.clock).tz_localize("UTC").timestamp()  # as the runner does
        assert f"windowstart={sim.clock:%Y-%m-%d}" in collector.query_url()
        return collector.parse(collector.fetch()).tables["downtimes"], pd.Timestamp(sim.clock)

    incident = sim.incident("se_downtime")
    before, before_t = table(40)  # announced, not yet ongoing
    during, during_t = table(46)
    after, after_t = table(50)
    outage = during[during["severity"] == "OUTAGE"]
    assert set(outage["hostname"]) == SE_HOSTS
    assert (outage["start"] == pd.Timestamp(incident.begins)).all()
    assert (outage["end"] == pd.Timestamp(incident.ends)).all()
    assert SE_HOSTS <= set(before["hostname"])
    assert ongoing_outages(before, before_t) == {}
    assert set(ongoing_outages(during, during_t)) == SE_HOSTS
    assert ongoing_outages(after, after_t) == {}
    later, _ = table(46 + 24 * 9)  # nine days later the outage is outside the 7-day window: the dates are honoured
    assert later.empty


def test_dcache_pool_disabled_and_pool_full(sim):
    def state(hours):
        at(sim, hours)
        disabled = get(sim, f"/api/v1/pools/{payloads.DISABLED_POOL}/usage").json()["poolData"]["detailsData"]
        space = get(sim, "/api/v1/poolgroups/cms-disk/usage").json()["costDataForPools"][payloads.FULL_POOL]["space"]
        return disabled["poolMode"], 1 - space["free"] / space["total"]

    mode, used = state(55)
    assert mode == "disabled(fetch,store,stage,p2p-client,p2p-server)" and used > 0.97
    assert get(sim, "/probe/dcache_pools").json()["status"] == 1
    mode, used = state(40)
    assert mode == "enabled" and used < 0.9


def test_rucio_rules_get_stuck(sim):
    at(sim, 45)
    rules = [r for r in get(sim, "/rucio/rules.json").json() if r["state"] == "STUCK"]
    assert len(rules) == 2 and all(r["error"] and r["stuck_at"] and r["locks_stuck_cnt"] > 0 for r in rules)
    at(sim, 30)
    assert not [r for r in get(sim, "/rucio/rules.json").json() if r["state"] == "STUCK"]


def test_now_is_mostly_green_with_one_warning():
    start = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=3)
    with Simulator(start) as live:
        assert live.clock is None
        data = [h["_source"]["data"] for h in sam_hits(live)]
        assert not [d for d in data if d["status"] == "CRITICAL"]
        jobsubmit = {d["dst_hostname"].split(".")[0]: d["status"] for d in data if "JobSubmit" in d["metric_name"]}
        assert jobsubmit == {"ce01": "OK", "ce02": "OK", "arc01": "WARNING"}
        assert [live.incident(n).active(live.now()) for n in ("se_downtime", "dcache_pool_trouble")] == [False, False]


# --- determinism -------------------------------------------------------------------------------
def test_same_clock_gives_same_bytes(sim):
    at(sim, 23.25)

    def everything():
        sam = requests.post(sim.base_url + SAM_URL, data=SAM_BODY, timeout=10).content
        return [get(sim, path).content for path in GET_ENDPOINTS] + [sam]

    first, second = everything(), everything()
    assert first == second
    other = Simulator(START, seed=0)
    other.clock = sim.clock
    assert other.respond("GET", "/condor/q.json").body == first[GET_ENDPOINTS.index("/condor/q.json")]
    other_seed = Simulator(START, seed=1)
    other_seed.clock = sim.clock
    assert other_seed.respond("GET", "/condor/q.json").body != first[GET_ENDPOINTS.index("/condor/q.json")]
    at(sim, 23.75)
    assert get(sim, "/condor/q.json").content != first[GET_ENDPOINTS.index("/condor/q.json")]


def test_serve_binds_loopback_only():
    with pytest.raises(ValueError):
        Simulator(START).serve(host="0.0.0.0")


# --- the probe command -------------------------------------------------------------------------
def probe(url: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "hfpanel.demo.probe", url], capture_output=True, text=True, timeout=20)
    return done.returncode, done.stdout.strip()


def test_probe_command_exit_codes(sim):
    at(sim, 46)
    code, out = probe(f"{sim.base_url}/probe/argus")
    assert code == 0 and out.startswith("OK - ")
    code, out = probe(f"{sim.base_url}/probe/xrootd_door")
    assert code == 2 and out.startswith("CRITICAL - root://")
    at(sim, 55)
    code, out = probe(f"{sim.base_url}/probe/dcache_pools")
    assert code == 1 and out.startswith("WARNING - ") and payloads.DISABLED_POOL in out
    code, out = probe(f"{sim.base_url}/probe/nope")
    assert code == 3 and out.startswith("UNKNOWN - ")
    code, out = probe("http://127.0.0.1:9/probe/argus")
    assert code == 3 and out.startswith("UNKNOWN - ")


# --- the demo configuration --------------------------------------------------------------------
def test_demo_config_shape(tmp_path):
    from hfpanel.config import parse_config

    config = demo_config("http://127.0.0.1:8999", str(tmp_path / "store"))
    categories = {c["name"] for c in config["categories"]}
    modules = config["modules"]
    names = [m["name"] for m in modules]
    assert len(categories) >= 6 and len(modules) >= 20 and len(names) == len(set(names))
    for m in modules:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", m["name"]) and "__" not in m["name"]
        assert m["category"] in categories and m["title"] and len(m["instruction"]) > 60
        assert m["links"]
        assert all(link["title"] and link["url"].startswith(("http://", "https://")) for link in m["links"])
    # every collector type the demo can serve: the generic ones and every source-specific one
    assert {m["collector"] for m in modules} == GENERIC | SOURCE_SPECIFIC | STORE_READING
    # every rating type, counting the collectors' defaults (the probes' exit-code map, SAM's weakest link)
    parsed = {m.name: m for m in parse_config(config).modules}
    effective = {name: m.rating or m.make_collector().default_rating for name, m in parsed.items()}
    assert {r["type"] for r in effective.values() if r} == {"threshold", "weakest_link", "fraction", "map"}
    assert {m["rating"]["type"] for m in modules if m.get("rating")} <= {"threshold", "weakest_link", "fraction", "map"}
    # downtimes: the SE's SAM services are labelled by host, and every host a module watches is one GOCDB names
    sam = {m["name"]: m for m in modules if m["collector"] == "sam"}
    assert {"sam_ce", "sam_se"} <= set(sam) and all(m["params"]["vo"] == "cms" for m in sam.values())
    assert set(sam["sam_se"]["params"]["hosts"]) == SE_HOSTS and effective["sam_se"]["label"] == "host"
    declared = {host for d in payloads.gocdb.downtimes(Simulator(START)) for host, *_ in d["services"]}
    watched = {h for m in modules for h in m.get("hosts", [])}
    assert watched and watched <= declared and SE_HOSTS <= watched
    hc = [m for m in modules if m["collector"] == "hammercloud"]
    assert sorted(t for m in hc for t in m["params"]["tests"]) == sorted(payloads.HC_TESTS)
    assert "hc_template_98" in {m["name"] for m in hc}
    rollups = [c["rollup"] if isinstance(c["rollup"], str) else c["rollup"]["type"] for c in config["categories"]]
    assert {"worst", "weighted", "k_of_n"} <= set(rollups)
    assert categories == {m["category"] for m in modules}  # no empty category
    probes = [m for m in modules if m["collector"] == "command"]
    assert probes and all(m["params"]["argv"][:3] == [sys.executable, "-m", "hfpanel.demo.probe"] for m in probes)
    path = write_demo_config(tmp_path / "site.yaml", "http://127.0.0.1:8999", str(tmp_path / "store"))
    assert yaml.safe_load(path.read_text()) == config


def test_demo_config_passes_the_loader_and_rates_as_scheduled(sim, tmp_path):
    """End to end with the real collectors and ratings: green + one warning now, red in incident 1."""
    config_module = pytest.importorskip("hfpanel.config")
    rating = pytest.importorskip("hfpanel.rating")
    config = config_module.parse_config(demo_config(sim.base_url, str(tmp_path / "store")))

    def ratings(hours, names):
        at(sim, hours)
        out = {}
        for module in (m for m in config.modules if m.name in names):
            collector = module.make_collector()
            result = collector.parse(collector.fetch())
            out[module.name] = rating.rate(module.rating or collector.default_rating, result)
        return out

    def statuses(hours, names):
        return {name: r.status for name, r in ratings(hours, names).items()}

    quick = [
        m.name
        for m in config.modules
        if m.collector not in {"command"} | STORE_READING and not m.name.startswith("hc_")
    ]
    assert {m.collector for m in config.modules if m.name in quick} >= SOURCE_SPECIFIC - {"hammercloud"}
    now = statuses(72, quick + ["hc_template_98"])
    assert {name: s for name, s in now.items() if s != 1.0} == {"sam_ce": 0.5}
    incident = statuses(25.5, ["sam_ce", "condor_held"])
    assert incident["sam_ce"] == 0.0 and incident["condor_held"] <= 0.5
    outage = ratings(46, ["sam_se", "gocdb_downtimes"])  # the SE's doors fail, labelled by their hosts
    assert outage["sam_se"].status == 0.0 and set(outage["sam_se"].inputs["bad_rows"]) == SE_HOSTS
    assert outage["gocdb_downtimes"].status == 1.0  # informational: the runner reads its table
    pools = statuses(55, ["dcache_pools"])  # a pool disabled for reads
    assert pools["dcache_pools"] == 0.0
