"""Runs against a misbehaving local HTTP server: every fault rates its module -1 with the reason
stored and shown, and every other module carries on."""

import json
import os
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import yaml
from fault_server import FaultServer, Reply, refused_url

from hfpanel.cli import main
from hfpanel.collector import Collector, ParseResult, register
from hfpanel.config import load_config, parse_config
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

GOOD_DOC = {"hits": [{"host": "ce01", "status": "OK"}, {"host": "ce02", "status": "CRITICAL"}], "efficiency": 0.93}
FAULTS = {  # module name -> (route reply, words the stored reason must contain)
    "slow": (Reply(200, json.dumps(GOOD_DOC), "application/json", delay=3.0), "timed out after"),
    "http500": (Reply(500, "boom", "text/plain"), "HTTP 500"),
    "http503": (Reply(503, "maintenance", "text/plain"), "HTTP 503"),
    "malformed": (Reply(200, '{"hits": [1, 2', "application/json"), "malformed JSON"),
    "truncated": (Reply(200, '{"hits": [{"host": "ce01"', "application/json", declared_length=4000), ""),
    "html": (Reply(200, "<!DOCTYPE html><html><head><title>Login</title></head></html>", "text/html"), "HTML"),
    "huge": (Reply(200, json.dumps({"hits": [{"host": "x" * 100}] * 5000}), "application/json"), "limit"),
    "schema": (Reply(200, json.dumps({"results": []}), "application/json"), "hits"),
    "empty": (Reply(200, "", "application/json"), "empty"),
}


def module(name, url, **extra):
    params = {
        "url": url,
        "rows": "hits.*",
        "metrics": {"efficiency": "efficiency"},
        "retries": 0,
        **extra.pop("params", {}),
    }
    return {
        "name": name,
        "title": f"Module {name}",
        "category": extra.pop("category", "faults"),
        "collector": "http_json",
        "params": params,
        "timeout": "1s",
        "max_age": "30m",
        "instruction": f"Check {name}",
        **extra,
    }


@pytest.fixture
def site(tmp_path):
    with FaultServer() as server:
        server.route("/good", json.dumps(GOOD_DOC), content_type="application/json")
        modules = [
            module(
                "good_table",
                server.url("/good"),
                category="healthy",
                rating={"type": "weakest_link", "column": "status", "map": {"OK": 1, "CRITICAL": 0}, "label": "host"},
            ),
            module(
                "good_metric",
                server.url("/good"),
                category="healthy",
                rating={"type": "threshold", "metric": "efficiency", "warning": 0.9, "critical": 0.5},
            ),
            module("refused", refused_url("/x")),
        ]
        for name, (reply, _) in FAULTS.items():
            server.sequence(f"/{name}", [reply])
            params = {"max_bytes": 50_000} if name == "huge" else {}
            modules.append(module(name, server.url(f"/{name}"), params=params))
        config = {
            "site": {"name": "T2_XX_Faults"},
            "store": str(tmp_path / "store"),
            "categories": [{"name": "healthy"}, {"name": "faults"}],
            "modules": modules,
        }
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(config))
        yield path, server


def test_every_fault_is_noinfo_with_its_reason_and_the_rest_carries_on(site, capsys):
    path, server = site
    started = time.monotonic()
    assert main(["collect", "--config", str(path), "--once"]) == 0
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    store = Store(load_config(path).store)
    status = store.status_at().set_index("module")
    assert status.loc["good_table", "level"] == "critical"  # ce02 is CRITICAL: the worst row decides
    assert "ce02" in status.loc["good_table", "message"]
    assert status.loc["good_metric", "level"] == "ok"
    for name, (_, words) in {**FAULTS, "refused": (None, "connection refused")}.items():
        row = status.loc[name]
        assert row["status"] == -1 and row["level"] == "noinfo", name
        assert row["error"] and words in row["error"], (name, row["error"])
        assert "\n" not in row["error"], "a reason is one line"
        assert row["error"] in out or row["error"][:40] in out  # the summary shows it
    assert elapsed < 30, "modules run concurrently, each with its own timeout"
    categories = store.category_status_at().set_index("category")
    assert categories.loc["faults", "level"] == "noinfo" and categories.loc["healthy", "level"] == "critical"
    run = store.runs().iloc[-1]
    assert (run["ok"], run["critical"], run["noinfo"]) == (1, 1, len(FAULTS) + 1)


