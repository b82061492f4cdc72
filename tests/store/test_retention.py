"""Retention: each family of tables kept for its own time, pruned whole days at a time in one
commit, by `hfpanel prune` and by the collector after a run, without pulling files from under a
reader."""

import json
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from hfpanel.config import ConfigError, parse_config
from hfpanel.store import Store, StoreWriter, manifest
from hfpanel.store.retention import Retention, days_kept, parse_retention, prune
from hfpanel.store.writer import RETIRE_GRACE

FIRST = pd.Timestamp("2026-01-01 12:00")
DAYS = 40
NOW = FIRST + pd.Timedelta(days=DAYS - 1)  # the last day's run


def day_run(day: int) -> dict[str, pd.DataFrame]:
    when = FIRST + pd.Timedelta(days=day)
    run_id = f"r{day:03d}"
    modules = ["ce", "se"]
    return {
        "runs": pd.DataFrame([{"run_id": run_id, "time": when}]),
        "module_status": pd.DataFrame({"run_id": run_id, "time": when, "module": modules, "status": 1.0}),
        "metrics": pd.DataFrame({"run_id": run_id, "time": when, "module": modules, "metric": "m", "value": 1.0}),
        "raw_payloads": pd.DataFrame({"run_id": run_id, "time": when, "module": modules, "payload": [b"{}", b"[]"]}),
        "detail__ce__rows": pd.DataFrame({"run_id": run_id, "time": when, "module": "ce", "host": ["a", "b"]}),
        "detail__se__pools": pd.DataFrame({"run_id": run_id, "time": when, "module": "se", "pool": ["p"]}),
        **({"configs": pd.DataFrame({"time": [when], "digest": ["abc"]})} if day == 0 else {}),
    }


@pytest.fixture
def store(tmp_path):
    with StoreWriter(tmp_path) as writer:
        for day in range(DAYS):
            writer.write(day_run(day))
    return tmp_path


def days_of(store, table: str) -> list[str]:
    return sorted(Store(store).sql(f"SELECT DISTINCT CAST(day AS VARCHAR) AS d FROM {table}")["d"])


def test_each_family_keeps_its_own_whole_days_in_one_commit(store):
    retention = Retention({"payloads": days_kept("30d"), "details": days_kept("1w"), "statuses": None, "metrics": 365})
    with StoreWriter(store) as writer:
        generation = writer.manifest.generation
        dropped = prune(writer, retention, now=NOW)
        assert writer.manifest.generation == generation + 1  # one commit: never half-pruned
    # 30 days before 2026-02-09 is 2026-01-10: every day before it has wholly expired
    assert dropped["payloads"] == [f"2026-01-{d:02d}" for d in range(1, 10)]
    assert days_of(store, "raw_payloads")[0] == "2026-01-10" and len(days_of(store, "raw_payloads")) == 31
    assert days_of(store, "detail__ce__rows")[0] == "2026-02-02"
    assert days_of(store, "detail__se__pools")[0] == "2026-02-02"
    assert len(days_of(store, "module_status")) == len(days_of(store, "metrics")) == DAYS  # kept
    assert days_of(store, "configs") == ["2026-01-01"]  # every kept status stays explainable
    assert "metrics" not in dropped and "statuses" not in dropped
    assert Store(store).detail("ce", at=FIRST + pd.Timedelta(days=3)).empty  # a pruned day's detail: none
    assert list(Store(store).detail("ce")["host"]) == ["a", "b"]


def test_a_table_whose_every_day_expired_leaves_the_catalog(store):
    with StoreWriter(store) as writer:
        prune(writer, Retention({"details": 1}), now=NOW + pd.Timedelta(days=10))
    tables = Store(store).tables()
    assert "detail__ce__rows" not in tables and "module_status" in tables


def test_the_collector_prunes_from_where_it_stopped(store, monkeypatch):
    """After each run only the days that expired since the last prune are read."""
    retention = Retention({"payloads": 30})
    with StoreWriter(store) as writer:
        prune(writer, retention, now=NOW)
    read = []
    original = manifest.Manifest.segment
    monkeypatch.setattr(manifest.Manifest, "segment", lambda self, name: read.append(name) or original(self, name))
    with StoreWriter(store) as writer:
        assert prune(writer, retention, now=NOW) == {}
        assert read == []  # nothing expired since: nothing read
        assert prune(writer, retention, now=NOW + pd.Timedelta(days=1)) == {"payloads": ["2026-01-10"]}
        assert {name.split("/")[1][:10] for name in read} == {"2026-01-10", "2026-01-11"}  # + the new first day


