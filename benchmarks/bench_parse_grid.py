"""Parse time of the grid collectors (HTCondor, dCache, GOCDB, CRIC) on payloads 100x their test
fixtures (plus a 100k-job condor_q, a large CE's queue), against a naive peer in the same process:
``json.loads`` + ``pandas.DataFrame`` for the JSON sources, an ``xml.etree`` loop for GOCDB. The
collectors do more (validation with readable reasons, derived columns, metrics), so the question is
what that costs. Times are the best of ``--repeat`` interleaved runs. Peak memory is tracemalloc's peak during one parse (Python allocations; pandas
and lxml buffers allocated outside Python's allocator are partly invisible to it).

Usage: python benchmarks/bench_parse_grid.py [--scale 100] [--jobs 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from collectors.cric import CricTopologyCollector
from collectors.dcache import DCachePoolsCollector
from collectors.gocdb import GocdbDowntimeCollector
from collectors.htcondor import CondorJobsCollector, CondorSlotsCollector

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def read_json(path: str):
    return json.loads((FIXTURES / path).read_text())


def condor_listing(ads: list[dict], count: int) -> bytes:
    """``count`` ads cycled from ``ads`` with unique job ids, in condor's own -json layout."""
    out = []
    for i in range(count):
        ad = dict(ads[i % len(ads)])
        ad["ClusterId"] = 1_000_000 + i
        out.append(json.dumps(ad, indent=2))
    return ("[\n" + "\n,\n".join(out) + "\n]\n").encode()


def dcache_payload(scale: int) -> tuple[bytes, int]:
    listing = read_json("dcache/dcache_pools.json")
    docs = [read_json("dcache/dcache_pool_usage.json"), read_json("dcache/dcache_pool_usage_disabled.json")]
    pools = [{**pool, "name": f"{pool['name']}-{k}"} for k in range(scale) for pool in listing]
    usage = {pool["name"]: docs[i % 2] for i, pool in enumerate(pools)}
    return json.dumps({"pools": pools, "usage": usage}).encode(), len(pools)


def gocdb_payload(name: str, scale: int) -> tuple[bytes, int]:
    root = ET.fromstring((FIXTURES / "gocdb" / name).read_bytes())
    out = ET.Element("results")
    for k in range(scale):
        for element in root.findall("DOWNTIME"):
            clone = copy.deepcopy(element)
            clone.set("ID", str(int(element.get("ID")) + 100_000 * (k + 1)))
            out.append(clone)
    rows = len(out.findall("DOWNTIME/SERVICES/SERVICE")) or len(out)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(out), rows


def cric_payload(name: str, scale: int) -> tuple[bytes, int]:
    doc = read_json(f"cric/{name}")
    big = {f"{key}_{k}": {**value, "name": f"{value['name']}_{k}"} for k in range(scale) for key, value in doc.items()}
    return json.dumps(big).encode(), len(big)


# -- naive peers: what one would write in a notebook -------------------------------------------
def naive_condor(payload: bytes):
    frame = pd.DataFrame(json.loads(payload))
    return frame, frame["JobStatus"].value_counts() if "JobStatus" in frame else frame["State"].value_counts()


def naive_dcache(payload: bytes):
    doc = json.loads(payload)
    return pd.json_normalize(list(doc["usage"].values()))


def naive_gocdb(payload: bytes):
    rows = []
    for element in ET.fromstring(payload).iter("DOWNTIME"):
        record = dict(element.attrib)
        record.update({child.tag: child.text for child in element})
        for service in element.iter("SERVICE"):
            rows.append({**record, **{child.tag: child.text for child in service}})
        if element.find("SERVICES") is None:
            rows.append(record)
    return pd.DataFrame(rows)


def naive_cric(payload: bytes):
    return pd.DataFrame.from_dict(json.loads(payload), orient="index")


def measure(ours, naive, payload: bytes, repeat: int) -> list[tuple[float, float]]:
    """Best-of-``repeat`` seconds of each parser, runs interleaved so that a busy machine hurts both
    alike, then the tracemalloc peak (MB) of one more run of each."""
    times = ([], [])
    for _ in range(repeat):
        for function, out in zip((ours, naive), times):
            started = time.perf_counter()
            function(payload)
            out.append(time.perf_counter() - started)
    results = []
    for function, out in zip((ours, naive), times):
        tracemalloc.start()
        function(payload)
        results.append((min(out), tracemalloc.get_traced_memory()[1] / 1e6))
        tracemalloc.stop()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="payload size as a multiple of the fixture")
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the large condor_q case")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    q, status = read_json("htcondor/condor_q.json"), read_json("htcondor/condor_status.json")
    cases = [  # name, payload, rows, collector parse, naive peer
        (
            f"htcondor_jobs {args.scale}x",
            condor_listing(q, len(q) * args.scale),
            len(q) * args.scale,
            CondorJobsCollector(url="file:///x").parse,
            naive_condor,
        ),
        (
            f"htcondor_jobs {args.jobs // 1000}k jobs",
            condor_listing(q, args.jobs),
            args.jobs,
            CondorJobsCollector(url="file:///x").parse,
            naive_condor,
        ),
        (
            f"htcondor_slots {args.scale}x",
            condor_listing(status, len(status) * args.scale),
            len(status) * args.scale,
            CondorSlotsCollector(url="file:///x").parse,
            naive_condor,
        ),
        (f"dcache_pools {args.scale}x", *dcache_payload(args.scale), DCachePoolsCollector(url="x").parse, naive_dcache),
        (
            f"gocdb flat {args.scale}x",
            *gocdb_payload("gocdb_downtime.xml", args.scale),
            GocdbDowntimeCollector(url="x").parse,
            naive_gocdb,
        ),
        (
            f"gocdb nested {args.scale}x",
            *gocdb_payload("gocdb_downtime_nested.xml", args.scale),
            GocdbDowntimeCollector(url="x", nested=True).parse,
            naive_gocdb,
        ),
        (
            f"cric cms_sites {args.scale}x",
            *cric_payload("cric_sites.json", args.scale),
            CricTopologyCollector(kind="cms_sites").parse,
            naive_cric,
        ),
        (
            f"cric atlas_rses {args.scale}x",
            *cric_payload("atlas_cric_ddmendpoints.json", args.scale),
            CricTopologyCollector(kind="atlas_ddmendpoints").parse,
            naive_cric,
        ),
    ]
    print(
        f"{'payload':<24} {'size':>8} {'rows':>7} | {'hfpanel ms':>10} {'rows/s':>9} {'peak MB':>8} | "
        f"{'naive ms':>8} {'rows/s':>9} {'peak MB':>8} | {'ratio':>5}"
    )
    for name, payload, rows, ours, naive in cases:
        (mine, mine_peak), (peer, peer_peak) = measure(ours, naive, payload, args.repeat)
        print(
            f"{name:<24} {len(payload) / 1e6:>6.1f}MB {rows:>7} | {mine * 1e3:>10.1f} {rows / mine:>9.0f} "
            f"{mine_peak:>8.1f} | {peer * 1e3:>8.1f} {rows / peer:>9.0f} {peer_peak:>8.1f} | {mine / peer:>4.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
