"""What running the transfer modules after each aggregation adds to the aggregation.

    python benchmarks/bench_transfer_runs.py --modules 200 --days 7 --rows 5000 --repeats 7

A store holds ``days`` of 15-minute runs of ``modules`` modules ending now (written directly), and
raw FTS rows; the site has those modules plus one ``transfer_efficiency`` module reading the store.
Each repeat commits ``rows`` new raw transfers of the last hour, then, in turn and in one process:

- **aggregation alone** (the peer: ``hfpanel transfers aggregate --store``, what ran before);
- **aggregation + the run after it, kept runner** (the ingest daemon: its runner lives on);
- **aggregation + the run after it, fresh runner** (cron's ``transfers aggregate --config``: the
  runner reads its state back from the store first).

Wall and CPU seconds of each, medians over the repeats, with the load average beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hfpanel.clock import utcnow
from hfpanel.config import parse_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter
from hfpanel.transfer_runs import run_after_aggregation
from hfpanel.transfers import synthetic
from hfpanel.transfers.aggregate import aggregate
from hfpanel.transfers.config import parse_transfers


def site(root: Path, modules: int):
    mods = [
        {
            "name": f"m{i:04d}",
            "category": f"c{i % 10}",
            "collector": "http_json",
            "params": {"url": "http://127.0.0.1:9/"},
        }
        for i in range(modules)
    ]
    mods.append(
        {
            "name": "fts_efficiency",
            "category": "c0",
            "collector": "transfer_efficiency",
            "params": {"store": str(root), "site": "T1_DE_KIT", "window": "1h"},
        }
    )
    return parse_config(
        {
            "site": "T1_DE_KIT",
            "store": str(root),
            "categories": [{"name": f"c{c}"} for c in range(10)],
            "modules": mods,
            "transfers": {"sites": synthetic.site_map()},
        }
    )


def history(root: Path, config, days: int) -> None:
    """``days`` of runs of every module, ending 15 minutes ago; ~1 % of modules critical."""
    rng = np.random.default_rng(3)
    end = utcnow().floor("15min") - pd.Timedelta("15min")
    names = [m.name for m in config.modules]
    cats = [m.category for m in config.modules]
    with StoreWriter(root) as writer:
        for day in range(days, 0, -1):
            statuses, runs, categories = [], [], []
            for k in range(96):
                when = end - pd.Timedelta(days=day) + pd.Timedelta(minutes=15 * (k + 1))
                run_id = f"{when:%Y%m%dT%H%M%S}-bench"
                level = np.where(rng.random(len(names)) < 0.01, "critical", "ok")
                statuses.append(
                    pd.DataFrame({"run_id": run_id, "time": when, "module": names, "category": cats, "level": level})
                )
                runs.append({"run_id": run_id, "time": when, "start": when, "site": config.site})
                categories.append(
                    pd.DataFrame({"run_id": run_id, "time": when, "category": sorted(set(cats)), "level": "ok"})
                )
            frame = pd.concat(statuses, ignore_index=True)
            frame = frame.assign(
                status=np.where(frame["level"] == "ok", 1.0, 0.1), stale=False, message="", last_good=frame["time"]
            )
            writer.write(
                {
                    "module_status": frame,
                    "runs": pd.DataFrame(runs),
                    "category_status": pd.concat(categories, ignore_index=True),
                }
            )


def new_rows(root: Path, rows: int, seed: int) -> None:
    now = int(time.time())
    with StoreWriter(root) as writer:
        table = synthetic.fts_complete(
            rows, now - 3600, 3000, commit=writer.next_generation, seed=seed, key_offset=seed * rows
        )
        writer.write({"fts_complete": table})


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        config = site(root, args.modules)
        transfers = parse_transfers(
            {"store": str(root), "transfers": {"sites": synthetic.site_map()}}, need_subscriptions=False
        )
        history(root, config, args.days)
        new_rows(root, args.rows, 0)
        aggregate(root, transfers)  # the first fold (a rebuild) is not what a daemon does every few minutes
        kept = Runner(config)
        run_after_aggregation(config, aggregate(root, transfers), runner=kept)  # warms the kept runner
        results = {"alone": [], "kept": [], "fresh": []}
        seed = 1
        # alone and kept in turn (pairs), then fresh: a fresh runner's run would make the kept one
        # read its state back (another writer ran modules), which is the fresh case again
        order = [("alone", "kept")] * args.repeats + [("fresh",)] * args.repeats
        for names in order:
            for name in names:
                new_rows(root, args.rows, seed)
                seed += 1
                if name == "alone":
                    took = timed(lambda: aggregate(root, transfers))
                else:
                    runner = kept if name == "kept" else Runner(config)
                    took = timed(
                        lambda runner=runner: run_after_aggregation(config, aggregate(root, transfers), runner=runner)
                    )
                results[name].append((*took, os.getloadavg()[0]))
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        loads = [r[2] for r in rows]
        print(
            f"{name:6s}: wall {wall * 1000:.0f} ms, cpu {cpu * 1000:.0f} ms (median of {len(rows)}; "
            f"load {min(loads):.1f}-{max(loads):.1f})"
        )
    alone = statistics.median(r[1] for r in results["alone"])
    for name in ("kept", "fresh"):
        print(f"{name} / alone, cpu: {statistics.median(r[1] for r in results[name]) / alone:.2f}x")


if __name__ == "__main__":
    main()