def test_a_query_begun_before_a_prune_finishes_on_its_files(store):
    reader = Store(store)
    begun = f"SELECT count(*) AS n FROM {reader.scan('raw_payloads')}"  # the files as the reader saw them
    with StoreWriter(store) as writer:
        prune(writer, Retention({"payloads": 30}), now=NOW)
        writer.collect_garbage()  # within the grace period: the retired files stay
    assert reader.sql(begun)["n"].iloc[0] == 2 * DAYS
    assert reader.sql("SELECT count(*) AS n FROM raw_payloads")["n"].iloc[0] == 2 * 31  # a new query: pruned
    with StoreWriter(store) as writer:
        assert writer.collect_garbage(now=time.time() + RETIRE_GRACE + 1) == 9  # then they go
    assert len(list((store / "raw_payloads").rglob("*.parquet"))) == 31


def test_retention_section_is_checked_with_precise_messages():
    base = {"site": "T2_XX", "store": "/tmp/s", "categories": [{"name": "c"}]}
    base["modules"] = [{"name": "m", "category": "c", "collector": "command", "params": {"argv": ["true"]}}]
    config = parse_config({**base, "retention": {"payloads": "90d", "details": "2y", "statuses": "forever"}})
    assert config.retention.keep == {"payloads": 90, "details": 730, "statuses": None, "metrics": None}
    assert parse_config(base).retention == Retention.default()
    with pytest.raises(ConfigError) as error:
        parse_config({**base, "retention": {"payloads": "3x", "raw": "1d", "details": "2h"}})
    assert error.value.problems == [
        "<config>: key 'retention.payloads': not a duration: '3x' (use e.g. 30s, 15m, 2h, 1d)",
        "<config>: key 'retention.raw': unknown table family (known: payloads, details, statuses, metrics)",
        "<config>: key 'retention.details': '2h' keeps less than a day; write e.g. 30d, 26w, 1y or forever",
    ]
    assert parse_retention([1])[1] == [
        ("key 'retention'", "must be a mapping of payloads, details, statuses, metrics to durations")
    ]


def hfpanel(*args):
    return subprocess.run([sys.executable, "-m", "hfpanel.cli", *args], capture_output=True, text=True, timeout=120)


def test_hfpanel_prune_says_what_it_dropped_and_fails_in_one_line(store, tmp_path_factory):
    config = tmp_path_factory.mktemp("cfg") / "site.yaml"
    config.write_text(yaml.safe_dump({"store": str(store), "retention": {"payloads": "30d"}}))
    # the store's days are months before today (the wall clock): every payload and detail day expired
    done = hfpanel("prune", "--config", str(config), "--details", "forever")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"payloads: {DAYS} day(s) dropped (2026-01-01 .. 2026-02-09)"]
    assert not Store(store).has_table("raw_payloads") and Store(store).has_table("detail__ce__rows")
    again = hfpanel("prune", "--store", str(store), "--details", "30d")
    assert (again.returncode, again.stdout.splitlines()[0]) == (
        0,
        f"details: {DAYS} day(s) dropped (2026-01-01 .. 2026-02-09)",
    )
    bad = hfpanel("prune", "--store", str(store), "--metrics", "3x")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "hfpanel prune: error: retention: not a duration: '3x' (use e.g. 30s, 15m, 2h, 1d)"
    ]
    missing = hfpanel("prune", "--store", str(store / "nope"))
    assert missing.returncode == 2 and missing.stderr.strip() == f"hfpanel prune: error: no store at {store / 'nope'}"
    with StoreWriter(store):
        busy = hfpanel("prune", "--store", str(store), "--wait", "0")
    assert busy.returncode == 3 and len(busy.stderr.strip().splitlines()) == 1
    assert "is being written by pid" in busy.stderr


def test_hfpanel_collect_applies_the_retention_after_its_run(tmp_path):
    """An old payload day goes when the collector commits its next run."""
    with StoreWriter(tmp_path / "store") as writer:
        writer.write({"raw_payloads": day_run(0)["raw_payloads"]})
    site = {
        "site": "T2_XX_Keep",
        "store": str(tmp_path / "store"),
        "categories": [{"name": "c"}],
        "modules": [{"name": "m", "category": "c", "collector": "command", "params": {"argv": ["true"]}}],
        "retention": {"payloads": "30d"},
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    done = hfpanel("collect", "--config", str(tmp_path / "site.yaml"), "--once", "--quiet")
    assert done.returncode == 0, done.stderr
    store = Store(tmp_path / "store")
    assert set(store.sql("SELECT module FROM raw_payloads")["module"]) == {"m"}  # 2026-01-01's are gone
    state = json.loads((tmp_path / "store" / manifest.MANIFEST).read_text())["state"]
    assert state["retention.payloads"] > "2026-01-01"
