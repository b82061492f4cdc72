"""Events: what deriving them costs a run, and what a year's replay costs.

    python benchmarks/bench_events.py --derive-modules 1000 --replay-days 365 --replay-modules 100

1. **After a run of N modules**: the events step of the runner (``EventEngine.after_run``: derive
   levels, staleness, flapping, metric jumps over 5 metrics per module, evaluate 3 rules, build
   the events/incidents/outbox frames) after 25 warm-up runs, on runs where ~1 % of modules change;
   beside it the run's own commit of the same N modules (module_status, category_status, metrics)
   that the events join. Median of the runs, wall time.
2. **Replay**: a store of a year of 15-minute runs of M modules (10 categories, 3 metrics each,
   problems starting and ending at random) is written directly, then ``hfpanel.events.replay``
   re-derives everything with 3 rules, in a child process: its wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
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

from hfpanel.config import Category, Module, SiteConfig, parse_config
from hfpanel.events.derive import ModuleRow, RunView
from hfpanel.events.engine import EventEngine
from hfpanel.levels import Levels
from hfpanel.store import StoreWriter

START = pd.Timestamp("2025-01-01")
RULES = {
    "receivers": [{"name": "hook", "webhook": {"url": "http://127.0.0.1:9/x"}}],
    "rules": [
        {"name": "critical", "match": {"level": ["critical"]}, "for": "2 runs", "receivers": ["hook"]},
        {"name": "noinfo", "match": {"level": ["noinfo"]}, "for": "1h", "receivers": ["hook"]},
        {"name": "stale", "match": {"kind": ["stale"]}, "receivers": ["hook"]},
    ],
}


def site(modules: int, categories: int = 10) -> SiteConfig:
    """A site of ``modules`` http_json modules (never run: only their names and timing matter)."""
    raw = {
        "site": "T2_BENCH",
        "store": "/tmp/unused",
        "categories": [{"name": f"c{c}"} for c in range(categories)],
        "modules": [{"name": "m0", "category": "c0", "collector": "http_json", "params": {"url": "http://x/"}}],
        "notifications": RULES,
    }
    base = parse_config(raw)
    mods = [
        Module(f"m{i:04d}", f"m{i:04d}", f"c{i % categories}", "http_json", {}, 900.0, 30.0, 3600.0)
        for i in range(modules)
    ]
    return SiteConfig(
        None,
        "T2_BENCH",
        "bench",
        Path("/tmp/unused"),
        Levels(),
        [Category(f"c{c}", f"c{c}", {"type": "worst"}) for c in range(categories)],
        mods,
        "x",
        notifications=base.notifications,
    )


def run_frames(config, when, levels, metrics, run_id):
    statuses = pd.DataFrame(
        {
            "run_id": run_id,
            "time": when,
            "category": [m.category for m in config.modules],
            "module": [m.name for m in config.modules],
            "status": [0.1 if lvl == "critical" else 1.0 for lvl in levels],
            "level": levels,
            "message": "",
            "stale": False,
        }
    )
    metric_rows = pd.DataFrame(
        [
            (run_id, when, m.name, f"x{k}", float(v))
            for m, row in zip(config.modules, metrics)
            for k, v in enumerate(row)
        ],
        columns=["run_id", "time", "module", "metric", "value"],
    )
    cats = pd.DataFrame(
        {"run_id": run_id, "time": when, "category": [c.name for c in config.categories], "level": "ok"}
    )
    return statuses, metric_rows, cats


def bench_derive(modules: int, runs: int) -> dict:
    config = site(modules)
    rng = np.random.default_rng(1)
    levels = ["ok"] * modules
    with tempfile.TemporaryDirectory() as tmp, StoreWriter(tmp) as writer:
        engine = EventEngine(config)
        engine._ready = True  # a running collector: state in memory (bootstrap is a process's first run only)
        derive_s, commit_s = [], []
        for i in range(25 + runs):
            when = START + pd.Timedelta(minutes=15 * i)
            for j in rng.choice(modules, max(1, modules // 100), replace=False):
                levels[j] = "critical" if levels[j] == "ok" else "ok"
            metrics = rng.poisson(20, size=(modules, 5))
            run_id = f"r{i}"
            view = RunView(
                run_id,
                when,
                [ModuleRow(m.name, m.category, lvl) for m, lvl in zip(config.modules, levels)],
                {c.name: "ok" for c in config.categories},
                {(m.name, f"x{k}"): float(v) for m, row in zip(config.modules, metrics) for k, v in enumerate(row)},
            )
            started = time.perf_counter()
            tables, state = engine.after_run(writer, view)
            took = time.perf_counter() - started
            statuses, metric_rows, cats = run_frames(config, when, levels, metrics, run_id)
            started = time.perf_counter()
            writer.write({"module_status": statuses, "metrics": metric_rows, "category_status": cats})
            commit = time.perf_counter() - started
            if i >= 25:
                derive_s.append(took)
                commit_s.append(commit)
    return {"modules": modules, "derive_s": statistics.median(derive_s), "commit_s": statistics.median(commit_s)}


def build_year(root: Path, days: int, modules: int) -> int:
    """A year of runs written month by month (no runner: 35,000 runs would take hours)."""
    config = site(modules)
    rng = np.random.default_rng(2)
    runs_per_day = 96
    total = days * runs_per_day
    # each module: a two-state chain, problems start with p=0.002 per run and end with p=0.1
    state = np.zeros(modules, dtype=bool)
    names = np.array([m.name for m in config.modules])
    cats = np.array([m.category for m in config.modules])
    with StoreWriter(root) as writer:
        for chunk in range(0, total, runs_per_day * 30):
            rows_s, rows_m, rows_r, rows_c = [], [], [], []
            for i in range(chunk, min(total, chunk + runs_per_day * 30)):
                when = START + pd.Timedelta(minutes=15 * i)
                flip = np.where(state, rng.random(modules) < 0.1, rng.random(modules) < 0.002)
                state ^= flip
                level = np.where(state, "critical", "ok")
                run_id = f"{when:%Y%m%dT%H%M%S}-bench"
                rows_s.append(
                    pd.DataFrame({"run_id": run_id, "time": when, "module": names, "category": cats, "level": level})
                )
                values = rng.poisson(20, size=(modules, 3)).astype(float)
                rows_m.append(
                    pd.DataFrame(
                        {
                            "run_id": run_id,
                            "time": when,
                            "module": np.repeat(names, 3),
                            "metric": np.tile(["a", "b", "c"], modules),
                            "value": values.ravel(),
                        }
                    )
                )
                rows_r.append({"run_id": run_id, "time": when, "start": when, "site": "T2_BENCH"})
                worst = pd.Series(level).groupby(cats).agg(lambda s: "critical" if (s == "critical").any() else "ok")
                rows_c.append(
                    pd.DataFrame({"run_id": run_id, "time": when, "category": worst.index, "level": worst.values})
                )
            status = pd.concat(rows_s, ignore_index=True).assign(status=1.0, stale=False, message="")
            writer.write(
                {
                    "module_status": status,
                    "metrics": pd.concat(rows_m, ignore_index=True),
                    "runs": pd.DataFrame(rows_r),
                    "category_status": pd.concat(rows_c, ignore_index=True),
                }
            )
    return total


REPLAY_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from bench_events import site, START
from hfpanel.store import Store
from hfpanel.events.replay import replay
config = site({modules})
started, cpu = time.perf_counter(), time.process_time()
with Store({root!r}) as store:
    result = replay(store, config, START - __import__("pandas").Timedelta(minutes=1))
print(json.dumps({{"seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu, "runs": result.runs,
                  "events": len(result.events),
                  "messages": len(result.messages), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def bench_replay(days: int, modules: int, keep: Path | None = None) -> dict:
    """Build the store (or reuse ``keep`` when an earlier call built it there) and time a replay of it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = keep or Path(tmp) / "store"
        done = root / ".bench-built"
        started = time.perf_counter()
        if keep is not None and done.exists():
            runs = int(done.read_text())
        else:
            runs = build_year(root, days, modules)
            if keep is not None:
                done.write_text(str(runs))
        built = time.perf_counter() - started
        code = REPLAY_CHILD.format(here=str(Path(__file__).parent), modules=modules, root=str(root))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return {"runs": runs, "build_s": built, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--derive-modules", type=int, default=1000)
    parser.add_argument("--derive-runs", type=int, default=15)
    parser.add_argument("--replay-days", type=int, default=365)
    parser.add_argument("--replay-modules", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--store", type=Path, help="build the replay's store here once and reuse it on later calls (same days/modules)"
    )
    args = parser.parse_args()
    for _ in range(args.repeat if args.derive_modules else 0):
        load = os.getloadavg()[0]
        derive = bench_derive(args.derive_modules, args.derive_runs)
        print(
            f"after a run of {derive['modules']} modules: events step {derive['derive_s'] * 1000:.0f} ms "
            f"(median of {args.derive_runs}), the run's own commit {derive['commit_s'] * 1000:.0f} ms; load {load:.1f}",
            flush=True,
        )
    if args.replay_days:
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            replay = bench_replay(args.replay_days, args.replay_modules, args.store)
            print(
                f"replay of {replay['runs']} runs x {args.replay_modules} modules: {replay['seconds']:.1f} s "
                f"({replay['cpu_s']:.1f} s CPU), "
                f"peak RSS {replay['rss_mb']:.0f} MiB, {replay['events']} events, {replay['messages']} messages "
                f"(store built in {replay['build_s']:.0f} s); load {load:.1f}",
                flush=True,
            )
    _ = resource


if __name__ == "__main__":
    main()
