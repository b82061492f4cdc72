"""A collection cycle with hung sources: 100 modules with ``timeout: 5s`` and the default retries,
3 of them hung (a server that accepts and never answers), against tests/support/fault_server.py on
127.0.0.1. Goal (issue 12): the whole run within 1.3 x one timeout.

Measured three ways, each the median of --runs: hfpanel's runner in this process (what
``collect --every`` does), a cold ``hfpanel collect --once --force`` as cron starts it (interpreter,
imports, config, store, run, commit), and the peers: the same 100 modules one after another (a
sequential run, as HappyFace did) and the 97 healthy modules alone (what the hung ones add).
Usage: python benchmarks/bench_budget.py [--runs 5] [--timeout 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "support"))
from fault_server import FaultServer  # noqa: E402

from hfpanel.config import parse_config  # noqa: E402
from hfpanel.runner import Runner, execute  # noqa: E402
from hfpanel.store import StoreWriter  # noqa: E402

DOC = json.dumps({"hits": [{"host": f"ce{n:02d}", "status": "OK"} for n in range(20)]})


def site(srv: FaultServer, store: Path, timeout: str, hung: int, total: int = 100) -> dict:
    modules = [
        {
            "name": f"m{n:03d}",
            "category": "c",
            "collector": "http_json",
            "timeout": timeout,
            "params": {"url": srv.url(f"/hung/{n}" if n < hung else "/ok"), "rows": "hits.*"},
        }
        for n in range(total if hung else total - 3)
    ]
    return {"site": "T2_XX_Bench", "store": str(store), "categories": [{"name": "c"}], "modules": modules}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hfpanel-bench-budget-"))
    timeout = f"{args.timeout:g}s"
    loads = [os.getloadavg()[0]]
    with FaultServer() as srv:
        srv.route("/ok", DOC, content_type="application/json")
        for n in range(3):
            srv.route(f"/hung/{n}", DOC, delay=600)
        timings = {}
        for label, hung in (("runner", 3), ("healthy", 0)):
            config = parse_config(site(srv, root / label, timeout, hung))
            runner, times = Runner(config), []
            with StoreWriter(config.store) as writer:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    summary = runner.run_once(writer, force=True)
                    times.append(time.perf_counter() - started)
            timings[label] = times
            if hung:
                errors = set(summary.statuses.loc[summary.statuses["level"] == "noinfo", "error"])
        loads.append(os.getloadavg()[0])
        path = root / "cron.yaml"
        path.write_text(yaml.safe_dump(site(srv, root / "cron", timeout, 3)))
        timings["cron"] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "hfpanel.cli", "collect", "--config", str(path), "--once", "--force", "--quiet"],
                capture_output=True,
                text=True,
            )
            timings["cron"].append(time.perf_counter() - started)
            if done.returncode:
                raise SystemExit(f"hfpanel collect failed: {done.stderr.strip()}")
        loads.append(os.getloadavg()[0])
        config = parse_config(site(srv, root / "sequential", timeout, 3))
        timings["sequential"] = []
        for _ in range(max(1, args.runs // 2)):
            started = time.perf_counter()
            for module in config.modules:
                execute(module, run_time=time.time())
            timings["sequential"].append(time.perf_counter() - started)
        loads.append(os.getloadavg()[0])
    median = {k: statistics.median(v) for k, v in timings.items()}
    print(f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores; medians of {args.runs} runs")
    print(f"{'run':<52} {'s':>6} {'x timeout':>10}")
    for key, label in (
        ("runner", "hfpanel runner, 100 modules, 3 hung (in process)"),
        ("cron", "hfpanel collect --once, cold process (cron)"),
        ("sequential", "peer: the same 100 modules one after another"),
        ("healthy", "peer: the 97 healthy modules alone (runner)"),
    ):
        print(f"{label:<52} {median[key]:>6.2f} {median[key] / args.timeout:>10.2f}")
    goal = 1.3 * args.timeout
    for key in ("runner", "cron"):
        print(f"goal <= 1.3 x timeout = {goal:.1f} s ({key}): {'met' if median[key] <= goal else 'MISSED'}")
    print(f"the hung modules' reason: {sorted(errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
