"""The command line as a site admin runs it: a collector that keeps running under systemd, and
`hfpanel demo` (what `make demo` calls) serving the app while it keeps collecting."""

import json
import signal
import subprocess
import sys
import time
import urllib.request

import yaml
from browser_support import free_port, wait_until_up
from fault_server import FaultServer

from hfpanel.store import Store


def test_collect_every_keeps_running_and_stops_cleanly_on_sigterm(tmp_path):
    with FaultServer() as server:
        server.route("/doc", json.dumps({"value": 3}), content_type="application/json")
        config = {
            "site": "T2_XX_Loop",
            "store": str(tmp_path / "store"),
            "categories": [{"name": "c"}],
            "modules": [
                {
                    "name": "value",
                    "category": "c",
                    "collector": "http_json",
                    "interval": "1s",
                    "params": {"url": server.url("/doc"), "metrics": {"value": "value"}},
                    "rating": {"type": "threshold", "metric": "value", "warning": 5, "critical": 10},
                }
            ],
        }
        (tmp_path / "site.yaml").write_text(yaml.safe_dump(config))
        process = subprocess.Popen(
            [sys.executable, "-m", "hfpanel.cli", "collect", "--config", str(tmp_path / "site.yaml"), "--every", "2s"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "store" / "_manifest.json").exists() and len(Store(tmp_path / "store").runs()) >= 2:
                break
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    runs = Store(tmp_path / "store").runs()
    assert len(runs) >= 2 and out.count("run ") == len(runs)
    assert (Store(tmp_path / "store").module_history("value")["level"] == "ok").all()


def test_demo_serves_the_app_and_keeps_the_store(tmp_path):
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hfpanel.cli",
                "demo",
                "--days",
                "0.1",
                "--store",
                str(tmp_path / "demo-store"),
                "--port",
                str(port),
                "--quiet",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log, timeout=300)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"hfpanel" in response.read()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    store = Store(tmp_path / "demo-store")
    assert len(store.runs()) >= 9 and len(store.status_at()) >= 20


def _config(tmp_path, server, interval="15m"):
    config = {
        "site": "T2_XX_Cron",
        "store": str(tmp_path / "store"),
        "categories": [{"name": "c"}],
        "modules": [
            {
                "name": "value",
                "category": "c",
                "collector": "http_json",
                "interval": interval,
                "params": {"url": server.url("/doc"), "metrics": {"value": "value"}},
                "rating": {"type": "threshold", "metric": "value", "warning": 5, "critical": 10},
            }
        ],
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(config))
    return str(tmp_path / "site.yaml")


def hfpanel(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hfpanel.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_cron_collect_once_twice_in_a_row_runs_then_says_nothing_is_due(tmp_path):
    """cron every 5 minutes with 15-minute modules: the second run finds nothing due, commits
    nothing and exits 0 with one line saying when the next module is due."""
    with FaultServer() as server:
        server.route("/doc", json.dumps({"value": 3}), content_type="application/json")
        path = _config(tmp_path, server)
        first = hfpanel("collect", "--config", path, "--once")
        second = hfpanel("collect", "--config", path, "--once")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stderr == "" and second.stdout.startswith("no module due; nothing committed (next: value at ")
    assert len(Store(tmp_path / "store").runs()) == 1


def test_collect_every_shorter_than_the_intervals_keeps_running(tmp_path):
    with FaultServer() as server:
        server.route("/doc", json.dumps({"value": 3}), content_type="application/json")
        path = _config(tmp_path, server, interval="1h")
        process = subprocess.Popen(
            [sys.executable, "-m", "hfpanel.cli", "collect", "--config", path, "--every", "1s"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "store" / "_manifest.json").exists():
            time.sleep(0.3)
        time.sleep(4)  # several more loops, none of them due
        alive = process.poll() is None
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert alive, err
    assert process.returncode == 0, err
    assert out.count("no module due") >= 2 and len(Store(tmp_path / "store").runs()) == 1
