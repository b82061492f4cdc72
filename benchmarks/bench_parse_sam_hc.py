"""Parse cost of the ``sam``, ``hammercloud`` and ``hammercloud_monit`` collectors on large payloads,
against a naive peer in the same process (``json.loads`` + ``pandas.json_normalize`` +
``groupby().tail(1)`` / ``value_counts``, no validation, no spelling, no services or availability).

Payloads are the test fixtures scaled up: SAM 100x (1,600 results) and 50,000 results (a VO-wide
2 h window: 10,000 host x flavour x metric keys, 5 runs each, a quarter of them in two versions);
HammerCloud xhr 100x (1,400 sub-jobs, Python ``None`` quirk included); MONIT condor records 100x.
Time is the best of ``--repeat`` runs; peak memory is measured in a separate run with tracemalloc.
Usage: python benchmarks/bench_parse_sam_hc.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from collectors.hammercloud import HammerCloudCollector, HammerCloudMonitCollector
from collectors.sam import SamCollector

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def sam_payload(results: int) -> bytes:
    doc = json.loads((FIXTURES / "sam" / "sam_results.json").read_text())
    base = doc["responses"][0]["hits"]["hits"]
    hosts = max(1, results // (len(base) * 5))  # host variants per fixture host; 5 runs per key
    hits = []
    for n in range(results):
        hit = copy.deepcopy(base[n % len(base)])
        variant, run = divmod(n // len(base), 5)
        meta, data = hit["_source"]["metadata"], hit["_source"]["data"]
        data["dst_hostname"] = f"{variant % hosts:04d}-{data['dst_hostname']}"
        meta["timestamp"] = data["timestamp"] = meta["timestamp"] - run * 1_200_000
        meta["kafka_timestamp"] = meta["timestamp"] + 30_000 + (variant // hosts) * 60_000  # later versions
        hit["sort"] = [meta["timestamp"], meta["kafka_timestamp"]]
        hits.append(hit)
    doc["responses"][0]["hits"] = {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}
    return json.dumps([doc]).encode()  # what fetch() returns: a list of pages


def hc_payload(factor: int) -> bytes:
    doc = json.loads((FIXTURES / "hammercloud" / "hammercloud.json").read_text())
    results = []
    for n in range(factor):
        for r in doc["20451137"]["results"]:
            results.append({**r, "id": r["id"] + n * 100, "site": f"{r['site']}_{n % 20}"})
    text = json.dumps({"20451137": {"results": results}}).replace("null", "None")  # the quirk, everywhere
    return json.dumps([{"test": "20451137", "body": text}]).encode()


def monit_payload(factor: int) -> bytes:
    doc = json.loads((FIXTURES / "hammercloud" / "hammercloud_monit_condor.json").read_text())
    base = doc["responses"][0]["hits"]["hits"]
    hits = []
    for n in range(factor):
        for hit in base:
            hit = copy.deepcopy(hit)
            hit["_source"]["data"]["GlobalJobId"] += f"-{n}"
            hits.append(hit)
    doc["responses"][0]["hits"]["hits"] = hits
    return json.dumps([doc]).encode()


def naive_sam(payload: bytes):
    pages = json.loads(payload)
    frame = pd.json_normalize([h for p in pages for r in p["responses"] for h in r["hits"]["hits"]])
    frame = frame.sort_values(["_source.metadata.timestamp", "_source.metadata.kafka_timestamp"])
    keys = ["_source.data.dst_hostname", "_source.data.service_flavour", "_source.data.metric_name"]
    return frame.groupby(keys).tail(1)


def naive_hc(payload: bytes):
    answers = json.loads(payload)
    docs = [json.loads(a["body"].replace("None", "null")) for a in answers]  # also inside strings: wrong, but naive
    frame = pd.json_normalize([r for d in docs for test in d.values() for r in test["results"]])
    return frame.groupby("site")["ganga_status"].value_counts().unstack(fill_value=0)


def naive_monit(payload: bytes):
    pages = json.loads(payload)
    frame = pd.json_normalize([h for p in pages for r in p["responses"] for h in r["hits"]["hits"]])
    frame = frame.sort_values("_source.data.RecordTime").groupby("_source.data.GlobalJobId").tail(1)
    return frame.groupby("_source.data.Site")["_source.data.Status"].value_counts()


def measure(parse, payload: bytes, repeat: int) -> tuple[float, float]:
    best = min(_timed(parse, payload) for _ in range(repeat))
    tracemalloc.start()
    parse(payload)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak / 1e6


def _timed(parse, payload) -> float:
    started = time.perf_counter()
    parse(payload)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    cases = [
        ("sam 100x", 1_600, sam_payload(1_600), SamCollector(vo="cms").parse, naive_sam),
        ("sam 50k", 50_000, sam_payload(50_000), SamCollector(vo="cms").parse, naive_sam),
        ("hammercloud 100x", 1_400, hc_payload(100), HammerCloudCollector(tests=[20451137]).parse, naive_hc),
        ("hammercloud_monit 100x", 600, monit_payload(100), HammerCloudMonitCollector().parse, naive_monit),
    ]
    print(f"{'payload':24} {'rows':>7} {'MB':>6} | {'parser':8} {'time ms':>9} {'rows/s':>11} {'peak MB':>8}")
    print("-" * 84)
    for name, rows, payload, ours, naive in cases:
        result = ours(payload)
        assert result.tables["results"] is not None
        for label, parse in (("hfpanel", ours), ("naive", naive)):
            seconds, peak = measure(parse, payload, args.repeat)
            print(
                f"{name:24} {rows:>7,} {len(payload) / 1e6:>6.1f} | {label:8} {seconds * 1e3:>9.1f} "
                f"{rows / seconds:>11,.0f} {peak:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
