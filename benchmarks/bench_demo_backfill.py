"""The first start of ``make demo``: how long the 3-day backfill takes (the number the README quotes).

Runs ``hfpanel demo --no-serve --quiet --days D`` into a fresh temporary store ``--repeat`` times, one
after another, each in a fresh process (as ``make demo`` does), and reports the median wall time, the
CPU time the backfill used (user + system of the child) and the load average around each run: on a
shared machine the wall time follows the load, the CPU time does not.
Usage: python benchmarks/bench_demo_backfill.py [--days 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_backfill(days: str) -> tuple[float, float, float, float]:
    """(wall s, CPU s, load before, load after) of one backfill into a temporary store."""
    folder = Path(tempfile.mkdtemp(prefix="hfpanel-bench-backfill-"))
    try:
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
                days,
                "--store",
                str(folder / "store"),
            ],
            check=True,
        )
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        return wall, cpu, load_before, os.getloadavg()[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", default="3")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs = []
    for i in range(args.repeat):
        wall, cpu, before, after = one_backfill(args.days)
        runs.append((wall, cpu, before, after))
        print(
            f"run {i + 1}: {wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU, load {before:.1f} → {after:.1f}",
            flush=True,
        )
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    loads = [r[2] for r in runs] + [r[3] for r in runs]
    print(
        f"{args.days}-day demo backfill, median of {len(runs)}: {statistics.median(walls) / 60:.1f} min wall "
        f"(range {min(walls) / 60:.1f}–{max(walls) / 60:.1f}), {statistics.median(cpus) / 60:.1f} min CPU; "
        f"load average {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
