"""One clock: every collector takes "now" from ``Collector.now()`` (the run's time), so a backfill, a
replay or a test of a payload recorded long ago agrees with the source's dates without shifting them.

Each grid collector runs with a run time far in the past (two days after its fixtures were
recorded, months before today): windows asked of the source end at that time, ages run to it, and
parsing gives the same answer whenever the test runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.cric import CricTopologyCollector
from collectors.dcache import DCachePoolsCollector
from collectors.gocdb import GocdbDowntimeCollector
from collectors.hammercloud import HammerCloudCollector, HammerCloudMonitCollector
from collectors.htcondor import CondorJobsCollector, CondorSlotsCollector
from collectors.rucio_rules import RucioRulesCollector
from collectors.sam import SamCollector

ROOT = Path(__file__).parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"
RUN = pd.Timestamp("2026-03-12 00:00")  # the fixtures were recorded around 2026-03-10 08:00
RUN_S = RUN.tz_localize("UTC").timestamp()


def at(collector, when=RUN_S):
    collector.run_time = when
    return collector


@pytest.mark.parametrize(
    "make, window_ms",
    [
        (lambda url: SamCollector(url=url, vo="cms", window="2h"), 2 * 3600_000),
        (lambda url: HammerCloudMonitCollector(url=url), 4 * 3600_000),  # its default window: 4h
    ],
    ids=["sam", "hammercloud_monit"],
)
def test_monit_windows_end_at_the_run_time(make, window_ms):
    body = (FIXTURES / "sam" / "sam_results.json").read_bytes()
    with FaultServer() as srv:
        path = "/api/datasources/proxy/{}/_msearch"
        collector = at(make(srv.url("")))
        srv.route(path.format(collector.datasource_id), body, content_type="application/json")
        collector.fetch()
        query = json.loads(srv.requests(path.format(collector.datasource_id))[0].body.decode().splitlines()[1])
    window = query["query"]["bool"]["filter"][0]["range"][collector.time_field]
    assert (window["gte"], window["lte"]) == (RUN_S * 1000 - window_ms, RUN_S * 1000)


def test_gocdb_asks_from_the_run_day():
    xml = (FIXTURES / "gocdb" / "gocdb_downtime.xml").read_bytes()
    with FaultServer() as srv:
        srv.route("/gocdbpi/public/", xml, content_type="text/xml")
        at(GocdbDowntimeCollector(url=srv.url("/gocdbpi/public/"), site="DESY-HH", window="7d")).fetch()
        query = parse_qs(srv.requests("/gocdbpi/public/")[0].query)
    assert (query["windowstart"], query["windowend"]) == (["2026-03-12"], ["2026-03-19"])


def test_rucio_ages_run_to_the_run_time():
    payload = (FIXTURES / "rucio" / "rucio_rules.ndjson").read_bytes()
    collector = RucioRulesCollector(url="file:///unused.ndjson")
    rules = at(collector).parse(payload).tables["rules"]
    assert (rules["age_s"] == (RUN - rules["created_at"]).dt.total_seconds()).all()
    later = at(RucioRulesCollector(url="file:///unused.ndjson"), RUN_S + 30 * 86400).parse(payload)
    assert (later.tables["rules"]["age_s"] == rules["age_s"] + 30 * 86400).all()
    replicating = (rules["state"] == "REPLICATING").sum()
    assert later.metrics["replicating_too_long"] == replicating, "a month later every REPLICATING rule is too old"
    # outside a run the payload is read as of its newest update: the same ages today and next year
    newest = rules["updated_at"].max()
    standalone = collector.__class__(url="file:///unused.ndjson").parse(payload).tables["rules"]
    assert (standalone["age_s"] == (newest - rules["created_at"]).dt.total_seconds()).all()


FIXED = {  # collectors whose parse has no "now": the same answer at any run time
    "hammercloud": (lambda: HammerCloudCollector(tests=[1]), "hammercloud/hammercloud.json"),
    "htcondor_jobs": (lambda: CondorJobsCollector(url="file:///q.json"), "htcondor/condor_q.json"),
    "htcondor_slots": (lambda: CondorSlotsCollector(url="file:///s.json"), "htcondor/condor_status.json"),
    "cric_topology": (lambda: CricTopologyCollector(), "cric/cric_sites.json"),
    "sam": (lambda: SamCollector(vo="cms"), "sam/sam_results.json"),
    "hammercloud_monit": (lambda: HammerCloudMonitCollector(), "hammercloud/hammercloud_monit_condor.json"),
}


@pytest.mark.parametrize("name", list(FIXED))
def test_parse_without_a_now_is_the_same_at_any_run_time(name):
    make, fixture = FIXED[name]
    payload = (FIXTURES / fixture).read_bytes()
    then, next_year = at(make()).parse(payload), at(make(), RUN_S + 365 * 86400).parse(payload)
    assert then.metrics == next_year.metrics and then.message == next_year.message
    for table in then.tables:
        pd.testing.assert_frame_equal(then.tables[table], next_year.tables[table])


def test_dcache_parse_is_the_same_at_any_run_time():
    listing = json.loads((FIXTURES / "dcache" / "dcache_pools.json").read_text())
    usage = json.loads((FIXTURES / "dcache" / "dcache_pool_usage.json").read_text())
    payload = json.dumps({"pools": listing, "usage": {p["name"]: usage for p in listing}}).encode()
    then, later = (at(DCachePoolsCollector(url="http://x"), t).parse(payload) for t in (RUN_S, RUN_S + 86400 * 365))
    pd.testing.assert_frame_equal(then.tables["pools"], later.tables["pools"])


WALL_CLOCK = re.compile(
    r"\btime\.time\(|datetime\.now\(|datetime\.utcnow\(|\butcnow\(|Timestamp\.now\(|"
    r"Timestamp\.utcnow\(|date\.today\(|Timestamp\(\s*[\"']now[\"']"
)


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *(ROOT / "collectors").glob("*.py"),
            *(ROOT / "hfpanel" / name for name in ("http.py", "monit.py", "tabular.py", "process.py", "topology.py")),
        ]
    ),
    ids=lambda p: p.name,
)
def test_no_collector_reads_the_wall_clock(path):
    """The one wall clock is hfpanel/clock.py, reached by collectors through Collector.now()."""
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert not found, found
