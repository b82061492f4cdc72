"""Store benchmark: commit a run, status at a time, one module's history — against plain pandas.

Builds a compacted store of N days of 15-minute runs of 100 modules in 10 categories (one file per
table and day, as compaction leaves it), then times hfpanel's Store against the obvious peer:
pandas reading the Parquet files and computing the same answer. One process, so ratios hold on a
noisy machine. Usage: python benchmarks/bench_store.py [--days 365]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hfpanel.store import Store, StoreWriter

MODULES = [f"module_{i:03d}" for i in range(100)]
CATEGORIES = [f"category_{i}" for i in range(10)]


def day_frames(day: pd.Timestamp, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    times = pd.date_range(day, periods=96, freq="15min")
    n = len(times) * len(MODULES)
    status = rng.choice([1.0, 1.0, 1.0, 0.5, 0.0, -1.0], size=n)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat([f"{t:%Y%m%dT%H%M%S}" for t in times], len(MODULES)),
            "time": np.repeat(times.values, len(MODULES)),
            "category": np.tile([CATEGORIES[i % 10] for i in range(len(MODULES))], len(times)),
            "module": np.tile(MODULES, len(times)),
            "status": status,
            "level": pd.cut(
                status, [-2, -0.5, 0.33, 0.66, 2], labels=["noinfo", "critical", "warning", "ok"], right=False
            ).astype(str),
            "message": "synthetic",
            "error": "",
            "stale": False,
        }
    )
    metrics = frame[["run_id", "time", "module"]].assign(metric="value", value=rng.normal(100, 10, n))
    runs = pd.DataFrame({"run_id": [f"{t:%Y%m%dT%H%M%S}" for t in times], "time": times, "start": times})
    return {"module_status": frame, "metrics": metrics, "runs": runs}


def timed(func, repeat=5):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--store", help="reuse or build the store here (default: a temporary folder)")
    args = parser.parse_args(argv)
    root = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-"))
    rng = np.random.default_rng(1)
    first = pd.Timestamp("2025-11-01")
    build_start = time.perf_counter()
    if not (root / "_manifest.json").exists():
        with StoreWriter(root) as writer:
            for d in range(args.days):
                writer.write(day_frames(first + pd.Timedelta(days=d), rng))
    build = time.perf_counter() - build_start
    last = first + pd.Timedelta(days=args.days) - pd.Timedelta(minutes=15)
    past = first + pd.Timedelta(days=args.days // 2, hours=13)
    files = sorted(str(p) for p in (root / "module_status").rglob("part-*.parquet"))

    store = Store(root)
    rows = []

    def peer_status(at):
        frame = pd.read_parquet(files, columns=["time", "module", "status", "level", "message"])
        frame = frame[frame["time"] <= at]
        return frame.sort_values("time").groupby("module").tail(1)

    ms, ours = timed(lambda: store.status_at(last))
    peer_ms, theirs = timed(lambda: peer_status(last), repeat=3)
    assert len(ours) == len(theirs) == len(MODULES)
    rows.append(("status of all modules, now", ms, "pandas read_parquet + groupby", peer_ms))
    ms, _ = timed(lambda: store.status_at(past))
    peer_ms, _ = timed(lambda: peer_status(past), repeat=3)
    rows.append(("status of all modules, mid-history", ms, "pandas read_parquet + groupby", peer_ms))
    ms, history = timed(lambda: store.module_history("module_042"))
    peer_ms, _ = timed(lambda: pd.read_parquet(files, filters=[("module", "==", "module_042")]), repeat=3)
    rows.append((f"one module's whole history ({len(history)} rows)", ms, "pandas read_parquet with filter", peer_ms))
    ms, _ = timed(lambda: store.sql("SELECT module, avg(value) FROM metrics GROUP BY module"))
    peer_ms, _ = timed(
        lambda: (
            pd.read_parquet(sorted(str(p) for p in (root / "metrics").rglob("*.parquet")), columns=["module", "value"])
            .groupby("module")["value"]
            .mean()
        ),
        repeat=3,
    )
    rows.append(("mean of one metric per module, all history", ms, "pandas read_parquet + groupby", peer_ms))

    run = {
        k: v.iloc[: len(MODULES)].assign(time=last + pd.Timedelta(minutes=15)) for k, v in day_frames(last, rng).items()
    }
    run["runs"] = run["runs"].iloc[:1]
    bench = Path(tempfile.mkdtemp(prefix="hfpanel-commit-"))
    with StoreWriter(bench) as writer:
        ms, _ = timed(lambda: writer.write(run), repeat=20)
    peer_dir = Path(tempfile.mkdtemp(prefix="hfpanel-peer-"))
    peer_ms, _ = timed(
        lambda: [
            frame.to_parquet(peer_dir / f"{name}-{time.perf_counter_ns()}.parquet") for name, frame in run.items()
        ],
        repeat=20,
    )
    rows.append(("commit one run (atomic, fsynced)", ms, "pandas to_parquet, no atomicity", peer_ms))

    print(
        f"store: {args.days} days x 96 runs x {len(MODULES)} modules = {args.days * 96 * len(MODULES):,} status rows; "
        f"built in {build:.1f}s; {len(files)} files per table"
    )
    print(f"{'operation':<48} {'hfpanel ms':>11} {'peer':<34} {'peer ms':>9} {'ratio':>6}")
    for name, ms, peer, peer_ms in rows:
        print(f"{name:<48} {ms:>11.1f} {peer:<34} {peer_ms:>9.1f} {peer_ms / ms:>5.1f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
