"""ingest_health: the feed's own status from ingest_rate and the spool (backlog, silence, quarantine)."""

import json
import time

import pytest

from collectors.ingest_health import IngestHealthCollector
from hfpanel.collector import collector_class
from hfpanel.config import ConfigError, parse_config
from hfpanel.ingest.flush import Flusher
from hfpanel.ingest.spool import Spool
from hfpanel.rating import rate
from hfpanel.transfers import generate

COMPLETE = "/topic/transfer.fts_monitoring_complete"


@pytest.fixture
def fed(tmp_path):
    """A store fed 200 FTS messages and 20 XRootD records just now, 2 of them unparseable."""
    spool = Spool(tmp_path / "spool")
    now = time.time()
    for body in generate.fts_complete_bodies(200) + ["{x", "{y"]:
        spool.append(now, COMPLETE, {}, body.encode())
    for body in generate.xrootd_bodies(20):
        spool.append(now, "/queue/xrootd", {}, body.encode())
    spool.sync()
    Flusher(tmp_path / "store", spool, {COMPLETE: "fts_complete", "/queue/xrootd": "xrootd"}, 10**6, 86400).flush()
    spool.close()
    (tmp_path / "fed_at").write_text(repr(now))
    return tmp_path


def status(collector, payload=None):
    result = collector.parse(payload if payload is not None else collector.fetch())
    return result, rate(collector.default_rating, result)


def test_a_live_feed_is_fine_and_per_source(fed):
    collector = IngestHealthCollector(store=str(fed / "store"), spool=str(fed / "spool"))
    collector.run_time = float((fed / "fed_at").read_text()) + 0.4  # a run just after the feed (the one clock)
    result, rating = status(collector)
    assert rating.status == 1.0
    assert rating.message.startswith("backlog 0, 222 messages in the last hour, last 0s ago")
    sources = result.tables["sources"].set_index("source")
    assert sources.loc["fts", "messages_1h"] == 202 and sources.loc["fts", "quarantined_1h"] == 2
    assert sources.loc["xrootd", "messages_1h"] == 20


def test_silence_and_backlog_are_critical(fed):
    collector = IngestHealthCollector(store=str(fed / "store"), spool=str(fed / "spool"), silence_critical="30m")
    payload = json.loads(collector.fetch())
    payload["now"] += 2 * 3600
    result, rating = status(collector, json.dumps(payload).encode())
    assert rating.status == 0.0 and rating.message.startswith("no message received for 2h")
    spool = Spool(fed / "spool")
    for body in generate.fts_complete_bodies(5, seed=9):
        spool.append(time.time(), COMPLETE, {}, body.encode())
    spool.close()
    result, rating = status(
        IngestHealthCollector(store=str(fed / "store"), spool=str(fed / "spool"), backlog_critical=3)
    )
    assert rating.status == 0.0 and rating.message.startswith("backlog 5 above 3")


def test_a_named_source_without_messages_is_critical(fed):
    collector = IngestHealthCollector(store=str(fed / "store"), sources=["fts", "xrootd", "dcache"])
    assert status(collector)[1].message.startswith("no message received in the last day")


def test_quarantine_share_warns(fed):
    result, rating = status(IngestHealthCollector(store=str(fed / "store"), quarantine_warning=0.005))
    assert rating.status == 0.5 and rating.message.startswith("2 of 222 messages quarantined in the last hour")


def test_an_empty_store_is_critical(tmp_path):
    (tmp_path / "store").mkdir()
    result, rating = status(IngestHealthCollector(store=str(tmp_path / "store")))
    assert rating.status == 0.0 and "no message received in the last day" in rating.message


def test_registered_and_validated_in_site_config():
    assert collector_class("ingest_health") is IngestHealthCollector
    config = {
        "site": "T2_XX",
        "store": "s",
        "categories": [{"name": "feeds"}],
        "modules": [{"name": "transfer_feed", "category": "feeds", "collector": "ingest_health", "params": {}}],
    }
    with pytest.raises(ConfigError, match="parameter 'store' is required"):
        parse_config(config)
    config["modules"][0]["params"] = {"store": "s", "backlog_critical": 50000}
    assert parse_config(config).modules[0].make_collector().backlog_critical == 50000


def test_a_spool_that_cannot_be_read_is_missing_not_silently_the_stores_count(fed):
    at = float((fed / "fed_at").read_text())
    fine = IngestHealthCollector(store=str(fed / "store"), spool=str(fed / "spool"))
    fine.run_time = at
    assert fine.parse(fine.fetch()).missing == []
    gone = IngestHealthCollector(store=str(fed / "store"), spool=str(fed / "no-spool"))
    gone.run_time = at
    result, rating = status(gone)
    assert [(m.what, m.reason) for m in result.missing] == [
        ("spool", "no spool folder there: the backlog is the store's last count")
    ]
    assert rating.status == 0.5 and rating.message.startswith(f"1 spool missing: {fed / 'no-spool'} (no spool folder")
    (fed / "spool" / "checkpoint.json").write_text('{"segment": ')  # cut short
    result, _ = status(fine)
    assert result.missing[0].reason.startswith("spool unreadable: JSONDecodeError: ")
