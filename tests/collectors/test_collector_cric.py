"""cric_topology: site names, aliases and RSEs from CRIC, and site_of() to put hosts on sites."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.cric import COLUMNS, CricTopologyCollector, site_of
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import parse_config
from hfpanel.demo import payloads as p
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cric"
SITES, NAMES = FIXTURES / "cric_sites.json", FIXTURES / "cric_site_names.json"
PROCESSING, RSES = FIXTURES / "cric_data_processing.json", FIXTURES / "atlas_cric_ddmendpoints.json"
FAST = {"timeout": 2, "retries": 0, "backoff": 0.01}
LOGIN = b"""<!DOCTYPE html><html><head><title>CERN Single Sign-On</title></head><body>Log in</body></html>"""


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def parse(path: Path, kind: str = "cms_sites"):
    return CricTopologyCollector(kind=kind).parse(path.read_bytes())


def test_entry_point():
    assert collector_class("cric_topology") is CricTopologyCollector


def test_cms_sites_keyed_by_name():
    doc = json.loads(SITES.read_text())
    result = parse(SITES)
    table = result.tables["topology"]
    assert list(table.columns) == COLUMNS
    cms = table[table["type"] == "cms"].set_index("name")
    assert list(cms.index) == list(doc)
    assert dict(cms["state"]) == {name: site["state"] for name, site in doc.items()}
    assert dict(cms["status"]) == {name: site["status"] for name, site in doc.items()}
    assert dict(cms["tier"]) == {name: site["tier_level"] for name, site in doc.items()}
    facilities = table[table["type"] == "facility"]
    assert dict(zip(facilities["name"], facilities["site"])) == {site["facility"]: name for name, site in doc.items()}
    assert result.metrics == {"sites": len(doc), "rows": 2 * len(doc)}


def test_site_names_table_and_data_processing_preset():
    doc = json.loads(NAMES.read_text())
    table = parse(NAMES, "site_names").tables["topology"]
    assert sorted(zip(table["site"], table["type"], table["name"])) == sorted(map(tuple, doc["result"]))
    assert set(table["type"]) == {"cms", "psn", "phedex"}
    assert table.loc[table["site"] == "T1_US_FNAL", "tier"].unique().tolist() == [1]  # from the name
    processing = json.loads(PROCESSING.read_text())
    pairs = parse(PROCESSING, "site_names").tables["topology"]
    phedex = pairs[pairs["type"] == "phedex"]
    assert sorted(zip(phedex["name"], phedex["site"])) == sorted(map(tuple, processing["result"]))
    assert set(pairs.loc[pairs["type"] == "psn", "name"]) == {psn for _, psn in processing["result"]}


def test_atlas_ddm_endpoints():
    doc = json.loads(RSES.read_text())
    result = parse(RSES, "atlas_ddmendpoints")
    table = result.tables["topology"].set_index("name")
    assert list(table.index) == list(doc) and set(table["type"]) == {"rse"}
    assert dict(table["site"]) == {name: rse["rc_site"] for name, rse in doc.items()}
    assert dict(table["endpoint"]) == {name: rse["endpoint"] for name, rse in doc.items()}
    assert result.metrics["sites"] == len({rse["rc_site"] for rse in doc.values()})
    listed = (
        CricTopologyCollector(kind="atlas_ddmendpoints")
        .parse(
            json.dumps(
                [
                    {**rse, "se": "token:ATLASDATADISK:srm://dcache-se.desy.de:8443/srm/managerv2?SFN="}
                    for rse in doc.values()
                ]
            ).encode()
        )
        .tables["topology"]
    )  # query/list/ gives a list; a URL field gives the host
    assert set(listed["host"]) == {"dcache-se.desy.de"}


def test_site_of_matches_names_hosts_and_domains():
    topology = pd.concat(
        [
            parse(SITES).tables["topology"],
            parse(RSES, "atlas_ddmendpoints").tables["topology"],
            pd.DataFrame(
                [
                    {"site": "T2_DE_DESY", "type": "host", "name": "dcache-se.desy.de", "host": "dcache-se.desy.de"},
                    {
                        "site": "T2_UK_London_IC",
                        "type": "host",
                        "name": "ce.grid.hep.ph.ic.ac.uk",
                        "host": "ce.grid.hep.ph.ic.ac.uk",
                    },
                ]
            ),
        ],
        ignore_index=True,
    )
    assert site_of("T2_DE_DESY", topology) == "T2_DE_DESY"
    assert site_of("DE_DESY", topology) == "T2_DE_DESY"  # the facility
    assert site_of("desy-hh_datadisk", topology) == "DESY-HH"  # an RSE, any case
    assert site_of("DCACHE-SE.desy.de", topology) == "T2_DE_DESY"  # exact host
    assert site_of("xrootd.desy.de", topology) == "T2_DE_DESY"  # same domain
    assert site_of("root://xrootd.desy.de:1094//store/x", topology) == "T2_DE_DESY"  # a URL
    assert site_of("cream.hep.ph.ic.ac.uk", topology) == "T2_UK_London_IC"
    assert site_of("www.ox.ac.uk", topology) is None  # ac.uk is shared by many sites
    assert site_of("unknown.example.org", topology) is None and site_of("", topology) is None
    assert site_of("x.desy.de", pd.DataFrame()) is None


def test_demo_simulator():
    with Simulator(start=pd.Timestamp("2026-11-17").to_pydatetime()) as sim:
        collector = CricTopologyCollector(url=f"{sim.base_url}/cric/sites.json", **FAST)
        table = collector.parse(collector.fetch()).tables["topology"]
        expected = json.loads(sim.respond("GET", "/cric/sites.json").body)
    assert set(table.loc[table["type"] == "cms", "name"]) == set(expected) and p.SITE in set(table["site"])
    assert site_of("XX_Demo", table) == p.SITE


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("cms_sites", LOGIN, "expected JSON, got an HTML page (<title>CERN Single Sign-On</title>)"),
        ("cms_sites", b"{}", "CRIC returned no CMS sites (query too narrow, or access refused?)"),
        (
            "cms_sites",
            b'{"detail": "Authentication credentials were not provided."}',
            "CRIC answered with an error: Authentication credentials were not provided.",
        ),
        (
            "cms_sites",
            NAMES.read_bytes(),
            "expected CMS sites keyed by name, got a desc/result table (use kind: site_names)",
        ),
        ("cms_sites", b'{"T2_XX": {"facility": "XX"}}', "expected CMS sites with a 'name', found an object"),
        ("cms_sites", b'{"T2_XX": {"name": 2}}', "expected CMS sites with a 'name', found an object"),
        ("cms_sites", b'"T2_XX"', "expected CMS sites, got the text 'T2_XX'"),
        ("site_names", SITES.read_bytes(), "expected a CRIC desc/result table, got an object"),
        (
            "site_names",
            b'{"desc": {"columns": ["site_name", "type", "alias"]}, "result": [["T2_XX", "cms"]]}',
            "every result row must be a list of 3 values (site_name, type, alias)",
        ),
        (
            "site_names",
            b'{"desc": {"columns": ["a", "b"]}, "result": [["x", "y"]]}',
            "unknown CRIC table columns ['a', 'b']",
        ),
        (
            "site_names",
            b'{"desc": {"columns": ["site_name", "type", "alias"]}, "result": []}',
            "CRIC returned an empty table",
        ),
        (
            "site_names",
            b'{"desc": {"columns": ["site_name", "type", "alias"]}, "result": [["T2_XX", "cms", null]]}',
            "CRIC table values must be names, found null",
        ),
        ("atlas_ddmendpoints", b"[]", "CRIC returned no ATLAS DDM endpoints"),
        ("atlas_ddmendpoints", b"", "empty document"),
    ],
)
def test_malformed_answers(kind, payload, expected):
    assert reason(CricTopologyCollector(kind=kind).parse, payload).startswith(expected)


def test_credentials_rejected():
    with FaultServer() as srv:
        srv.route("/api/cms/site/query/", b"expired", status=401, content_type="text/plain")
        expired = CricTopologyCollector(url=srv.url("/api/cms/site/query/?json"), bearer_token="old", **FAST)
        assert reason(expired.fetch) == (
            f"HTTP 401 Unauthorized from {srv.url('/api/cms/site/query/?json')} (token expired or rejected?)"
        )
        srv.route("/api/cms/site/query/", b"no", status=403, content_type="text/plain")
        forbidden = CricTopologyCollector(url=srv.url("/api/cms/site/query/?json"), **FAST)
        assert reason(forbidden.fetch).endswith("(credentials not authorised for this resource?)")


def test_through_the_runner(tmp_path):
    config = parse_config(
        {
            "site": "T2_XX_Test",
            "store": str(tmp_path),
            "categories": [{"name": "site"}],
            "modules": [
                {
                    "name": "cric",
                    "title": "CRIC site names",
                    "category": "site",
                    "collector": "cric_topology",
                    "params": {"url": NAMES.as_uri(), "kind": "site_names"},
                }
            ],
        }
    )
    now = pd.Timestamp("2026-03-10 08:50")
    with StoreWriter(tmp_path) as writer:
        Runner(config).run_once(writer, now=now, force=True)
    with Store(tmp_path) as store:
        row = store.status_at(now).set_index("module").loc["cric"]
        stored = store.detail("cric", "topology")
    doc = json.loads(NAMES.read_text())
    sites = len({site for site, _, _ in doc["result"]})
    assert (row["level"], row["message"]) == ("ok", f"{sites} sites, {len(doc['result'])} names")
    assert len(stored) == len(doc["result"]) and site_of("T1_US_FNAL_Disk", stored) == "T1_US_FNAL"


# -- one malformed record costs that record, not the topology ---------------------------------------
def test_one_malformed_record_is_that_record_missing():
    doc = json.loads(SITES.read_text())
    first = next(iter(doc))
    doc["T2_XX_Broken"] = {"facility": "XX"}  # no name
    collector = CricTopologyCollector(kind="cms_sites")
    result = collector.parse(json.dumps(doc).encode())
    assert [(m.what, m.key, m.reason) for m in result.missing] == [("site", "T2_XX_Broken", "no 'name'")]
    assert result.expected == {"site": len(doc)} and first in set(result.tables["topology"]["site"])
    rating = rate(None, result)
    assert (rating.status, rating.message) == (
        0.5,
        f"1 of {len(doc)} sites missing: T2_XX_Broken (no 'name'), so at most warning; {result.message}",
    )


def test_one_malformed_table_row_is_that_row_missing():
    doc = json.loads(NAMES.read_text())
    doc["result"].insert(1, ["T2_XX_Short", "cms"])
    doc["result"].append(["T2_XX_Null", "psn", None])
    result = CricTopologyCollector(kind="site_names").parse(json.dumps(doc).encode())
    assert [(m.key, m.reason) for m in result.missing] == [
        ("result.1", "every result row must be a list of 3 values (site_name, type, alias)"),
        (f"result.{len(doc['result']) - 1}", "CRIC table values must be names, found null"),
    ]
    assert len(result.tables["topology"]) == len(doc["result"]) - 2
