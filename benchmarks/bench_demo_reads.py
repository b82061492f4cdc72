"""The feed's own modules in the demo backfill: how long ``ingest_health`` and
``transfer_efficiency`` take (their store reads) as the 3-day backfill goes on.

The backfill commits ~290 runs before it compacts; each run's two feed modules open the store and
read a day of ``ingest_rate`` / an hour of ``transfer_stats_10m``. Their time is what the runner
stores as ``duration_s``. Runs ``hfpanel demo --no-serve --days D`` in a fresh process with whatever
``hfpanel`` is importable (PYTHONPATH=<checkout> measures an older one), then reads the durations
with this checkout's Store (it reads both store formats).
Usage: python benchmarks/bench_demo_reads.py [--days 3] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", default="3")
    parser.add_argument("--store", help="backfill here (default: a temporary folder)")
    parser.add_argument("--python-path", default=os.environ.get("PYTHONPATH", ""), help="the hfpanel to backfill with")
    args = parser.parse_args(argv)
    store = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-demo-")) / "store"
    env = {**os.environ, "PYTHONPATH": args.python_path}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hfpanel.cli",
            "demo",
            "--no-serve",
            "--quiet",
            "--days",
            args.days,
            "--store",
            str(store),
        ],
        check=True,
        env=env,
    )
    wall = time.perf_counter() - started
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from hfpanel.store import Store

    frame = Store(store).sql(
        "SELECT module, time, duration_s FROM module_status "
        "WHERE module IN ('ingest_health', 'transfer_efficiency') ORDER BY time"
    )
    runs = frame["time"].nunique()
    print(f"backfill of {args.days} days: {runs} runs of the feed modules in {wall / 60:.1f} min")
    print(f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores")
    print(f"{'module':<22} {'first 10% median s':>19} {'last 10% median s':>18} {'last 10% max s':>15}")
    for module, rows in frame.groupby("module"):
        rows = rows.sort_values("time")["duration_s"]
        tenth = max(1, len(rows) // 10)
        print(
            f"{module:<22} {rows.iloc[:tenth].median():>19.2f} {rows.iloc[-tenth:].median():>18.2f} "
            f"{rows.iloc[-tenth:].max():>15.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