def test_raw_payloads_are_archived_and_replayable(site, capsys):
    path, _ = site
    main(["collect", "--config", str(path), "--once", "--quiet"])
    store = Store(load_config(path).store)
    when, payload = store.raw_payload("good_table")
    assert json.loads(payload) == GOOD_DOC
    assert store.raw_payload("malformed")[1] == b'{"hits": [1, 2'  # kept for the expert, though it failed
    assert store.raw_payload("refused") is None
    assert main(["replay", "--config", str(path), "--module", "good_table"]) == 0
    assert "status 0.0" in capsys.readouterr().out
    detail = store.detail("good_table")
    assert list(detail["host"]) == ["ce01", "ce02"]
    assert store.metrics("good_metric")["efficiency"] == pytest.approx(0.93)


def test_due_modules_stale_data_and_source_coming_back(tmp_path):
    with FaultServer() as server:
        server.sequence(
            "/flaky",
            [
                Reply(200, json.dumps(GOOD_DOC), "application/json"),
                Reply(503, "down"),
                Reply(503, "down"),
                Reply(503, "down"),
                Reply(200, json.dumps(GOOD_DOC), "application/json"),
            ],
        )
        config = {
            "site": "T2_XX_Due",
            "store": str(tmp_path / "store"),
            "categories": [{"name": "faults"}],
            "modules": [
                module("flaky", server.url("/flaky"), max_age="40m", interval="15m"),
                module("hourly", server.route("/good", json.dumps(GOOD_DOC)), interval="1h"),
            ],
        }
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(config))
        runner = Runner(load_config(path))
        t0 = pd.Timestamp("2026-11-20 12:00")
        rows = []
        with StoreWriter(tmp_path / "store") as writer:
            for step in range(5):
                summary = runner.run_once(writer, now=t0 + pd.Timedelta(minutes=15 * step))
                rows.append(summary.statuses.set_index("module"))
    assert [sorted(r.index) for r in rows] == [
        ["flaky", "hourly"],
        ["flaky"],
        ["flaky"],
        ["flaky"],
        ["flaky", "hourly"],
    ]
    flaky = [r.loc["flaky"] for r in rows]
    assert [r["level"] for r in flaky] == ["ok", "noinfo", "noinfo", "noinfo", "ok"]
    assert [bool(r["stale"]) for r in flaky] == [False, False, False, True, False]  # last good 45m ago > 40m
    assert "last good data 45m ago" in flaky[3]["message"]
    store = Store(tmp_path / "store")
    past = store.status_at(t0 + pd.Timedelta(minutes=50)).set_index("module")
    assert past.loc["hourly", "time"] == t0  # not due since: its last row still stands
    assert store.detail("flaky", at=t0 + pd.Timedelta(minutes=50))["time"].iloc[0] == t0  # last good table


def test_second_collector_is_refused_clearly(site, tmp_path):
    path, _ = site
    store = load_config(path).store
    with StoreWriter(store):
        result = subprocess.run(
            [sys.executable, "-m", "hfpanel.cli", "collect", "--config", str(path), "--once"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 3
    assert f"store {store} is being written by pid {os.getpid()}" in result.stderr


RELEASE = threading.Event()


class HangingCollector(Collector):
    """A collector whose I/O ignores its own timeout: the runner's deadline must still hold."""

    def fetch(self) -> bytes:
        RELEASE.wait(30)  # released when the test ends, so no thread outlives the session
        return b"{}"

    def parse(self, payload):
        return ParseResult()


def test_runner_deadline_holds_when_a_collector_hangs(tmp_path):
    register("hanging", HangingCollector)
    config = parse_config(
        {
            "site": "T2_XX_Hang",
            "store": str(tmp_path),
            "categories": [{"name": "c"}],
            "modules": [
                {"name": "hangs", "category": "c", "collector": "hanging", "timeout": "1s"},
                {
                    "name": "fine",
                    "category": "c",
                    "collector": "command",
                    "params": {"argv": [sys.executable, "-c", "print('OK - fine')"], "output": "exit_code"},
                },
            ],
        }
    )
    started = time.monotonic()
    try:
        with StoreWriter(tmp_path) as writer:
            summary = Runner(config).run_once(writer)
    finally:
        RELEASE.set()
    assert time.monotonic() - started < 10
    rows = summary.statuses.set_index("module")
    assert rows.loc["hangs", "level"] == "noinfo" and "timed out after 2s" in rows.loc["hangs", "error"]
    assert rows.loc["fine", "level"] == "ok" and rows.loc["fine", "message"] == "OK - fine"
