"""Announced downtimes: trouble on hosts in a GOCDB outage shows as "downtime", not critical."""

import pandas as pd

from hfpanel.downtime import downtime_reason, ongoing_outages
from hfpanel.rating import is_downtime_rollup, rollup

NOW = pd.Timestamp("2026-11-20 12:00")
DOWNTIMES = pd.DataFrame(
    [
        {
            "id": "38201",
            "hostname": "se01.example.org",
            "severity": "OUTAGE",
            "classification": "SCHEDULED",
            "start": NOW - pd.Timedelta(hours=1),
            "end": NOW + pd.Timedelta(hours=4),
            "description": "dCache upgrade",
        },
        {
            "id": "38202",
            "hostname": "ce01.example.org",
            "severity": "WARNING",
            "classification": "SCHEDULED",
            "start": NOW - pd.Timedelta(hours=1),
            "end": NOW + pd.Timedelta(hours=4),
            "description": "at risk",
        },
        {
            "id": "38203",
            "hostname": "ce02.example.org",
            "severity": "OUTAGE",
            "classification": "UNSCHEDULED",
            "start": NOW + pd.Timedelta(hours=2),
            "end": NOW + pd.Timedelta(hours=4),
            "description": "later",
        },
    ]
)


def test_only_ongoing_outages_count():
    outages = ongoing_outages(DOWNTIMES, NOW)
    assert list(outages) == ["se01.example.org"]
    assert "scheduled GOCDB downtime 38201 until 2026-11-20 16:00 UTC" == outages["se01.example.org"]
    assert ongoing_outages(DOWNTIMES, NOW + pd.Timedelta(hours=5)) == {}


def test_a_module_is_in_downtime_by_its_hosts_or_by_all_its_failing_rows():
    outages = ongoing_outages(DOWNTIMES, NOW)
    assert downtime_reason(["se01.example.org"], None, outages).startswith("se01.example.org: scheduled")
    assert downtime_reason(["ce01.example.org"], None, outages) is None  # a WARNING is not an outage
    assert downtime_reason([], ["se01.example.org"], outages)
    assert downtime_reason([], ["se01.example.org", "se02.example.org"], outages) is None  # se02 fails for real
    assert downtime_reason([], [], outages) is None


def test_rollup_leaves_downtime_out_and_says_so():
    rating = rollup({"type": "worst"}, [1.0, 0.0], downtime=[False, True])
    assert rating.status == 1.0 and "1 in downtime" in rating.message
    only = rollup({"type": "worst"}, [0.0, -1.0], downtime=[True, True])
    assert is_downtime_rollup(only)
    assert not is_downtime_rollup(rollup({"type": "worst"}, [-1.0]))


def test_hosts_are_attached_to_sites_from_the_cric_topology(tmp_path):
    """With a CRIC topology known, detail tables that name hosts gain the site of each host."""
    import json

    from hfpanel.config import parse_config
    from hfpanel.runner import Runner
    from hfpanel.store import Store, StoreWriter

    rows = tmp_path / "hosts.json"
    rows.write_text(
        json.dumps(
            {
                "rows": [
                    {"host": "ce01.demo.example.org", "state": "ok"},
                    {"host": "wn.elsewhere.example.net", "state": "ok"},
                ]
            }
        )
    )
    config = parse_config(
        {
            "site": "T2_XX_Demo",
            "store": str(tmp_path / "store"),
            "categories": [{"name": "c"}],
            "modules": [
                {
                    "name": "nodes",
                    "category": "c",
                    "collector": "http_json",
                    "params": {"url": rows.as_uri(), "rows": "rows.*"},
                }
            ],
        }
    )
    runner = Runner(config)
    runner.set_reference_table(
        "cric_topology",
        "topology",
        pd.DataFrame(
            [{"site": "T2_XX_Demo", "type": "host", "name": "se.demo.example.org", "host": "se.demo.example.org"}]
        ),
    )
    with StoreWriter(tmp_path / "store") as writer:
        runner.run_once(writer, force=True)
    nodes = Store(tmp_path / "store").detail("nodes").set_index("host")
    assert nodes.loc["ce01.demo.example.org", "site"] == "T2_XX_Demo"  # same domain as the site's SE
    assert pd.isna(nodes.loc["wn.elsewhere.example.net", "site"])  # unknown stays unknown


def test_a_topology_without_hosts_attaches_nothing_and_breaks_nothing():
    from hfpanel.topology import attach_sites, site_of

    topology = pd.DataFrame({"site": ["T2_XX_Demo"], "type": ["cms"], "name": ["T2_XX_Demo"], "host": [float("nan")]})
    assert site_of("ce01.demo.example.org", topology) is None
    frame = pd.DataFrame({"host": ["ce01.demo.example.org"]})
    assert "site" not in attach_sites(frame, topology).columns
