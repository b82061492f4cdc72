"""Reports benchmark: A/R of 100 sites × a month, a what-if over a year of 100 modules, a handover of
8 h of a 1,000-module site. Goals: each under 10 s in one process, with its peak memory.

Each case runs in a fresh process (``--case NAME``) so its peak RSS is its own; the driver prints
medians of ``--repeat`` runs and the load. Usage: python benchmarks/bench_reports.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(os.environ.get("HFPANEL_BENCH_CACHE", "/tmp/hfpanel-bench-reports"))
LEVELS = np.array(["critical", "warning", "ok", "noinfo"])


def synthetic_status(times, modules, categories, rng, health=None) -> pd.DataFrame:
    n = len(times) * len(modules)
    health = rng.beta(8, 1, n) if health is None else health
    failed = rng.random(n) < 0.01
    status = np.where(failed, -1.0, np.where(health <= 0.3, 0.0, np.where(health <= 0.6, 0.5, 1.0)))
    level = np.where(status < 0, "noinfo", np.where(status == 0, "critical", np.where(status == 0.5, "warning", "ok")))
    return pd.DataFrame(
        {
            "run_id": np.repeat([f"r{t:%Y%m%dT%H%M}" for t in times], len(modules)),
            "time": np.repeat(pd.DatetimeIndex(times).values, len(modules)),
            "category": np.tile(categories, len(times)),
            "module": np.tile(modules, len(times)),
            "status": status,
            "level": level,
            "error": np.where(failed, "timed out", ""),
            "downtime": "",
            "weight": 1.0,
            "message": "synthetic",
            "title": np.tile(modules, len(times)),
            "health": health,
        }
    )


# -- the cases ---------------------------------------------------------------------------------------
def case_ar() -> str:
    """100 sites × November, 15-minute runs, 10 modules each (CE OR'ed, storage AND'ed)."""
    from hfpanel.availability.ar import compute
    from hfpanel.availability.profiles import AND, OR, Group, Profile

    rng = np.random.default_rng(7)
    start, end = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-12-01")
    times = pd.date_range(start, end, freq="15min", inclusive="left")
    modules = [f"m{i}" for i in range(10)]
    profile = Profile(
        "wlcg",
        pd.Timestamp("1970-01-01"),
        AND,
        (
            Group("CE", OR, tuple(modules[:4])),
            Group("SE", AND, tuple(modules[4:8])),
            Group("other", AND, tuple(modules[8:])),
        ),
    )
    sites = [synthetic_status(times, modules, ["c"] * 10, rng) for _ in range(100)]
    began, cpu = time.perf_counter(), time.process_time()
    for rows in sites:
        compute(rows, start, end, [profile], {m: 3600 for m in modules})
    return f"{time.perf_counter() - began:.2f} {time.process_time() - cpu:.2f}"


def build_year_store(root: Path) -> None:
    from hfpanel.store import StoreWriter

    rng = np.random.default_rng(3)
    modules = [f"module_{i:03d}" for i in range(100)]
    categories = [f"category_{i % 10}" for i in range(100)]
    with StoreWriter(root) as writer:
        for day in pd.date_range("2025-11-01", periods=365, freq="D"):
            times = pd.date_range(day, periods=96, freq="15min")
            rows = synthetic_status(times, modules, categories, rng)
            worst = rows.assign(sev=rows["level"].map({"critical": 0, "noinfo": 1, "warning": 2, "ok": 3}))
            cats = worst.sort_values("sev").groupby(["time", "category"], as_index=False).first()
            writer.write(
                {
                    "module_status": rows.drop(columns="health"),
                    "metrics": rows[["run_id", "time", "module"]].assign(metric="health", value=rows["health"]),
                    "category_status": cats[["run_id", "time", "category", "status", "level", "message"]],
                    "runs": pd.DataFrame({"run_id": rows["run_id"].unique(), "time": times, "site": "BENCH"}),
                }
            )
        writer.compact(keep_today=False)


def case_whatif() -> str:
    """A year of 15-minute runs of 100 modules in 10 categories: every module's threshold changed,
    every category's roll-up changed to weighted."""
    from hfpanel.reports.whatif import what_if
    from hfpanel.store import Store

    root = CACHE / "whatif-year"
    if not (root / "_manifest.json").exists():
        build_year_store(root)
    ratings = {
        f"module_{i:03d}": {"type": "threshold", "metric": "health", "warning": 0.5, "critical": 0.2}
        for i in range(100)
    }
    rollups = {f"category_{i}": {"type": "weighted"} for i in range(10)}
    with Store(root) as store:
        began, cpu = time.perf_counter(), time.process_time()
        result = what_if(store, "2025-11-01", "2026-11-01", ratings=ratings, rollups=rollups)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert result.summary["runs_changed"].sum() > 0
    return f"{took:.2f} {cpu:.2f}"


def case_handover() -> str:
    """8 h of 15-minute runs of a 1,000-module site (with a month of runs before, for A/R so far)."""
    from hfpanel.reports.handover import handover, to_markdown
    from hfpanel.store import Store, StoreWriter

    root = CACHE / "handover-1000"
    modules = [f"module_{i:04d}" for i in range(1000)]
    if not (root / "_manifest.json").exists():
        rng = np.random.default_rng(5)
        with StoreWriter(root) as writer:
            for day in pd.date_range("2026-11-01", periods=3, freq="D"):
                times = pd.date_range(day, periods=96, freq="15min")
                rows = synthetic_status(times, modules, [f"category_{i % 20}" for i in range(1000)], rng)
                writer.write(
                    {
                        "module_status": rows.drop(columns="health"),
                        "runs": pd.DataFrame({"run_id": rows["run_id"].unique(), "time": times, "site": "BENCH"}),
                    }
                )
            writer.compact(keep_today=False)
    with Store(root) as store:
        began, cpu = time.perf_counter(), time.process_time()
        text = to_markdown(handover(store, "2026-11-03T06:00", "2026-11-03T14:00"))
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert "Changed level" in text
    return f"{took:.2f} {cpu:.2f}"


CASES = {"ar": case_ar, "whatif": case_whatif, "handover": case_handover}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=list(CASES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.case:
        seconds = CASES[args.case]()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{seconds} {peak:.0f}")
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"{'case':10} {'median s':>9} {'runs (wall s)':>22} {'CPU s':>6} {'peak MB':>8}  load (1/5/15 min)")
    for case in CASES:
        samples, cpus, peaks = [], [], []
        for _ in range(args.repeat):
            done = subprocess.run(
                [sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True
            ).stdout.split()
            samples.append(float(done[-3]))
            cpus.append(float(done[-2]))
            peaks.append(float(done[-1]))
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{case:10} {statistics.median(samples):9.2f} {', '.join(f'{s:.2f}' for s in samples):>22} "
            f"{statistics.median(cpus):6.2f} {max(peaks):8.0f}  {load}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
