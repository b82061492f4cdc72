"""History components benchmark: status strips and metric trends on a year-long store, against plain DuckDB.

Builds (in a child process, so its memory does not count) a store of N days of 15-minute runs of 100
modules in 10 categories — module_status, category_status, metrics, runs; one file per table and
day, as compaction leaves it — then times, with the loader cache cleared before every repetition:

* the strips of all modules and categories over the last 24 h (``history.strip``: one SQL over
  the window's day partitions), target < 200 ms, and the whole ``StatusStrip`` built on it;
* the same over 7 days (672 runs binned into 400 cells);
* the level changes of all modules over one shift (``history.level_changes``);
* a one-year trend of one metric of one module (``history.metric_trend``, ``Store.sql`` over the
  metrics partitions), target < 300 ms;

against the strongest simple peer in the same process: plain DuckDB over the same Parquet files
(a glob with the hive ``day`` filter of the window, the same SQL a user would write without
hfpanel; a strip is pivoted with pandas as hfpanel's is). Peak RSS is reported after hfpanel's
queries and again after the peers'.
Usage: python benchmarks/bench_components.py [--days 365] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODULES = [f"module_{i:03d}" for i in range(100)]
CATEGORIES = [f"category_{i}" for i in range(10)]
FIRST = pd.Timestamp("2025-11-01")
RUNS_PER_DAY = 96
LEVELS = ["ok", "warning", "critical", "noinfo"]
OUTCOMES = np.array([0, 0, 0, 1, 2, 3])
STATUS = np.array([1.0, 1.0, 1.0, 0.5, 0.0, -1.0])


def frames(first: pd.Timestamp, days: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """``days`` days of runs: every module and category in every run, random levels."""
    times = pd.date_range(first, periods=days * RUNS_PER_DAY, freq="15min")
    nt, nm = len(times), len(MODULES)
    pick = rng.integers(0, len(OUTCOMES), nt * nm)
    run_ids = times.strftime("%Y%m%dT%H%M%S")
    codes = np.arange(nm)
    run = pd.Categorical.from_codes(np.repeat(np.arange(nt), nm), run_ids)
    module = pd.Categorical.from_codes(np.tile(codes, nt), MODULES)
    status = pd.DataFrame(
        {
            "run_id": run,
            "time": np.repeat(times.values, nm),
            "category": pd.Categorical.from_codes(np.tile(codes % 10, nt), CATEGORIES),
            "module": module,
            "title": pd.Categorical.from_codes(np.tile(codes, nt), [m.replace("_", " ") for m in MODULES]),
            "status": STATUS[pick],
            "level": pd.Categorical.from_codes(OUTCOMES[pick], LEVELS),
            "message": "synthetic",
        }
    )
    cat_pick = rng.integers(0, len(OUTCOMES), nt * len(CATEGORIES))
    categories = pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(np.repeat(np.arange(nt), len(CATEGORIES)), run_ids),
            "time": np.repeat(times.values, len(CATEGORIES)),
            "category": pd.Categorical.from_codes(np.tile(np.arange(len(CATEGORIES)), nt), CATEGORIES),
            "title": pd.Categorical.from_codes(np.tile(np.arange(len(CATEGORIES)), nt), CATEGORIES),
            "status": STATUS[cat_pick],
            "level": pd.Categorical.from_codes(OUTCOMES[cat_pick], LEVELS),
            "message": "worst of 10 modules",
        }
    )
    metrics = pd.DataFrame(
        {
            "run_id": run,
            "time": status["time"],
            "module": module,
            "metric": "value",
            "value": rng.normal(100, 10, nt * nm),
        }
    )
    runs = pd.DataFrame({"run_id": run_ids, "time": times, "start": times})
    return {"module_status": status, "category_status": categories, "metrics": metrics, "runs": runs}


def build(root: Path, days: int) -> None:
    from hfpanel.store import StoreWriter

    rng = np.random.default_rng(1)
    with StoreWriter(root) as writer:
        for start in range(0, days, 30):
            writer.write(frames(FIRST + pd.Timedelta(days=start), min(30, days - start), rng))


CPU: dict = {}  # the last timed call's median CPU ms (this process, DuckDB's threads included)


def timed(func, repeat=7, before=None):
    """Median wall ms and the result; the median CPU ms goes to ``CPU["ms"]`` (on a loaded machine
    the wall time says what the load allowed, the CPU time what an idle one would see)."""
    samples, cpu, result = [], [], None
    for _ in range(repeat):
        if before:
            before()
        start, used = time.perf_counter(), time.process_time()
        result = func()
        samples.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    CPU["ms"] = statistics.median(cpu) * 1000
    return statistics.median(samples) * 1000, result


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--store", help="reuse or build the store here (default: a temporary folder)")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-components-"))
    if args.build_only:
        build(root, args.days)
        return 0
    build_s = 0.0
    if not (root / "_manifest.json").exists():
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--build-only", "--days", str(args.days), "--store", str(root)], check=True
        )
        build_s = time.perf_counter() - start

    from hfpanel.components.strip import StatusStrip
    from hfpanel.queries import history
    from hfpanel.queries import loaders as data
    from hfpanel.store import Store

    store = Store(root)
    start_rss = rss_mb()
    end = history.window_end(store)
    day = pd.Timedelta(hours=24)
    rows = []

    cpu = {}
    ms, answer = timed(lambda: history.strip(store, end - day, end), before=data.clear_cache)
    cpu["strip"] = CPU["ms"]
    assert len(answer["cells"]) == RUNS_PER_DAY and answer["rows"]["name"].nunique() >= len(MODULES)
    strip_ms = ms
    component_ms, strip = timed(lambda: StatusStrip(store=store), before=data.clear_cache)
    cpu["component"] = CPU["ms"]
    assert strip.matrix().shape == (len(MODULES), RUNS_PER_DAY)
    week_ms, week = timed(lambda: history.strip(store, end - 7 * day, end), before=data.clear_cache)
    cpu["week"] = CPU["ms"]
    shift = end.floor("8h") if end.floor("8h") < end else end - pd.Timedelta(hours=8)
    changes_ms, changes = timed(lambda: history.level_changes(store, shift, end), before=data.clear_cache)
    cpu["changes"] = CPU["ms"]
    trend_ms, trend = timed(lambda: history.metric_trend(store, "module_042", "value"), before=data.clear_cache)
    cpu["trend"] = CPU["ms"]
    assert len(trend) == args.days * RUNS_PER_DAY
    ours_rss = rss_mb()

    import duckdb

    con = duckdb.connect()
    status_glob = f"read_parquet('{root}/module_status/*/*.parquet', hive_partitioning = true)"
    metric_glob = f"read_parquet('{root}/metrics/*/*.parquet', hive_partitioning = true)"
    status_files = list((root / "module_status").rglob("part-*.parquet"))

    def window(since, until) -> str:
        return (
            f"day BETWEEN DATE '{since:%Y-%m-%d}' AND DATE '{until:%Y-%m-%d}' "
            f"AND time > TIMESTAMP '{since}' AND time <= TIMESTAMP '{until}'"
        )

    def peer_strip(since, until):
        frame = con.sql(f"SELECT time, module, level FROM {status_glob} WHERE {window(since, until)}").df()
        return frame.pivot(index="module", columns="time", values="level")

    peer_ms, pivot = timed(lambda: peer_strip(end - day, end))
    cpu["peer strip"] = CPU["ms"]
    assert pivot.shape == (len(MODULES), RUNS_PER_DAY)
    rows.append(
        ("strips of all modules, last 24 h (96 runs)", strip_ms, 200, "DuckDB glob + day filter + pivot", peer_ms)
    )
    rows.append(("  StatusStrip component built on it", component_ms, None, "", None))
    peer_week_ms, _ = timed(lambda: peer_strip(end - 7 * day, end))
    cpu["peer week"] = CPU["ms"]
    rows.append(
        (
            f"strips, last 7 days ({int(week['cells']['runs'].sum())} runs → {len(week['cells'])} cells)",
            week_ms,
            None,
            "DuckDB glob + day filter + pivot",
            peer_week_ms,
        )
    )

    def peer_changes():
        return con.sql(
            f"""WITH s AS (SELECT time, module, level FROM {status_glob} WHERE {window(shift - 7 * day, end)}),
            w AS (SELECT *, lag(level) OVER (PARTITION BY module ORDER BY time) AS before FROM s)
            SELECT * FROM w WHERE time > TIMESTAMP '{shift}' AND before IS DISTINCT FROM level"""
        ).df()

    peer_changes_ms, theirs = timed(peer_changes)
    cpu["peer changes"] = CPU["ms"]
    assert len(theirs) == len(changes), (len(theirs), len(changes))
    rows.append(
        (
            f"level changes of all modules, one shift ({len(changes)})",
            changes_ms,
            None,
            "DuckDB glob + day filter + lag()",
            peer_changes_ms,
        )
    )

    def peer_trend():
        return con.sql(
            f"SELECT time, value FROM {metric_glob} WHERE day >= DATE '{end - 366 * day:%Y-%m-%d}' "
            "AND module = 'module_042' AND metric = 'value' ORDER BY time"
        ).df()

    peer_trend_ms, theirs = timed(peer_trend)
    cpu["peer trend"] = CPU["ms"]
    assert len(theirs) == len(trend)
    rows.append(
        (
            f"one-year trend of one metric ({len(trend):,} points)",
            trend_ms,
            300,
            "DuckDB glob + filter",
            peer_trend_ms,
        )
    )
    peer_rss = rss_mb()

    print(
        f"store: {args.days} days x {RUNS_PER_DAY} runs x {len(MODULES)} modules = "
        f"{args.days * RUNS_PER_DAY * len(MODULES):,} status rows (+ as many metric rows); "
        f"{len(status_files)} files per table" + (f"; built in {build_s:.1f}s" if build_s else "")
    )
    print(f"{'operation':<58} {'hfpanel ms':>10} {'target':>7} {'peer':<34} {'peer ms':>8} {'ratio':>6}")
    for name, ms, target, peer, peer_ms in rows:
        mark = "" if target is None else (f"<{target}" + (" ok" if ms < target else " !!"))
        peer_text = f"{peer_ms:>8.1f} {peer_ms / ms:>5.1f}x" if peer_ms is not None else ""
        print(f"{name:<58} {ms:>10.1f} {mark:>7} {peer:<34} {peer_text}")
    print(
        f"peak RSS: {start_rss:.0f} MB after opening the store, {ours_rss:.0f} MB after hfpanel's queries, "
        f"{peer_rss:.0f} MB after the DuckDB peers"
    )
    print("CPU ms (median): " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
    print(f"load average {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} cores; medians of 7 (cache cleared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
