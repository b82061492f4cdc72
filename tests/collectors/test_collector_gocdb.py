"""gocdb_downtimes: GOCDB's downtime XML (flat, nested, paged) into the table the runner reads."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.gocdb import COLUMNS, GocdbDowntimeCollector
from hfpanel.collector import SourceError, collector_class
from hfpanel.config import parse_config
from hfpanel.demo import payloads as p
from hfpanel.demo.simulator import Simulator
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "gocdb"
FLAT, NESTED = (FIXTURES / "gocdb_downtime.xml").read_bytes(), (FIXTURES / "gocdb_downtime_nested.xml").read_bytes()
FAST = {"timeout": 2, "retries": 0, "backoff": 0.01}
PI = "/gocdbpi/public/"


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def gocdb(**params) -> GocdbDowntimeCollector:
    return GocdbDowntimeCollector(**{"url": "https://goc.egi.eu/gocdbpi/public/", **params})


def test_entry_point():
    assert collector_class("gocdb_downtimes") is GocdbDowntimeCollector


def test_flat_fixture_one_row_per_downtime_and_service():
    elements = ET.fromstring(FLAT).findall("DOWNTIME")
    result = gocdb().parse(FLAT)
    table = result.tables["downtimes"]
    assert (
        list(table.columns)
        == COLUMNS
        == [
            "id",
            "hostname",
            "service_type",
            "endpoint",
            "site",
            "severity",
            "classification",
            "start",
            "end",
            "description",
            "url",
        ]
    )
    assert list(table["hostname"]) == [e.findtext("HOSTNAME") for e in elements]
    assert list(table["id"]) == [int(e.get("ID")) for e in elements]
    assert list(table["site"]) == [e.findtext("HOSTED_BY") for e in elements]
    assert list(table["start"]) == [pd.Timestamp(int(e.findtext("START_DATE")), unit="s") for e in elements]
    assert table["start"].dtype == table["end"].dtype == "datetime64[us]"
    first = table.iloc[0]
    assert first["url"] == "https://goc.egi.eu/portal/index.php?Page_Type=Downtime&id=38201"  # &amp; decoded
    assert f"{first['start']:%Y-%m-%d %H:%M}" == elements[0].findtext("FORMATED_START_DATE")  # UTC
    by_id = {e.get("ID"): e for e in elements}
    assert result.metrics == {
        "downtimes": len(by_id),
        "outages": sum(e.findtext("SEVERITY") == "OUTAGE" for e in by_id.values()),
        "unscheduled": sum(e.get("CLASSIFICATION") == "UNSCHEDULED" for e in by_id.values()),
    }
    assert result.message == f"{len(by_id)} downtimes (3 outages) on {len(elements)} hosts"
    assert gocdb().default_rating is None


def test_nested_form_gives_the_same_table():
    flat, nested = gocdb().parse(FLAT), gocdb(nested=True).parse(NESTED)
    pd.testing.assert_frame_equal(flat.tables["downtimes"], nested.tables["downtimes"])
    assert flat.metrics == nested.metrics


def test_query_url_and_what_gocdb_is_asked():
    with FaultServer() as srv:
        srv.route(PI, FLAT, content_type="text/xml")
        collector = GocdbDowntimeCollector(url=srv.url(PI), site="DESY-HH", window="3d", **FAST)
        collector.fetch()
        query = parse_qs(srv.requests(PI)[0].query)
        today = datetime.now(timezone.utc).date()
        assert query == {
            "method": ["get_downtime"],
            "topentity": ["DESY-HH"],
            "windowstart": [f"{today}"],
            "windowend": [f"{today + timedelta(days=3)}"],
        }
        assert srv.requests(PI)[0].headers["accept"] == "application/xml"
    now = datetime(2026, 3, 10, 23, 30)
    nested = gocdb(nested=True, site="INFN-T1").query_url(now)
    assert nested == (
        "https://goc.egi.eu/gocdbpi/public/?method=get_downtime_nested_services&topentity=INFN-T1"
        "&windowstart=2026-03-10&windowend=2026-03-17"
    )
    kept = gocdb(url="https://goc.egi.eu/gocdbpi/public/?method=get_downtime&ongoing_only=yes", site="X").query_url(now)
    assert kept == "https://goc.egi.eu/gocdbpi/public/?method=get_downtime&ongoing_only=yes&topentity=X"
    assert gocdb(site="X").source_url().startswith("https://goc.egi.eu/gocdbpi/public/?method=get_downtime&topentity=X")
    with pytest.raises(ValueError, match="window: not a duration"):
        gocdb(window="next week")


def _page(elements: list[bytes], next_href: str | None) -> bytes:
    link = f'<link rel="next" href="{next_href}"/>' if next_href else ""
    meta = (
        f'<meta><link rel="self" href="x"/>{link}<count>{len(elements)}</count><max_page_size>3</max_page_size></meta>'
    )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<results>' + meta.encode() + b"".join(elements) + b"</results>\n"


def test_paged_answers_are_followed_into_one_payload():
    elements = [ET.tostring(e) for e in ET.fromstring(FLAT).findall("DOWNTIME")]
    with FaultServer() as srv:
        second = srv.url("/page2") + "?method=get_downtime&amp;page=2"
        srv.route(PI, _page(elements[:3], second), content_type="text/xml")
        srv.route("/page2", _page(elements[3:], None), content_type="text/xml")
        collector = gocdb(url=srv.url(PI), site="ALL", **FAST)
        payload = collector.fetch()
        assert (srv.hits(PI), srv.hits("/page2")) == (1, 1)
        assert parse_qs(srv.requests("/page2")[0].query) == {"method": ["get_downtime"], "page": ["2"]}
    assert payload.startswith(b"<pages>") and payload.count(b"<results>") == 2
    pd.testing.assert_frame_equal(collector.parse(payload).tables["downtimes"], gocdb().parse(FLAT).tables["downtimes"])


def test_no_downtimes_is_an_answer_not_an_error():
    result = gocdb().parse(b'<?xml version="1.0" encoding="UTF-8"?>\n<results/>\n')
    assert result.tables["downtimes"].empty and list(result.tables["downtimes"].columns) == COLUMNS
    assert result.metrics == {"downtimes": 0, "outages": 0, "unscheduled": 0}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            b'<?xml version="1.0"?>\n<results><error>Unsupported method</error></results>',
            "GOCDB answered with an error: Unsupported method",
        ),
        (b"<error>Invalid parameter value: topentity</error>", "GOCDB answered with an error: Invalid parameter value"),
        (
            b"<!DOCTYPE html><html><head><title>EGI Check-in</title></head><body/></html>",
            "expected GOCDB XML, got an HTML page (<title>EGI Check-in</title>)",
        ),
        (b"", "empty document"),
        (FLAT[:700], "malformed XML: "),
        (b"<downtimes/>", "expected GOCDB <results>, got <downtimes>"),
    ],
)
def test_malformed_documents(payload, expected):
    assert reason(gocdb().parse, payload).startswith(expected)


@pytest.mark.parametrize(
    ("payload", "key", "why"),
    [
        (FLAT.replace(b' ID="38215"', b""), "#3", "a DOWNTIME element has no ID"),
        (FLAT.replace(b"<SEVERITY>WARNING</SEVERITY>", b""), "38190", "downtime 38190 has no SEVERITY"),
        (FLAT.replace(b"<END_DATE>1773417600</END_DATE>", b""), "38222", "downtime 38222 has no END_DATE"),
        (
            FLAT.replace(b"<START_DATE>1773127800", b"<START_DATE>2026-03-10 07:30"),
            "38215",
            "downtime 38215: START_DATE is '2026-03-10 07:30', expected a whole number",
        ),
        (FLAT.replace(b' CLASSIFICATION="SCHEDULED"', b"", 1), "38201", "downtime 38201 has no CLASSIFICATION"),
        (
            NESTED.replace(b"<HOSTNAME>ce01.pi.infn.it</HOSTNAME>", b""),
            "38222",
            "downtime 38222 names a service without HOSTNAME",
        ),
    ],
)
def test_one_malformed_downtime_is_that_downtime_missing(payload, key, why):
    """It used to blank the module, and with it every other downtime the runner reads outages from."""
    result = gocdb().parse(payload)
    assert {(m.what, m.key, m.reason) for m in result.missing} == {("downtime", key, why)}  # flat: once per service
    assert len(result.tables["downtimes"]) > 0  # the others are read
    assert rate(None, result).message.startswith(f"1 of {result.expected['downtime']} downtimes missing: {key} ({why})")


def test_credentials_rejected():
    with FaultServer() as srv:
        srv.route(PI, b"<html><head><title>401</title></head></html>", status=401, content_type="text/html")
        expired = gocdb(url=srv.url(PI), site="X", bearer_token="stale", **FAST)
        assert reason(expired.fetch).startswith(f"HTTP 401 Unauthorized from {srv.url(PI)}?method=get_downtime")
        assert reason(expired.fetch).endswith("(token expired or rejected?)")
        srv.route(PI, b"denied", status=403, content_type="text/plain")
        assert "(credentials not authorised for this resource?)" in reason(gocdb(url=srv.url(PI), **FAST).fetch)


def _probe_module(url: str) -> dict:
    return {
        "name": "se_probe",
        "title": "SE door probe",
        "category": "site",
        "collector": "http_json",
        "hosts": [p.SE_HOST],
        "params": {"url": url, "metrics": {"status": "status"}, "retries": 0},
        "rating": {"type": "map", "metric": "status", "map": {0: 1.0, 1: 0.5, 2: 0.0}},
    }


def test_demo_simulator_and_the_runner_apply_an_ongoing_outage(tmp_path):
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)  # fetch asks from today on: so is the demo
    with Simulator(start=now - timedelta(hours=45)) as sim, FaultServer() as srv:
        sim.clock = now  # the storage element's scheduled outage began an hour ago
        collector = gocdb(url=f"{sim.base_url}{PI}", site=p.GOCDB_SITE, **FAST)
        result = collector.parse(collector.fetch())
        expected = ET.fromstring(sim.respond("GET", f"{PI}?method=get_downtime&topentity={p.GOCDB_SITE}").body)
        table = result.tables["downtimes"]
        assert list(table["hostname"]) == [e.findtext("HOSTNAME") for e in expected.findall("DOWNTIME")]
        outage = table[table["hostname"] == p.SE_HOST].iloc[0]
        assert outage["severity"] == "OUTAGE" and outage["start"] <= now < outage["end"]
        config = parse_config(
            {
                "site": "T2_XX_Demo",
                "store": str(tmp_path),
                "categories": [{"name": "site"}],
                "modules": [
                    {
                        "name": "downtimes",
                        "title": "Downtimes",
                        "category": "site",
                        "collector": "gocdb_downtimes",
                        "params": {"url": f"{sim.base_url}{PI}", "site": p.GOCDB_SITE},
                    },
                    _probe_module(srv.route("/probe", json.dumps({"status": 2}))),
                ],
            }
        )
        with StoreWriter(tmp_path) as writer:
            Runner(config).run_once(writer, now=now, force=True)
    with Store(tmp_path) as store:
        status = store.status_at(now).set_index("module")
        stored = store.detail("downtimes", "downtimes")
    assert status.loc["downtimes", "level"] == "ok" and status.loc["downtimes", "message"] == result.message
    assert status.loc["se_probe", "level"] == "downtime"  # critical, but its host is in the outage
    assert f"scheduled GOCDB downtime {outage['id']}" in status.loc["se_probe", "message"]
    assert list(stored.columns) == ["run_id", "time", "module", *COLUMNS]
    assert list(stored["hostname"]) == list(table["hostname"])
