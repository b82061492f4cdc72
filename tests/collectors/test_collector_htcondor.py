"""htcondor_jobs / htcondor_slots: condor's -json listings from a command or a URL, as a shifter sees them."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.htcondor import STATUS, STATUS_METRICS, CondorJobsCollector, CondorSlotsCollector
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import parse_config
from hfpanel.demo import payloads as p
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "htcondor"
Q, STATUS_JSON = FIXTURES / "condor_q.json", FIXTURES / "condor_status.json"
FAST = {"timeout": 2, "retries": 0, "backoff": 0.01}
START = datetime(2026, 11, 17)


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def jobs(**params) -> CondorJobsCollector:
    return CondorJobsCollector(**{"url": Q.as_uri(), **params})


def slots(**params) -> CondorSlotsCollector:
    return CondorSlotsCollector(**{"url": STATUS_JSON.as_uri(), **params})


def printing(path: Path) -> list[str]:
    """argv of a stand-in for condor_q that prints a saved listing."""
    return [sys.executable, "-c", "import sys; sys.stdout.write(open(sys.argv[1]).read())", str(path)]


@pytest.fixture(scope="module")
def sim():
    with Simulator(start=START) as simulator:
        yield simulator


def test_entry_points():
    assert collector_class("htcondor_jobs") is CondorJobsCollector
    assert collector_class("htcondor_slots") is CondorSlotsCollector


def test_jobs_from_the_fixture_as_a_shifter_sees_them():
    ads = json.loads(Q.read_text())
    result = jobs().parse(Q.read_bytes())
    counts = Counter(ad["JobStatus"] for ad in ads)
    held_ads = [ad for ad in ads if ad["JobStatus"] == 5]
    assert result.metrics == {
        "idle": counts[1],
        "running": counts[2],
        "removed": counts[3],
        "completed": counts[4],
        "held": len(held_ads),
        "transferring_output": counts[6],
        "suspended": counts[7],
        "total": len(ads),
        "in_queue": len(ads) - counts[3] - counts[4],
        "held_fraction": len(held_ads) / (len(ads) - counts[3] - counts[4]),
    }
    table = result.tables["jobs"]
    assert list(table["job_id"]) == [f"{ad['ClusterId']}.{ad['ProcId']}" for ad in ads]
    assert list(table["status"]) == [STATUS[ad["JobStatus"]] for ad in ads]
    assert list(table["vo"]) == [ad["x509UserProxyVOName"] for ad in ads]
    first = table.iloc[0]
    assert first["since"] == pd.Timestamp(ads[0]["EnteredCurrentStatus"], unit="s")  # naive UTC
    assert first["schedd"] == ads[0]["GlobalJobId"].split("#")[0]
    running = table[table["status"] == "Running"]
    assert list(running["remote_host"]) == [ad["RemoteHost"] for ad in ads if ad["JobStatus"] == 2]
    held = result.tables["held"]
    assert list(held["job_id"]) == [f"{ad['ClusterId']}.0" for ad in held_ads]
    assert list(held["hold_reason"]) == [ad["HoldReason"] for ad in held_ads]
    reasons = result.tables["hold_reasons"]
    assert dict(zip(reasons["hold_code"], reasons["jobs"])) == Counter(ad["HoldReasonCode"] for ad in held_ads)
    assert result.message.startswith(f"{len(held_ads)} of {len(ads)} jobs held; most often code")
    assert table["since"].dtype == "datetime64[us]"


def test_empty_queue_and_expressions_kept_as_text():
    for empty in (b"", b"\n", b"[]\n"):
        result = jobs().parse(empty)
        assert set(result.metrics.values()) == {0.0} and len(result.metrics) == 10
        assert result.tables["jobs"].empty and result.tables["hold_reasons"].empty
    expr = (
        b'[\n{"ClusterId": 1, "ProcId": 0, "JobStatus": 1, '
        b'"RequestMemory": "\\/Expr(ifThenElse(MemoryUsage, 2000))\\/"}\n]'
    )
    table = jobs().parse(expr).tables["jobs"]
    assert table["request_memory_mb"][0] == "/Expr(ifThenElse(MemoryUsage, 2000))/"


def test_slots_from_the_fixture():
    ads = json.loads(STATUS_JSON.read_text())
    result = slots().parse(STATUS_JSON.read_bytes())
    pslots = [ad for ad in ads if ad["SlotType"] == "Partitionable"]
    total = sum(ad["TotalSlotCpus"] for ad in pslots)
    used = sum(ad["Cpus"] for ad in ads if ad["SlotType"] == "Dynamic")
    free = sum(ad["Cpus"] for ad in pslots if ad["State"] == "Unclaimed")
    assert result.metrics == {
        "cores_total": total,
        "cores_used": used,
        "cores_free": free,
        "free_fraction": free / total,
        "slots_drained": 0,
        "slots_owner": sum(ad["State"] == "Owner" for ad in ads),
    }
    table = result.tables["slots"]
    assert list(table["name"]) == [ad["Name"] for ad in ads]
    assert list(table["slot_type"]) == [ad["SlotType"] for ad in ads]
    assert slots().default_rating is None


def test_argv_runs_the_command_and_its_failures_read_well():
    payload = jobs(url="", argv=printing(Q)).fetch()
    assert payload == Q.read_bytes()  # the archived payload is condor's JSON itself
    failing = jobs(
        url="",
        argv=[
            sys.executable,
            "-c",
            "import sys; sys.stderr.write('\\n-- Failed to fetch ads "
            "from: <10.0.0.1:9618> : ce01.example.org\\n'); sys.exit(1)",
        ],
    )
    assert reason(failing.fetch) == "command exited 1: -- Failed to fetch ads from: <10.0.0.1:9618> : ce01.example.org"
    missing = jobs(url="", argv=["/nonexistent/condor_q", "-json"])
    assert reason(missing.fetch) == "command not found: /nonexistent/condor_q"
    slow = jobs(url="", argv=[sys.executable, "-c", "import time; time.sleep(20)"], timeout=0.3)
    assert reason(slow.fetch) == f"command timed out after 0.3s: {sys.executable}"


@pytest.mark.parametrize("params", [{}, {"url": "file:///x.json", "argv": ["condor_q", "-json"]}])
def test_exactly_one_source(params):
    with pytest.raises(ValueError, match="exactly one source"):
        CondorJobsCollector(**params)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"error": "SCHEDD unreachable"}', "expected a JSON list of job ClassAds, got an object"),
        (b'[{"ClusterId": 1, "ProcId": 0}]', "job ClassAd #1 has no JobStatus (left out by -attributes?)"),
        (
            b'[{"ClusterId": 1, "ProcId": 1, "JobStatus": "Held"}, {"ClusterId": 1, "ProcId": 2, "JobStatus": 9}]',
            "job ClassAd #1: JobStatus is the text 'Held', expected a number (and 1 more)",
        ),
        (
            b'[{"ClusterId": 1, "ProcId": 0, "JobStatus": 1, "EnteredCurrentStatus": "yesterday"}]',
            "job ClassAd #1: EnteredCurrentStatus is the text 'yesterday', expected a number",
        ),
        (b"[1, 2]", "job ClassAd #1 is a int, not an object"),
        (Q.read_bytes()[:3000], "malformed JSON: "),
        (
            b"<html><head><title>Sign in</title></head></html>",
            "expected JSON, got an HTML page (<title>Sign in</title>)",
        ),
    ],
)
def test_malformed_listings(payload, expected):
    assert reason(jobs().parse, payload).startswith(expected)


def test_slot_listing_needs_names_and_numbers():
    assert reason(slots().parse, b'[{"Cpus": 8}]') == "slot ClassAd #1 has no Name (left out by -attributes?)"
    assert reason(slots().parse, b'[{"Name": "slot1@wn", "Cpus": "8"}]') == (
        "slot ClassAd #1: Cpus is the text '8', expected a number"
    )


def test_http_credentials_rejected():
    with FaultServer() as srv:
        srv.route("/q.json", "token expired", status=401, content_type="text/plain")
        srv.route("/status.json", "forbidden", status=403, content_type="text/plain")
        expired = jobs(url=srv.url("/q.json"), bearer_token="expired-token", **FAST)
        assert reason(expired.fetch) == f"HTTP 401 Unauthorized from {srv.url('/q.json')} (token expired or rejected?)"
        assert srv.requests("/q.json")[0].headers["authorization"] == "Bearer expired-token"
        assert "HTTP 403 Forbidden" in reason(slots(url=srv.url("/status.json"), **FAST).fetch)


def test_demo_simulator_during_the_ce_failure(sim):
    sim.clock = START + timedelta(hours=22)  # ce02's spool disk is full: held jobs, code 13
    collector = jobs(url=f"{sim.base_url}/condor/q.json", **FAST)
    result = collector.parse(collector.fetch())
    ads = json.loads(sim.respond("GET", "/condor/q.json").body)
    held = [ad for ad in ads if ad["JobStatus"] == 5]
    assert result.metrics["held"] == len(held) > 0 and result.metrics["total"] == len(ads)
    top = result.tables["hold_reasons"].iloc[0]
    assert top["hold_code"] == Counter(ad["HoldReasonCode"] for ad in held).most_common(1)[0][0] == 13
    assert p.fqdn(p.FAILING_CE) in top["reason"]
    farm = slots(url=f"{sim.base_url}/condor/status.json", **FAST)
    metrics = farm.parse(farm.fetch()).metrics
    assert metrics["cores_total"] == 64 * len(p.WORKERS) and metrics["slots_drained"] == 1


def test_through_the_runner(tmp_path):
    config = parse_config(
        {
            "site": "T2_XX_Test",
            "store": str(tmp_path),
            "categories": [{"name": "batch"}],
            "modules": [
                {
                    "name": "condor_jobs",
                    "title": "Jobs on ce01",
                    "category": "batch",
                    "collector": "htcondor_jobs",
                    "params": {"argv": printing(Q)},
                },
                {
                    "name": "condor_slots",
                    "title": "Worker slots",
                    "category": "batch",
                    "collector": "htcondor_slots",
                    "params": {"url": STATUS_JSON.as_uri()},
                },
            ],
        }
    )
    now = pd.Timestamp("2026-03-10 08:50")
    with StoreWriter(tmp_path) as writer:
        Runner(config).run_once(writer, now=now, force=True)
    with Store(tmp_path) as store:
        status = store.status_at(now).set_index("module")
        held = store.detail("condor_jobs", "held")
        assert list(held["job_id"]) == ["725122.0", "725124.0"]
        assert store.detail("condor_slots", "slots")["name"].size == 5
    assert status.loc["condor_jobs", "level"] == "critical"  # 2 of 7 held: above the 0.2 critical bound
    assert status.loc["condor_jobs", "message"].startswith(
        "held_fraction = 0.286 (critical above 0.2); 2 of 7 jobs held"
    )
    assert status.loc["condor_slots", "level"] == "ok"
    assert status.loc["condor_slots", "message"] == "16 of 192 cores used, 32 free"


# -- one odd ad costs that ad; every JobStatus counted where it belongs -----------------------------
def _job(proc: int, status, **more) -> dict:
    return {"ClusterId": 7, "ProcId": proc, "JobStatus": status, **more}


def test_every_job_status_is_counted_where_it_belongs():
    """1-7 each have a metric; Removed and Completed jobs are leaving the queue, so the held fraction
    is of the jobs in it (they used to dilute it, and Transferring Output/Suspended counted nowhere)."""
    ads = [_job(i, status) for i, status in enumerate([1, 2, 2, 3, 4, 4, 5, 6, 7])]
    result = jobs().parse(json.dumps(ads).encode())
    assert {k: result.metrics[k] for k in STATUS_METRICS.values()} == {
        "idle": 1,
        "running": 2,
        "removed": 1,
        "completed": 2,
        "held": 1,
        "transferring_output": 1,
        "suspended": 1,
    }
    assert (result.metrics["total"], result.metrics["in_queue"], result.metrics["held_fraction"]) == (9, 6, 1 / 6)
    assert list(result.tables["jobs"]["status"]) == [STATUS[ad["JobStatus"]] for ad in ads]


def test_an_odd_job_ad_is_that_job_missing():
    ads = [_job(0, 2), _job(1, 9), _job(2, "Held"), {"ProcId": 3, "JobStatus": 1}, _job(4, 5, HoldReasonCode="34")]
    result = jobs().parse(json.dumps(ads).encode())
    assert [(m.key, m.reason) for m in result.missing] == [
        ("7.1", "JobStatus 9 is none of 1-7 (Idle … Suspended)"),
        ("7.2", "JobStatus is the text 'Held', expected a number"),
        ("ClassAd #4", "has no ClusterId (left out by -attributes?)"),
        ("7.4", "HoldReasonCode is the text '34', expected a number"),
    ]
    assert result.expected == {"job": 5} and result.metrics["total"] == 1  # never counted as 0 or held
    rating = rate(jobs().default_rating, result)
    assert rating.status == -1 and rating.message.startswith("no information: 4 of 5 jobs missing: 7.1 (JobStatus 9")


def test_a_slot_whose_cores_are_unknown_is_reported_not_counted_as_zero():
    ads = json.loads(STATUS_JSON.read_text())
    whole = slots().parse(STATUS_JSON.read_bytes()).metrics
    pslot = next(ad for ad in ads if ad["SlotType"] == "Partitionable")
    del pslot["TotalSlotCpus"]
    pslot["TotalCpus"] = 64  # the machine's count stands in for the slot's own
    assert slots().parse(json.dumps(ads).encode()).metrics["cores_total"] == whole["cores_total"] - (
        json.loads(STATUS_JSON.read_text())[ads.index(pslot)]["TotalSlotCpus"] - 64
    )
    for key in ("TotalCpus", "DetectedCpus"):
        pslot.pop(key, None)
    dslot = next(ad for ad in ads if ad["SlotType"] == "Dynamic")
    del dslot["Cpus"]
    result = slots().parse(json.dumps(ads).encode())
    assert [(m.key, m.reason) for m in result.missing] == [
        (pslot["Name"], "partitionable slot without TotalSlotCpus, TotalCpus, DetectedCpus: its cores are unknown"),
        (dslot["Name"], "has no Cpus: its cores are unknown"),
    ]
    assert result.expected == {"slot": len(ads)} and len(result.tables["slots"]) == len(ads) - 2
    assert rate(None, result).status == 0.5  # data arrived, but not all of it: at most warning
