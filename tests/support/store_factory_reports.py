"""Stores for the report tests, through the real runner: a day of hourly runs whose levels follow a
script (the WLCG worked example by default), with an availability profile in the configuration.

    info = build_ar_store(tmp_path / "store")
    info.day        # 2026-11-03, the day of the runs (00:00 … 23:00)

``sam_ce`` follows ``script`` (one letter per hour: o ok, w warning, c critical, n no information),
``sam_ce2`` is always fine, ``sam_srm`` follows ``srm`` (default: always fine). Profile ``wlcg``:
CE = sam_ce OR sam_ce2 from ``or_from`` (before it: sam_ce alone), SE = sam_srm, site = CE AND SE.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import store_factory  # noqa: F401  (registers the "fake" collector)

from hfpanel.config import parse_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

DAY = pd.Timestamp("2026-11-03")
#: the published worked example: 5 h ok, 9 h critical, 6 h unknown, then 4 h (critical, in a downtime)
WORKED_EXAMPLE = "o" * 5 + "c" * 9 + "n" * 6 + "c" * 4
SPEC = {"o": {"health": 1.0}, "w": {"health": 0.5}, "c": {"health": 0.1}, "n": {"fail": "connection refused"}}


def ar_config(root: Path, ce: dict, ce2: dict, srm: dict, or_from: str | None = None, extra_modules=()):
    return parse_config(ar_config_data(root, ce, ce2, srm, or_from, extra_modules))


def ar_config_data(root: Path, ce: dict, ce2: dict, srm: dict, or_from: str | None = None, extra_modules=()) -> dict:
    """The configuration as the YAML mapping (``ar_config`` parses it)."""
    ce_group = {"name": "CE", "combine": "or", "modules": ["sam_ce", "sam_ce2"]}
    profiles = [
        {
            "name": "wlcg",
            "from": "2026-10-01",
            "groups": [{"name": "CE", "modules": ["sam_ce"]}, {"name": "SE", "modules": ["sam_srm"]}],
        }
    ]
    if or_from:
        profiles.append({"name": "wlcg", "from": or_from, "groups": [ce_group, {"name": "SE", "modules": ["sam_srm"]}]})
    module = lambda name, category, params, **extra: {  # noqa: E731
        "name": name,
        "category": category,
        "collector": "fake",
        "params": params,
        "interval": "1h",
        "max_age": "90m",
        **extra,
    }
    return {
        "site": {"name": "T2_XX_TEST"},
        "store": str(root),
        "categories": [{"name": "availability"}, {"name": "storage"}],
        "modules": [
            module("sam_ce", "availability", ce, hosts=["ce1.example.org"]),
            module("sam_ce2", "availability", ce2),
            module("sam_srm", "storage", srm, hosts=["se1.example.org"]),
            *extra_modules,
        ],
        "availability": {"profiles": profiles},
    }


@dataclasses.dataclass
class ARStore:
    root: Path
    day: pd.Timestamp
    times: list[pd.Timestamp]


def build_ar_store(root, script: str = WORKED_EXAMPLE, srm: str | None = None, or_from: str | None = None) -> ARStore:
    root = Path(root)
    srm = srm or "o" * len(script)
    times = [DAY + pd.Timedelta(hours=i) for i in range(len(script))]
    with StoreWriter(root) as writer:
        runner = None
        for when, ce, se in zip(times, script, srm):
            config = ar_config(root, SPEC[ce], {"health": 1.0}, SPEC[se], or_from)
            runner = Runner(config)
            runner.run_once(writer, now=when, force=True)
    return ARStore(root, DAY, times)
