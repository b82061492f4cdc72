"""Run every benchmark in turn (each prints its own table); numbers go into docs/benchmarks.md."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    for script, args in (
        ("bench_store.py", ["--days", "365"]),
        ("bench_run.py", []),
        ("bench_components.py", ["--days", "365"]),
        ("bench_parse_sam_hc.py", []),
        ("bench_parse_grid.py", []),
        ("bench_parse_rucio.py", []),
        ("bench_demo_backfill.py", ["--repeat", "3"]),
    ):
        print(f"== {script} {' '.join(args)}", flush=True)
        sys.argv = [str(HERE / script), *args]
        try:
            runpy.run_path(str(HERE / script), run_name="__main__")
        except SystemExit as done:
            if done.code:
                raise
