"""A collection cycle with hung sources: 100 modules with ``timeout: 5s`` and the default retries,
3 of them hung (a server that accepts and never answers), against tests/fault_server.py on
127.0.0.1. Goal (issue 12): the whole run within 1.3 x one timeout. Peer: the 97 healthy modules
alone (what the run would cost without the hung ones).
Usage: python benchmarks/bench_budget.py [--runs 5] [--timeout 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from fault_server import FaultServer  # noqa: E402

from hfpanel.config import parse_config  # noqa: E402
from hfpanel.runner import Runner  # noqa: E402
from hfpanel.store import StoreWriter  # noqa: E402

DOC = json.dumps({"hits": [{"host": f"ce{n:02d}", "status": "OK"} for n in range(20)]})


def site(srv: FaultServer, store: Path, timeout: str, hung: int, total: int = 100):
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
    return parse_config({"site": "T2_XX_Bench", "store": str(store), "categories": [{"name": "c"}], "modules": modules})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hfpanel-bench-budget-"))
    with FaultServer() as srv:
        srv.route("/ok", DOC, content_type="application/json")
        for n in range(3):
            srv.route(f"/hung/{n}", DOC, delay=600)
        timings = {}
        for label, hung in (("100 modules, 3 hung", 3), ("97 healthy modules alone", 0)):
            config = site(srv, root / label.replace(" ", "_"), f"{args.timeout:g}s", hung)
            runner, times = Runner(config), []
            with StoreWriter(config.store) as writer:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    summary = runner.run_once(writer, force=True)
                    times.append(time.perf_counter() - started)
            timings[label] = times
            if hung:
                errors = set(summary.statuses.loc[summary.statuses["level"] == "noinfo", "error"])
    ours, peer = (
        statistics.median(timings["100 modules, 3 hung"]),
        statistics.median(timings["97 healthy modules alone"]),
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.runs} runs each, median")
    print(f"{'run':<34} {'s':>6} {'x timeout':>10}")
    print(f"{'100 modules, 3 hung':<34} {ours:>6.2f} {ours / args.timeout:>10.2f}")
    print(f"{'97 healthy modules alone (peer)':<34} {peer:>6.2f} {peer / args.timeout:>10.2f}")
    print(f"goal <= 1.3 x timeout = {1.3 * args.timeout:.1f} s: {'met' if ours <= 1.3 * args.timeout else 'MISSED'}")
    print(f"the hung modules' reason: {sorted(errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
