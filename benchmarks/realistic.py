"""Realistic runs for the store benchmarks: what the demo site's real collectors commit, scaled.

One run of the demo site (every collector type against the simulator, parsed, rated, through the
real ``Runner``) is captured as the tables it commits: every real detail family (SAM results,
HammerCloud jobs, condor jobs and slots, dCache pools, Rucio rules, downtimes, topology, the
generic tables…) with their real columns, plus statuses, metrics and the archived raw payloads.
``scaled_run`` turns it into a run of N modules: module k is a copy of the demo module k mod 29,
so 1,000 modules hold ~34 copies of each family, as a big site runs many instances of each
collector. Captured once per machine into a pickle next to the benchmarks' stores.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import pandas as pd

CACHE = Path(tempfile.gettempdir()) / "hfpanel-bench-demo-run.pickle"
START = pd.Timestamp("2026-11-01")


def demo_run(cache: Path = CACHE) -> dict[str, pd.DataFrame]:
    """The tables one run of the demo site commits (module names and times as the demo has them)."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from hfpanel.config import load_config
    from hfpanel.demo.simulator import Simulator
    from hfpanel.demo.site import write_demo_config
    from hfpanel.runner import Runner
    from hfpanel.store import StoreWriter

    root = Path(tempfile.mkdtemp(prefix="hfpanel-bench-capture-"))
    captured = {}
    with Simulator(start=START.to_pydatetime()) as sim:
        config = load_config(write_demo_config(root / "site.yaml", sim.serve("127.0.0.1", 0), str(root / "store")))
        sim.clock = (START + pd.Timedelta(hours=10)).to_pydatetime()
        with StoreWriter(config.store) as writer:
            writer.write = lambda tables, **kw: captured.update(tables)
            Runner(config).run_once(writer, now=START + pd.Timedelta(hours=10), force=True)
    tables = {k: v for k, v in captured.items() if isinstance(v, pd.DataFrame) and not v.empty}
    cache.write_bytes(pickle.dumps(tables))
    return tables


def families(run: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """(demo module, detail table) for every detail table of the run."""
    out = []
    for name in run:
        if name.startswith("detail__"):
            module, _, table = name[len("detail__") :].rpartition("__")
            out.append((module, table))
    return sorted(out)


def scaled_run(run: dict[str, pd.DataFrame], modules: int, when: pd.Timestamp, index: int = 0):
    """The demo run as a run of ``modules`` modules at ``when``: every table, every module's rows."""
    demo = sorted(run["module_status"]["module"])
    names = {f"{demo[k % len(demo)]}_{k:04d}": demo[k % len(demo)] for k in range(modules)}
    run_id = f"{when:%Y%m%dT%H%M%S}-{index:08x}"
    out = {}

    def per_module(frame: pd.DataFrame) -> pd.DataFrame:
        by_module = dict(tuple(frame.groupby("module", sort=False)))
        parts = [by_module[src].assign(module=name) for name, src in names.items() if src in by_module]
        return pd.concat(parts, ignore_index=True).assign(time=when, run_id=run_id)

    for table in ("module_status", "metrics", "raw_payloads"):
        if table in run:
            out[table] = per_module(run[table])
    for name, src in names.items():
        for module, table in families(run):
            if module == src:
                out[f"detail__{name}__{table}"] = run[f"detail__{module}__{table}"].assign(
                    module=name, time=when, run_id=run_id
                )
    if "category_status" in run:
        out["category_status"] = run["category_status"].assign(time=when, run_id=run_id)
    out["runs"] = run["runs"].assign(time=when, start=when, end=when, run_id=run_id, modules=modules)
    return out


def sizes(run: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Rows per table kind (statuses, metrics, payloads, details) of a scaled run."""
    detail = sum(len(f) for n, f in run.items() if n.startswith("detail__"))
    return {
        "modules": len(run["module_status"]),
        "detail tables": sum(n.startswith("detail__") for n in run),
        "detail rows": detail,
        "payload MB": int(run["raw_payloads"]["size"].sum() / 1e6) if "raw_payloads" in run else 0,
    }
