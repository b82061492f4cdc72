"""A small store of numbers for the PlotBuilder tests, written straight through ``StoreWriter.write``.

Three days of runs every 30 minutes (one ``write`` per day, so each day is its own partition):

* ``metrics``: module ``pool`` with ``load`` (random floats) and ``queue`` (whole numbers); module
  ``door`` with ``latency``;
* ``detail__pool__rows``: per run three hosts (``host``), ``free`` (float), ``jobs`` (int), a
  text column ``state`` and a column with a space in its name (``Hit ratio``);
* ``module_status``: ``pool`` is ok except critical from day 2 10:00 to 12:00 (exclusive) and
  warning at day 3 06:00; ``door`` always ok;
* ``runs``: one row per run (so "now" is the last run).

``build_plot_store(root)`` returns a ``PlotStore`` with the frames it wrote, for the tests to
compute the expected numbers with pandas.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from hfpanel.store import StoreWriter

START = pd.Timestamp("2026-03-02 00:00:00")  # a Monday
DAYS = 3
STEP = pd.Timedelta(minutes=30)
HOSTS = ("h1", "h2", "h3")
CRITICAL_FROM, CRITICAL_UNTIL = START + pd.Timedelta(days=1, hours=10), START + pd.Timedelta(days=1, hours=12)
WARNING_AT = START + pd.Timedelta(days=2, hours=6)


@dataclasses.dataclass
class PlotStore:
    root: Path
    times: list
    metrics: pd.DataFrame
    detail: pd.DataFrame
    status: pd.DataFrame


def _level(module: str, when: pd.Timestamp) -> str:
    if module == "pool" and CRITICAL_FROM <= when < CRITICAL_UNTIL:
        return "critical"
    if module == "pool" and when == WARNING_AT:
        return "warning"
    return "ok"


def build_plot_store(root, seed: int = 7) -> PlotStore:
    root = Path(root)
    rng = np.random.default_rng(seed)
    times = list(pd.date_range(START, START + pd.Timedelta(days=DAYS) - STEP, freq=STEP))
    metrics, detail, status, runs = [], [], [], []
    for when in times:
        run_id = f"run-{when:%Y%m%dT%H%M}"
        runs.append({"run_id": run_id, "time": when, "start": when, "end": when, "site": "PLOT-SITE"})
        metrics += [
            {
                "run_id": run_id,
                "time": when,
                "module": "pool",
                "metric": "load",
                "value": float(round(rng.normal(10, 3), 3)),
            },
            {"run_id": run_id, "time": when, "module": "pool", "metric": "queue", "value": float(rng.integers(0, 50))},
            {
                "run_id": run_id,
                "time": when,
                "module": "door",
                "metric": "latency",
                "value": float(round(rng.gamma(2.0, 20.0), 3)),
            },
        ]
        for index, host in enumerate(HOSTS):
            detail.append(
                {
                    "run_id": run_id,
                    "time": when,
                    "module": "pool",
                    "host": host,
                    "free": float(round(1000 * (index + 1) + rng.normal(0, 50), 2)),
                    "jobs": int(rng.integers(0, 20)),
                    "state": "online" if index else "draining",
                    "Hit ratio": float(round(rng.uniform(80, 100), 2)),
                }
            )
        for module in ("pool", "door"):
            level = _level(module, when)
            value = {"ok": 1.0, "warning": 0.5, "critical": 0.0}[level]
            status.append(
                {
                    "run_id": run_id,
                    "time": when,
                    "category": "storage",
                    "module": module,
                    "title": module,
                    "collector": "fake",
                    "status": value,
                    "level": level,
                    "message": f"{module} {level}",
                    "error": "",
                    "stale": False,
                }
            )
    frames = {
        "runs": pd.DataFrame(runs),
        "metrics": pd.DataFrame(metrics),
        "detail__pool__rows": pd.DataFrame(detail),
        "module_status": pd.DataFrame(status),
    }
    days = pd.Series(times).dt.normalize()
    with StoreWriter(root) as writer:
        for day in sorted(days.unique()):  # one commit per day, as collecting over days would
            writer.write({name: frame[frame["time"].dt.normalize() == day] for name, frame in frames.items()})
    return PlotStore(
        root=root,
        times=times,
        metrics=frames["metrics"],
        detail=frames["detail__pool__rows"],
        status=frames["module_status"],
    )


if __name__ == "__main__":  # python tests/support/store_factory_plots.py DIR
    import sys

    info = build_plot_store(sys.argv[1] if len(sys.argv) > 1 else "data/plot-store")
    print(info.root, info.times[0], info.times[-1])
