"""Parse benchmark of the ``rucio_rules`` collector against a naive peer, in one process.

The payload is the recorded x-json-stream of ``GET /rules/`` (tests/fixtures/rucio/rucio_rules.ndjson,
8 rules in all six states) repeated N times with fresh rule ids: 100x is 800 rules, 1250x is 10,000.
``hfpanel`` is ``RucioRulesCollector.parse`` (validation, times, ages, both tables, metrics); the
naive peer is what one writes first: ``json.loads`` per line, ``pandas.DataFrame`` of the dicts,
``value_counts`` of the state (no validation, no times, no ages, one table).
Time is the median of several runs without tracing; peak memory comes from a separate run under
``tracemalloc`` (Python allocations, pandas' buffers included).
Usage: python benchmarks/bench_parse_rucio.py [--copies 100 1250 12500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from collectors.rucio_rules import RucioRulesCollector

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rucio" / "rucio_rules.ndjson"


def payload(copies: int) -> bytes:
    rules = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    lines = []
    for copy in range(copies):
        for number, rule in enumerate(rules):
            lines.append(json.dumps({**rule, "id": f"{copy:024x}{number:08x}"}))
    return ("\n".join(lines) + "\n").encode()


def naive(data: bytes):
    rules = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    frame = pd.DataFrame(rules)
    return frame, frame["state"].value_counts()


def measure(func, data: bytes, repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` runs, then the peak traced MiB of one more run."""
    func(data)  # warm-up: imports, caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(data)
        samples.append(time.perf_counter() - start)
    tracemalloc.start()
    func(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(samples), peak / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[100, 1250, 12500])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    collector = RucioRulesCollector(url=FIXTURE.as_uri())
    header = (
        f"{'copies':>7} {'rules':>7} {'MB':>6} | {'hfpanel ms':>10} {'rules/s':>9} {'peak MiB':>8} | "
        f"{'naive ms':>8} {'rules/s':>9} {'peak MiB':>8} | {'time ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    for copies in args.copies:
        data = payload(copies)
        result = collector.parse(data)
        rules = int(result.metrics["total"])
        assert rules == 8 * copies and result.tables["states"]["count"].sum() == rules
        ours, our_peak = measure(collector.parse, data, args.repeat)
        peer, peer_peak = measure(naive, data, args.repeat)
        print(
            f"{copies:>7} {rules:>7} {len(data) / 1e6:>6.1f} | {ours * 1000:>10.1f} {rules / ours:>9,.0f} "
            f"{our_peak:>8.1f} | {peer * 1000:>8.1f} {rules / peer:>9,.0f} {peer_peak:>8.1f} | "
            f"{ours / peer:>9.2f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
