"""Stores for the history components (strip, what changed, why, search).

``build_rated_store`` runs a small site through the real runner and writer with rating rules in
the config (weakest link, fraction, threshold), detail rows that appear, vanish and change between
runs, a host in a GOCDB outage and a failing source, at fixed times around a shift change:

    runs 07:30 and 07:45 (the previous shift: all fine), 08:30 and 09:00 (this shift: trouble)

The squid module joins the config only from the second run on (its 07:30 cell is empty).

``build_year_store`` writes a year of synthetic runs of many modules straight through
``StoreWriter.write`` (day-sized partitions, as compaction leaves them), in seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from store_factory import HOSTILE  # noqa: F401  (registers the "fake" collector too)

from hfpanel.config import parse_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

DAY = pd.Timestamp("2026-03-11")
TIMES = [
    DAY + pd.Timedelta(hours=7, minutes=30),
    DAY + pd.Timedelta(hours=7, minutes=45),
    DAY + pd.Timedelta(hours=8, minutes=30),
    DAY + pd.Timedelta(hours=9),
]
HOST = "ce02.demo-t2.example.org"
SE = "se01.demo-t2.example.org"
SAM_MAP = {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0, "UNKNOWN": -1}
CATEGORIES = [
    {"name": "availability", "title": "Site availability"},
    {"name": "storage", "title": "Storage"},
    {"name": "jobs", "title": "Batch system"},
    {"name": "network", "title": "Network"},
]
DOWNTIMES = pd.DataFrame(
    [
        {
            "id": 38201,
            "hostname": SE,
            "severity": "OUTAGE",
            "classification": "SCHEDULED",
            "start": DAY + pd.Timedelta(hours=8, minutes=45),
            "end": DAY + pd.Timedelta(hours=14),
            "description": "dCache upgrade",
        }
    ]
)


def _ces(failing=(), extra=()):
    hosts = ["ce01.demo-t2.example.org", HOST, "ce03.demo-t2.example.org", *extra]
    return [{"ce": h, "flavour": "ARC-CE", "result": "CRITICAL" if h in failing else "OK"} for h in hosts]


def _pools(disabled: int):
    return [
        {"pool": f"pool{n:02d}", "state": "disabled" if n < disabled else "enabled", "free_tb": 10.0 + n}
        for n in range(10)
    ]


def _jobs():
    return [
        {"job": f"{n}.0", "schedd": HOST if n % 2 else "schedd01.demo-t2.example.org", "owner": "cmsprd"}
        for n in range(4)
    ]


def _squids(note=""):
    return [
        {"host": HOST, "comment": f"{HOSTILE} proxy on {HOST}"},
        {"host": "squid01.demo-t2.example.org", "comment": note or "fine"},
    ]


#: per run: module -> its FakeCollector params (None: not in that run's config)
SCENARIO = [
    {
        "sam_ce": {"rows": _ces()},
        "sam_srm": {"rows": [{"se": SE, "result": "OK"}]},
        "dcache_pools": {"rows": _pools(1)},
        "condor_queue": {"rows": _jobs()},
        "squid": None,
    },
    {
        "sam_ce": {"rows": _ces()},
        "sam_srm": {"rows": [{"se": SE, "result": "OK"}]},
        "dcache_pools": {"rows": _pools(1)},
        "condor_queue": {"rows": _jobs()},
        "squid": {"health": 1.0, "rows": _squids()},
    },
    {
        "sam_ce": {"rows": _ces(failing=[HOST])},
        "sam_srm": {"rows": [{"se": SE, "result": "OK"}]},
        "dcache_pools": {"rows": _pools(3)},
        "condor_queue": {"rows": _jobs()},
        "squid": {"health": 0.9, "rows": _squids()},
    },
    {
        "sam_ce": {"rows": _ces(failing=[HOST], extra=["ce04.demo-t2.example.org"])},
        "sam_srm": {"rows": [{"se": SE, "result": "CRITICAL"}]},
        "dcache_pools": {"rows": _pools(3)},
        "condor_queue": {"fail": f"connection refused: {HOST}:9618"},
        "squid": {"health": 0.5, "note": "slow", "rows": _squids("slow answers")},
    },
]
MODULES = {  # name: (category, title, rating or None for the collector's default)
    "sam_ce": (
        "availability",
        "SAM CE tests",
        {"type": "weakest_link", "table": "rows", "column": "result", "map": SAM_MAP, "label": "ce"},
    ),
    "sam_srm": (
        "availability",
        "SAM SRM tests",
        {"type": "weakest_link", "table": "rows", "column": "result", "map": SAM_MAP, "label": "se"},
    ),
    "dcache_pools": (
        "storage",
        "dCache pools",
        {
            "type": "fraction",
            "table": "rows",
            "column": "state",
            "states": ["disabled"],
            "warning": 0.2,
            "critical": 0.5,
            "label": "pool",
        },
    ),
    "condor_queue": ("jobs", "HTCondor queue", None),
    "squid": ("network", "Frontier squids", None),
}
#: the levels a shifter sees at each run ("": no row)
EXPECTED = [
    {"sam_ce": "ok", "sam_srm": "ok", "dcache_pools": "ok", "condor_queue": "ok", "squid": ""},
    {"sam_ce": "ok", "sam_srm": "ok", "dcache_pools": "ok", "condor_queue": "ok", "squid": "ok"},
    {"sam_ce": "critical", "sam_srm": "ok", "dcache_pools": "warning", "condor_queue": "ok", "squid": "ok"},
    {
        "sam_ce": "critical",
        "sam_srm": "downtime",
        "dcache_pools": "warning",
        "condor_queue": "noinfo",
        "squid": "warning",
    },
]


def rated_config(specs: dict, store: Path):
    modules = []
    for name, (category, title, rating) in MODULES.items():
        if name in specs and specs[name] is None:
            continue
        params = {"url": f"https://monitor.example.org/{name}", **specs.get(name, {})}
        entry = {
            "name": name,
            "title": title,
            "category": category,
            "collector": "fake",
            "params": params,
            "interval": "15m",
            "max_age": "1h",
        }
        if rating:
            entry["rating"] = rating
        modules.append(entry)
    return parse_config(
        {
            "site": {"name": "DEMO-T2", "title": "DEMO-T2 (test)"},
            "store": str(store),
            "categories": CATEGORIES,
            "modules": modules,
        }
    )


@dataclasses.dataclass
class RatedStore:
    root: Path
    times: list[pd.Timestamp]
    expected: dict  # time -> {module: level}
    config: object


def build_rated_store(root) -> RatedStore:
    root = Path(root)
    config = None
    with StoreWriter(root) as writer:
        for when, specs in zip(TIMES, SCENARIO):
            config = rated_config(specs, root)
            runner = Runner(config)
            # as if a GOCDB module had announced it (there is no GOCDB module here)
            runner.set_reference_table("gocdb_downtimes", "downtimes", DOWNTIMES)
            runner.run_once(writer, now=when, force=True)
    return RatedStore(root, list(TIMES), dict(zip(TIMES, EXPECTED)), config)


# -- a year of many modules ------------------------------------------------------------------------
LEVELS = ["ok", "warning", "critical", "noinfo"]
#: the six equally likely outcomes of a synthetic run: level code and status
OUTCOMES = np.array([0, 0, 0, 1, 2, 3])
STATUS = np.array([1.0, 1.0, 1.0, 0.5, 0.0, -1.0])


def year_frames(first: pd.Timestamp, days: int, modules: int, runs_per_day: int, rng) -> dict[str, pd.DataFrame]:
    """``days`` days of runs of ``modules`` modules in ten categories (random levels)."""
    times = pd.date_range(first, periods=days * runs_per_day, freq=pd.Timedelta(days=1) / runs_per_day)
    names = [f"module_{i:03d}" for i in range(modules)]
    categories = [f"category_{i}" for i in range(10)]
    pick = rng.integers(0, len(OUTCOMES), len(times) * modules)
    run_ids = times.strftime("%Y%m%dT%H%M%S")
    codes = np.arange(modules)
    status = pd.DataFrame(
        {
            "run_id": pd.Categorical.from_codes(np.repeat(np.arange(len(times)), modules), run_ids),
            "time": np.repeat(times.values, modules),
            "category": pd.Categorical.from_codes(np.tile(codes % 10, len(times)), categories),
            "module": pd.Categorical.from_codes(np.tile(codes, len(times)), names),
            "title": pd.Categorical.from_codes(np.tile(codes, len(times)), [n.replace("_", " ") for n in names]),
            "status": STATUS[pick],
            "level": pd.Categorical.from_codes(OUTCOMES[pick], LEVELS),
            "message": "synthetic",
        }
    )
    runs = pd.DataFrame({"run_id": run_ids, "time": times, "start": times})
    return {"module_status": status, "runs": runs}


def build_year_store(
    root,
    days: int = 365,
    modules: int = 100,
    runs_per_day: int = 96,
    first: pd.Timestamp = pd.Timestamp("2025-03-01"),
    chunk_days: int = 61,
    durable: bool = False,
) -> Path:
    """A year of ``runs_per_day`` runs of ``modules`` modules, one file per table and day.

    ``durable=False`` skips the writer's fsyncs (a throw-away test store; on a slow disk they are
    most of the time): the files and the manifest are the same.
    """
    root = Path(root)
    rng = np.random.default_rng(7)
    with contextlib.ExitStack() as stack:
        if not durable:
            stack.enter_context(mock.patch("os.fsync", lambda fd: None))
        with StoreWriter(root) as writer:
            for start in range(0, days, chunk_days):
                writer.write(
                    year_frames(
                        first + pd.Timedelta(days=start), min(chunk_days, days - start), modules, runs_per_day, rng
                    )
                )
    return root


# -- modules that run at different intervals -------------------------------------------------------
#: runs every 15 minutes from 06:00 to 10:00; the runner runs each module when it is due
INTERVAL_TIMES = list(pd.date_range(DAY + pd.Timedelta(hours=6), DAY + pd.Timedelta(hours=10), freq="15min"))
#: module → (interval, health, title); ``flaky`` is due every run but was not run at 08:00 and 08:15
INTERVAL_MODULES = {
    "quarter": ("15m", 1.0, "Every 15 minutes: SAM tests of the CEs"),
    "half": ("30m", 1.0, "Every 30 minutes: dCache pools"),
    "hourly": ("1h", 0.5, "Hourly: HTCondor queue on all submit hosts"),
    "flaky": ("15m", 1.0, "Flaky: a collector not run twice"),
}
FLAKY_GAP = [DAY + pd.Timedelta(hours=8), DAY + pd.Timedelta(hours=8, minutes=15)]


def interval_config(store: Path, without=()):
    modules = [
        {
            "name": name,
            "title": title,
            "category": "jobs",
            "collector": "fake",
            "params": {"health": health},
            "interval": interval,
        }
        for name, (interval, health, title) in INTERVAL_MODULES.items()
        if name not in without
    ]
    return parse_config(
        {
            "site": {"name": "DEMO-T2"},
            "store": str(store),
            "categories": [{"name": "jobs", "title": "Batch system"}],
            "modules": modules,
        }
    )


def build_interval_store(root) -> Path:
    """Modules every 15 minutes, 30 minutes and an hour in 15-minute runs through the real runner
    (not forced: each module runs when it falls due), and a 15-minute module skipped in two runs
    (left out of the configuration then, as when its collector was not run)."""
    root = Path(root)
    with StoreWriter(root) as writer:
        for when in INTERVAL_TIMES:
            config = interval_config(root, without=("flaky",) if when in FLAKY_GAP else ())
            Runner(config).run_once(writer, now=when)
    return root
