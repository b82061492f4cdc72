"""Build small, realistic stores for tests and notebooks, through the real runner and writer.

A ``FakeCollector`` returns what its module parameters say (a ``health`` value, detail rows, a
note, or a failure reason), so each simulated run is simply a config with other parameters:

    from tests.store_factory import build_store
    info = build_store(tmp_path / "store")
    info.times            # the run times, oldest first (naive UTC)
    info.expected[t]      # {module: level} at each run time

The default scenario has three categories and five modules over four runs an hour apart, ending at
the current minute: ``sam_ce`` turns critical in the last run, ``condor_queue`` fails (no
information) from the second run on, ``dcache_pools`` is warning in the second run only, and one
detail cell and one note carry HTML that must be shown escaped.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import param

from hfpanel.clock import utcnow
from hfpanel.collector import Collector, ParseResult, SourceError, register
from hfpanel.config import parse_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

HOSTILE = "<script>alert(1)</script>"


class FakeCollector(Collector):
    """Returns its parameters as the document: no I/O, fully determined by the config."""

    health = param.Number(default=1.0, doc="the metric the default rating looks at")
    note = param.String(default="", doc="appended to the rating's message")
    rows = param.List(default=[], doc="detail rows (dicts)")
    fail = param.String(default="", doc="when set, fetch fails with this reason")
    url = param.String(default="", doc="source link")

    default_rating = {"type": "threshold", "metric": "health", "warning": 0.6, "critical": 0.3}
    payload_suffix = "json"

    def fetch(self) -> bytes:
        if self.fail:
            raise SourceError(self.fail)
        return json.dumps({"health": self.health, "note": self.note, "rows": self.rows}).encode()

    def parse(self, payload: bytes) -> ParseResult:
        doc = json.loads(payload)
        return ParseResult(
            tables={"rows": pd.DataFrame(doc["rows"])}, metrics={"health": doc["health"]}, message=doc["note"]
        )


class PlainCollector(FakeCollector):
    """A fake without a rating rule of its own: fine whenever its data arrives and parses."""

    default_rating = None


register("fake", FakeCollector)

CATEGORIES = [
    {"name": "availability", "title": "Site availability"},
    {"name": "storage", "title": "Storage"},
    {"name": "jobs", "title": "Batch system"},
]
MODULES = {  # name: (category, title, extra module config)
    "sam_ce": (
        "availability",
        "SAM CE tests",
        {
            "instruction": "If critical for more than an hour, open a GGUS ticket.\nCheck the CE log first.",
            "links": [{"title": "SAM dashboard", "url": "https://sam.example.org/ce"}],
        },
    ),
    "sam_srm": ("availability", "SAM SRM tests", {}),
    "dcache_pools": ("storage", "dCache pools", {}),
    "condor_queue": ("jobs", "HTCondor queue", {}),
    "condor_nodes": ("jobs", "Worker nodes", {}),
}
#: per run (oldest first): module -> params (health / fail / note / rows)
DEFAULT_SCENARIO = [
    {
        "sam_ce": {"health": 1.0},
        "sam_srm": {"health": 0.98},
        "dcache_pools": {"health": 0.9},
        "condor_queue": {"health": 0.95},
        "condor_nodes": {"health": 0.97},
    },
    {
        "sam_ce": {"health": 0.95},
        "sam_srm": {"health": 0.97},
        "dcache_pools": {"health": 0.5},
        "condor_queue": {"fail": "connection refused: condor.example.org:9618"},
        "condor_nodes": {"health": 0.96},
    },
    {
        "sam_ce": {"health": 0.9},
        "sam_srm": {"health": 0.99},
        "dcache_pools": {"health": 0.8},
        "condor_queue": {"fail": "connection refused: condor.example.org:9618"},
        "condor_nodes": {"health": 0.9},
    },
    {
        "sam_ce": {"health": 0.1, "note": "3 of 4 CEs failing job submission"},
        "sam_srm": {"health": 0.99},
        "dcache_pools": {"health": 0.85},
        "condor_queue": {"fail": "connection refused: condor.example.org:9618"},
        "condor_nodes": {"health": 0.92, "note": f"node note {HOSTILE}"},
    },
]


def level_of(spec: dict) -> str:
    if spec.get("fail"):
        return "noinfo"
    health = spec.get("health", 1.0)
    return "critical" if health <= 0.3 else "warning" if health <= 0.6 else "ok"


def _rows(module: str, index: int, spec: dict) -> list[dict]:
    """A few detail rows whose content changes per run, so "as of" is checkable."""
    if module == "condor_nodes":
        return [
            {"node": f"wn{n:03d}", "state": "Claimed" if n % 3 else "Unclaimed", "run": index} for n in range(1, 6)
        ] + [{"node": HOSTILE, "state": "Owner", "run": index}]
    if module == "sam_ce":
        return [
            {
                "ce": f"ce{n}.example.org",
                "result": "OK" if spec.get("health", 1) > 0.3 or n == 1 else "CRITICAL",
                "run": index,
            }
            for n in range(1, 5)
        ]
    return [
        {"item": f"{module}-{n}", "value": round(spec.get("health", 1.0) * 100 - n, 1), "run": index}
        for n in range(1, 4)
    ]


def site_config(specs: dict, store: Path, site: str = "TEST-SITE", index: int = 0):
    """The site config of one simulated run."""
    modules = []
    for name, (category, title, extra) in MODULES.items():
        spec = dict(specs.get(name, {}))
        params = {"url": f"https://monitor.example.org/{name}", "rows": _rows(name, index, spec), **spec}
        modules.append(
            {
                "name": name,
                "title": title,
                "category": category,
                "collector": "fake",
                "params": params,
                "interval": "1h",
                "max_age": "90m",
                **extra,
            }
        )
    return parse_config(
        {
            "site": {"name": site, "title": f"{site} (test)"},
            "store": str(store),
            "categories": CATEGORIES,
            "modules": modules,
        }
    )


@dataclasses.dataclass
class StoreInfo:
    root: Path
    times: list[pd.Timestamp]
    expected: dict  # time -> {module: level}
    config: object  # the SiteConfig of the last run (for links and instructions)


def build_store(root, scenario=None, end=None, step=pd.Timedelta(hours=1)) -> StoreInfo:
    """Run ``scenario`` (a list of per-run module params) into a store at ``root``.

    The runs are ``step`` apart and the last one is at ``end`` (default: the current minute, so
    "now" looks fresh).
    """
    root = Path(root)
    scenario = scenario or DEFAULT_SCENARIO
    end = pd.Timestamp(end) if end is not None else utcnow().floor("min")
    times = [end - step * (len(scenario) - 1 - i) for i in range(len(scenario))]
    expected, config = {}, None
    with StoreWriter(root) as writer:
        for index, (when, specs) in enumerate(zip(times, scenario)):
            config = site_config(specs, root, index=index)
            Runner(config).run_once(writer, now=when, force=True)
            expected[when] = {name: level_of(specs.get(name, {})) for name in MODULES}
    return StoreInfo(root=root, times=times, expected=expected, config=config)


if __name__ == "__main__":  # python tests/support/store_factory.py DIR — a store to look at by hand
    import sys

    info = build_store(sys.argv[1] if len(sys.argv) > 1 else "data/test-store")
    print(info.root, [str(t) for t in info.times])
