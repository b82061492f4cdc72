"""Committing a big site's run: 1,000 modules with every real detail family (benchmarks/realistic.py).

For each history length (days of compacted history already in the store, each day one run of all
modules: as many files as a compacted day holds), times opening the writer, committing a run
(median of --commits) and compacting the new day; with the history's manifest size beside it.
Peer: the same tables written as plain Parquet files (one per table, no fsync, no manifest) — the
floor of any layout that keeps a file per table. Wall times with the CPU time of this process
beside them (the writer's threads included): on a shared machine the wall time says what the load
allowed, the CPU time what an idle machine would see. Runs against whatever ``hfpanel`` is importable, so
the same script measures an older checkout (PYTHONPATH=<checkout>).
Usage: python benchmarks/bench_commit.py [--modules 1000] [--commits 5] [--history 0,30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from realistic import START, demo_run, scaled_run  # noqa: E402

from hfpanel.store import StoreWriter  # noqa: E402
from hfpanel.store.frames import to_arrow  # noqa: E402


def build_history(root: Path, run: dict, modules: int, days: int) -> None:
    with StoreWriter(root) as writer:
        for day in range(days):
            writer.write(scaled_run(run, modules, START + pd.Timedelta(days=day, hours=12), day))


def manifest_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in [root / "_manifest.json", *root.glob("_days/*.json")] if p.exists())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=5)
    parser.add_argument("--history", default="0,30", help="days of history before the measured commits")
    parser.add_argument("--keep", action="store_true", help="leave the stores in the temporary folder")
    args = parser.parse_args(argv)
    run = demo_run()
    base = Path(tempfile.mkdtemp(prefix="hfpanel-bench-commit-"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at start")
    print(
        f"{'history':>8} {'manifest KB':>12} {'open ms':>8} {'commit ms (median)':>19} {'CPU ms':>7} {'runs':>5} "
        f"{'compact day ms':>15} {'CPU ms':>7} {'files/commit':>13} {'peer ms':>8} {'CPU ms':>7} {'load':>5}"
    )
    for days in [int(d) for d in args.history.split(",")]:
        root = base / f"history-{days}"
        build_history(root, run, args.modules, days)
        size = manifest_bytes(root)
        day = START + pd.Timedelta(days=days)
        runs = [
            scaled_run(run, args.modules, day + pd.Timedelta(minutes=15 * i), 10_000 + i) for i in range(args.commits)
        ]
        before = set(root.rglob("*.parquet"))
        started = time.perf_counter()
        with StoreWriter(root) as writer:
            opened = time.perf_counter() - started
            commits, commits_cpu = [], []
            for tables in runs:
                started, cpu = time.perf_counter(), time.process_time()
                writer.write(tables)
                commits.append(time.perf_counter() - started)
                commits_cpu.append(time.process_time() - cpu)
            files = (len(set(root.rglob("*.parquet")) - before)) / len(runs)
            started, cpu = time.perf_counter(), time.process_time()
            writer.compact(keep_today=False)
            compacted, compacted_cpu = time.perf_counter() - started, time.process_time() - cpu
        peer, peer_cpu = [], []
        folder = base / "peer"
        for tables in runs:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            started, cpu = time.perf_counter(), time.process_time()
            for name, frame in tables.items():
                pq.write_table(to_arrow(frame), folder / f"{name}.parquet", compression="zstd")
            peer.append(time.perf_counter() - started)
            peer_cpu.append(time.process_time() - cpu)
        print(
            f"{days:>8} {size / 1024:>12.0f} {opened * 1000:>8.0f} {statistics.median(commits) * 1000:>19.0f} "
            f"{statistics.median(commits_cpu) * 1000:>7.0f} {len(commits):>5} {compacted * 1000:>15.0f} "
            f"{compacted_cpu * 1000:>7.0f} {files:>13.0f} {statistics.median(peer) * 1000:>8.0f} "
            f"{statistics.median(peer_cpu) * 1000:>7.0f} {os.getloadavg()[0]:>5.1f}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} at end; {args.modules} modules per run")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
