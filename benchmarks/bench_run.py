"""One collect run of the demo site (29 modules, real HTTP to the local simulator, 8 probe
subprocesses): hfpanel's concurrent runner against the same modules run one after another, as
HappyFace did. Usage: python benchmarks/bench_run.py [--runs 10]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from hfpanel.config import load_config
from hfpanel.demo.simulator import Simulator
from hfpanel.demo.site import write_demo_config
from hfpanel.runner import Runner, execute
from hfpanel.store import StoreWriter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hfpanel-bench-run-"))
    start = pd.Timestamp("2026-11-01")
    with Simulator(start=start.to_pydatetime()) as sim:
        config = load_config(write_demo_config(root / "site.yaml", sim.serve("127.0.0.1", 0), str(root / "store")))
        sim.clock = (start + pd.Timedelta(hours=10)).to_pydatetime()
        runner, ours, writes = Runner(config), [], []
        with StoreWriter(config.store) as writer:
            original = writer.write

            def timed_write(tables):
                t = time.perf_counter()
                original(tables)
                writes.append(time.perf_counter() - t)

            writer.write = timed_write
            for i in range(args.runs):
                t = time.perf_counter()
                runner.run_once(writer, now=start + pd.Timedelta(hours=10, minutes=15 * i), force=True)
                ours.append(time.perf_counter() - t)
        sequential = []
        for _ in range(max(3, args.runs // 3)):
            t = time.perf_counter()
            for module in config.modules:
                execute(module)
            sequential.append(time.perf_counter() - t)
    ms = statistics.median(ours) * 1000
    peer = statistics.median(sequential) * 1000
    print(f"demo site: {len(config.modules)} modules, {args.runs} runs, 2 cores")
    print(f"{'operation':<44} {'hfpanel ms':>11} {'peer':<40} {'peer ms':>8} {'ratio':>6}")
    print(
        f"{'one whole run (fetch, parse, rate, commit)':<44} {ms:>11.0f} "
        f"{'the same modules one after another':<40} {peer:>8.0f} {peer / ms:>5.1f}x"
    )
    print(f"{'  of which the atomic commit':<44} {statistics.median(writes) * 1000:>11.0f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
