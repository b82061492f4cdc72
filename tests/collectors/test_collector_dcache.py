"""dcache_pools: every pool of a dCache frontend, its mode, space and queues, worst pool rated."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.dcache import DCachePoolsCollector
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import parse_config
from hfpanel.demo import payloads as p
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dcache"
FAST = {"timeout": 2, "retries": 0, "backoff": 0.01}
LISTING = json.loads((FIXTURES / "dcache_pools.json").read_text())
ENABLED = json.loads((FIXTURES / "dcache_pool_usage.json").read_text())
DISABLED = json.loads((FIXTURES / "dcache_pool_usage_disabled.json").read_text())
START = datetime(2026, 11, 17)


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def full(doc: dict) -> dict:
    """A copy of ``doc`` whose pool has 1% free and nothing removable."""
    doc = copy.deepcopy(doc)
    space = doc["poolData"]["detailsData"]["costData"]["space"]
    space.update(free=space["total"] // 100, removable=0)
    return doc


# the four pools of the listing: fine, disabled (dead disk), full tape buffer, fine
USAGE = dict(zip([pool["name"] for pool in LISTING], [ENABLED, DISABLED, full(ENABLED), ENABLED]))


def space(doc: dict) -> dict:
    return doc["poolData"]["detailsData"]["costData"]["space"]


@pytest.fixture
def srv():
    with FaultServer() as server:
        server.route("/api/v1/pools", json.dumps(LISTING), content_type="application/json")
        for name, doc in USAGE.items():
            server.route(f"/api/v1/pools/{name}/usage", json.dumps(doc), content_type="application/json")
        yield server


def collect(collector):
    return collector.parse(collector.fetch())


def test_entry_point():
    assert collector_class("dcache_pools") is DCachePoolsCollector


def test_every_pool_over_the_rest_api(srv):
    collector = DCachePoolsCollector(url=srv.url(""), **FAST)
    result = collect(collector)
    assert [srv.hits(f"/api/v1/pools/{name}/usage") for name in USAGE] == [1, 1, 1, 1]
    assert srv.requests("/api/v1/pools")[0].headers["accept"] == "application/json"
    pools = result.tables["pools"].set_index("pool")
    assert list(pools.index) == [pool["name"] for pool in LISTING]
    disabled_pool, full_pool = LISTING[1]["name"], LISTING[2]["name"]
    assert pools.loc[disabled_pool, "mode"] == DISABLED["poolData"]["detailsData"]["poolMode"]
    assert pools.loc[disabled_pool, "status_message"] == DISABLED["poolData"]["detailsData"]["poolStatusMessage"]
    assert not pools.loc[disabled_pool, "enabled"] and pools["enabled"].sum() == 3
    fine = space(ENABLED)
    assert pools.loc[LISTING[0]["name"], "used_fraction"] == pytest.approx(
        (fine["total"] - fine["free"] - fine["removable"]) / fine["total"]
    )
    movers = ENABLED["poolData"]["detailsData"]["costData"]["mover"]
    assert pools.loc[LISTING[0]["name"], "movers_active"] == movers["active"]
    assert pools.loc[LISTING[0]["name"], "groups"] == ", ".join(ENABLED["poolData"]["poolGroups"])
    assert list(pools["health"]) == [1.0, 0.0, 0.5, 1.0]  # fine, disabled, full, fine
    assert pools.loc[full_pool, "used_fraction"] == pytest.approx(0.99)
    assert result.metrics == {
        "pools": 4,
        "disabled": 1,
        "full": 1,
        "queued": 0,
        "saturated": 0,
        "space_unknown": 0,
        "free_bytes": sum(space(doc)["free"] for doc in USAGE.values()),
    }
    rating = rate(collector.default_rating, result)
    assert rating.status == 0.0
    assert rating.message.startswith(f"worst: {disabled_pool} health=0.0 (2 of 4 rows not fine)")


def test_old_dcache_lists_names_and_configured_pools_skip_the_listing(srv):
    names = [pool["name"] for pool in LISTING]
    srv.route("/api/v1/pools", json.dumps(names), content_type="application/json")
    pools = collect(DCachePoolsCollector(url=srv.url("/"), **FAST)).tables["pools"]
    assert list(pools["pool"]) == names and pools.loc[0, "groups"] == ", ".join(ENABLED["poolData"]["poolGroups"])
    chosen = collect(DCachePoolsCollector(url=srv.url(""), pools=names[:2], **FAST))
    assert srv.hits("/api/v1/pools") == 1 and chosen.metrics["pools"] == 2  # listing asked once, by the first collector


def test_full_fraction_is_configurable():
    payload = json.dumps({"pools": LISTING[:1], "usage": {LISTING[0]["name"]: ENABLED}}).encode()
    used = DCachePoolsCollector(url="x").parse(payload).tables["pools"]["used_fraction"][0]
    assert DCachePoolsCollector(url="x", full_fraction=used).parse(payload).metrics["full"] == 1
    assert DCachePoolsCollector(url="x").parse(payload).metrics["full"] == 0


def test_credentials_and_admin_role(srv):
    srv.route(
        f"/api/v1/pools/{LISTING[1]['name']}/usage",
        '{"errors":[{"status":"403"}]}',
        status=403,
        content_type="application/json",
    )
    assert reason(DCachePoolsCollector(url=srv.url(""), **FAST).fetch) == (
        f"HTTP 403 Forbidden reading the usage of pool {LISTING[1]['name']}: pool usage needs the frontend's admin "
        "role (is the certificate or token mapped to an admin?)"
    )
    srv.route("/api/v1/pools", "expired", status=401, content_type="text/plain")
    expired = DCachePoolsCollector(url=srv.url(""), bearer_token="old", **FAST)
    assert reason(expired.fetch) == (
        f"HTTP 401 Unauthorized from {srv.url('/api/v1/pools')} (token expired or rejected?)"
    )


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        (
            '{"errors": [{"status": "500", "message": "pool manager unavailable"}]}',
            "dCache answered with an error for the pool list: pool manager unavailable",
        ),
        (
            "<html><head><title>dCache login</title></head></html>",
            "expected JSON, got an HTML page (<title>dCache login</title>)",
        ),
        ("[]", "the frontend lists no pools"),
        ('{"pools": 3}', "expected the pool list of GET /api/v1/pools, got an object"),
        ('[{"groups": ["x"]}]', "pool list entries must be names or objects with a 'name'"),
    ],
)
def test_listing_faults(srv, listing, expected):
    srv.route("/api/v1/pools", listing, content_type="application/json")
    assert reason(DCachePoolsCollector(url=srv.url(""), **FAST).fetch).startswith(expected)


def _payload(usage) -> bytes:
    return json.dumps({"pools": LISTING[:1], "usage": {LISTING[0]["name"]: usage}}).encode()


def _broken(path: str, value) -> dict:
    doc = copy.deepcopy(ENABLED)
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    return doc


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"pools": []}', "not a dcache_pools payload"),
        (b"", "empty document"),
        (
            _payload({"errors": [{"message": "pool not found"}]}),
            (f"dCache answered with an error for the usage of pool {LISTING[0]['name']}: pool not found"),
        ),
        (_payload({"cellData": {}}), f"usage of pool {LISTING[0]['name']} has no poolData"),
        (
            _payload(_broken("poolData.detailsData.costData.space.total", "200T")),
            f"pool {LISTING[0]['name']}: costData.space.total is the text '200T', expected a number",
        ),
        (
            _payload(_broken("poolData.detailsData.costData.mover", [1])),
            f"pool {LISTING[0]['name']}: costData.mover is a list of 1, expected an object",
        ),
        (
            _payload(_broken("poolData.detailsData.poolMode", 1)),
            f"pool {LISTING[0]['name']}: poolMode is a int, expected text",
        ),
    ],
)
def test_malformed_payloads(payload, expected):
    assert reason(DCachePoolsCollector(url="x").parse, payload).startswith(expected)


def test_a_pool_without_details_counts_as_not_serving():
    pools = DCachePoolsCollector(url="x").parse(_payload(_broken("poolData.detailsData", None))).tables["pools"]
    assert (pools.loc[0, "mode"], pools.loc[0, "health"], pd.isna(pools.loc[0, "total_bytes"])) == (
        "unknown (no pool details)",
        0.0,
        True,
    )


def test_demo_simulator_pool_trouble():
    with Simulator(start=START) as sim:
        sim.clock = START + timedelta(hours=55)
        result = collect(DCachePoolsCollector(url=sim.base_url, **FAST))
        pools = result.tables["pools"].set_index("pool")
        assert len(pools) == sum(len(names) for names in p.POOL_GROUPS.values())
        assert pools.loc[p.DISABLED_POOL, "mode"] == p.DISABLED_MODE and pools.loc[p.DISABLED_POOL, "health"] == 0.0
        assert pools.loc[p.FULL_POOL, "health"] == 0.5 and pools.loc[p.FULL_POOL, "used_fraction"] >= 0.95
        assert (result.metrics["disabled"], result.metrics["full"]) == (1, 1)
        assert sorted(result.labels["pool"]) == sorted([p.DISABLED_POOL, p.FULL_POOL])  # what rules can match
        sim.clock = START + timedelta(hours=2)  # before the incident
        assert collect(DCachePoolsCollector(url=sim.base_url, **FAST)).metrics["disabled"] == 0


def test_through_the_runner(srv, tmp_path):
    config = parse_config(
        {
            "site": "T2_XX_Test",
            "store": str(tmp_path),
            "categories": [{"name": "storage"}],
            "modules": [
                {
                    "name": "dcache_pools",
                    "title": "dCache pools",
                    "category": "storage",
                    "collector": "dcache_pools",
                    "params": {"url": srv.url(""), "retries": 0},
                }
            ],
        }
    )
    now = pd.Timestamp("2026-03-10 08:50")
    with StoreWriter(tmp_path) as writer:
        Runner(config).run_once(writer, now=now, force=True)
    with Store(tmp_path) as store:
        row = store.status_at(now).set_index("module").loc["dcache_pools"]
        pools = store.detail("dcache_pools", "pools")
    assert row["level"] == "critical"
    assert row["message"] == (
        f"worst: {LISTING[1]['name']} health=0.0 (2 of 4 rows not fine); 1 of 4 pools disabled, 1 full"
    )
    assert list(pools["pool"]) == [pool["name"] for pool in LISTING]
    assert pools["total_bytes"].tolist() == [space(doc)["total"] for doc in USAGE.values()]


# -- a pool that does not answer is that pool missing, not the module blank -------------------------
def _runner_config(tmp_path, url: str, **module) -> object:
    return parse_config(
        {
            "site": "T2_XX_Test",
            "store": str(tmp_path),
            "categories": [{"name": "storage"}],
            "modules": [
                {
                    "name": "dcache_pools",
                    "category": "storage",
                    "collector": "dcache_pools",
                    "params": {"url": url, "retries": 0},
                    **module,
                }
            ],
        }
    )


def test_one_failing_pool_is_named_and_the_rest_rated(srv, tmp_path, capsys):
    from hfpanel.cli import main
    from hfpanel.components.problems import ProblemList
    from hfpanel.components.why import WhyThisColour

    fine = {name: ENABLED for name in USAGE}  # every pool fine but one, which answers HTTP 500
    for name, doc in fine.items():
        srv.route(f"/api/v1/pools/{name}/usage", json.dumps(doc), content_type="application/json")
    broken = LISTING[2]["name"]
    srv.route(f"/api/v1/pools/{broken}/usage", "boom", status=500, content_type="text/plain")
    config = _runner_config(tmp_path, srv.url(""))
    now = pd.Timestamp("2026-03-10 08:50")
    with StoreWriter(tmp_path) as writer:
        Runner(config).run_once(writer, now=now, force=True)
    with Store(tmp_path) as store:
        row = store.status_at(now).set_index("module").loc["dcache_pools"]
        pools = store.detail("dcache_pools", "pools")
    assert (row["level"], row["status"], row["error"]) == ("warning", 0.5, "")
    assert row["message"].startswith(
        f"1 of 4 pools missing: {broken} (HTTP 500 Internal Server Error), so at most warning; "
    )
    assert json.loads(row["missing"])["items"] == [
        {"what": "pool", "key": broken, "reason": "HTTP 500 Internal Server Error"}
    ]
    assert sorted(pools["pool"]) == sorted(n for n in USAGE if n != broken)  # the three that answered are kept

    why = WhyThisColour(store=tmp_path, module="dcache_pools")
    assert any(
        s.startswith(f"Partial answer: 1 of 4 pools missing: {broken} (HTTP 500 Internal Server Error). Policy: ")
        and s.endswith("the rule gave 1.0 on what arrived, the policy makes it 0.5 → WARNING.")
        for s in why.sentences
    ), why.sentences

    # the first screen says it too (viewed ten minutes after the run: older data is no information)
    problems = ProblemList(store=tmp_path, time=now + pd.Timedelta(minutes=10)).data.set_index("module")
    assert problems.loc["dcache_pools", "level"] == "warning"
    assert problems.loc["dcache_pools", "message"].startswith(f"1 of 4 pools missing: {broken} (HTTP 500")

    assert main(["status", "--store", str(tmp_path), "--at", "2026-03-10 09:00"]) == 1  # Nagios WARNING
    assert f"1 of 4 pools missing: {broken} (HTTP 500 Internal Server Error)" in capsys.readouterr().out


def test_most_pools_failing_is_no_information_and_all_failing_the_source_failing(srv, tmp_path):
    for name in [pool["name"] for pool in LISTING][1:]:
        srv.route(f"/api/v1/pools/{name}/usage", "", status=503, content_type="text/plain")
    collector = DCachePoolsCollector(url=srv.url(""), **FAST)
    result = collect(collector)
    rating = rate(collector.default_rating, result)
    assert rating.status == -1 and rating.message.startswith("no information: 3 of 4 pools missing: ")
    assert ", more than 50.0% missing, so no information; " in rating.message
    assert list(result.tables["pools"]["pool"]) == [LISTING[0]["name"]]
    srv.route(f"/api/v1/pools/{LISTING[0]['name']}/usage", "", status=503, content_type="text/plain")
    assert reason(collector.parse, collector.fetch()).startswith(
        "HTTP 503 Service Unavailable (and 3 more pools failed)"
    )


def test_the_partial_policy_is_the_modules_to_choose(srv, tmp_path):
    srv.route(f"/api/v1/pools/{LISTING[0]['name']}/usage", "", status=500, content_type="text/plain")
    srv.route(f"/api/v1/pools/{LISTING[1]['name']}/usage", json.dumps(ENABLED), content_type="application/json")
    srv.route(f"/api/v1/pools/{LISTING[2]['name']}/usage", json.dumps(ENABLED), content_type="application/json")
    statuses = {}
    for policy in ("ok", "warning", "critical", "noinfo", {"level": "ok", "noinfo_above": 0.2}):
        config = _runner_config(tmp_path / str(len(statuses)), srv.url(""), partial=policy)
        with StoreWriter(tmp_path / str(len(statuses))) as writer:
            summary = Runner(config).run_once(writer, now=pd.Timestamp("2026-03-10 08:50"), force=True)
        statuses[str(policy)] = summary.statuses["level"].iloc[0]
    assert list(statuses.values()) == ["ok", "warning", "critical", "noinfo", "noinfo"]


# -- numbers a shifter acts on ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"total": None}, "space unknown"),
        ({"free": None}, "space unknown"),
        ({"total": 0, "free": 0, "removable": 0}, "space unknown"),
        ({"free": 0, "removable": 0}, "full (100% used)"),
    ],
)
def test_a_pool_with_no_or_unknown_free_space_is_not_healthy(change, problem):
    doc = copy.deepcopy(ENABLED)
    space(doc).update(change)
    pools = DCachePoolsCollector(url="x").parse(_payload(doc)).tables["pools"]
    assert pools.loc[0, "health"] == 0.5 and pools.loc[0, "problem"].startswith(problem)


def test_saturated_movers_reach_the_rating():
    doc = copy.deepcopy(ENABLED)
    doc["poolData"]["detailsData"]["costData"]["mover"].update(active=100, maxActive=100, queued=42)
    collector = DCachePoolsCollector(url="x")
    result = collector.parse(_payload(doc))
    assert result.metrics["saturated"] == 1
    assert result.tables["pools"].loc[0, "problem"] == "movers saturated (100/100 active, 42 queued)"
    assert rate(collector.default_rating, result).status == 0.5
    assert "1 with saturated movers" in result.message
    patient = DCachePoolsCollector(url="x", saturated_queue=50)  # a queue the site accepts
    assert rate(patient.default_rating, patient.parse(_payload(doc))).status == 1.0


def test_a_what_if_rerates_a_partial_run_as_partial(srv, tmp_path):
    """Re-rating stored runs under another rule keeps what was missing: the pool that did not answer
    still caps the run at warning (a what-if used to re-rate it as if every pool had answered)."""
    from hfpanel.reports.whatif import what_if

    for name in USAGE:
        srv.route(f"/api/v1/pools/{name}/usage", json.dumps(ENABLED), content_type="application/json")
    srv.route(f"/api/v1/pools/{LISTING[3]['name']}/usage", "", status=500, content_type="text/plain")
    now = pd.Timestamp("2026-03-10 08:50")
    with StoreWriter(tmp_path) as writer:
        Runner(_runner_config(tmp_path, srv.url(""))).run_once(writer, now=now, force=True)
    threshold = {"type": "threshold", "metric": "disabled", "warning": 1, "critical": 2}
    for rule in (threshold, {"type": "weakest_link", "table": "pools", "column": "health", "label": "pool"}):
        with Store(tmp_path) as store:
            result = what_if(store, now - pd.Timedelta(hours=1), now, ratings={"dcache_pools": rule})
        row = result.modules.set_index("module").loc["dcache_pools"]
        assert (row["whatif_status"], row["whatif_level"]) == (0.5, "warning"), rule
