"""DuckDB against Spark local[2] on the same store and the same SQL, and the MONIT day import.

In one run: for each size (default 5 M and 50 M raw FTS transfers over 30 days) the 10-minute
statistics query (``sql/transfer_stats_10m.sql``, all rows to Arrow) on DuckDB and on Spark, and
a full ``recompute`` (every statistic, written back through the StoreWriter) on both; then the
import of a simulated MONIT day (gzipped JSON documents, FTS completions) through plain Python and
through Spark. Peak memory is the highest resident set size of this process *and its children*
(Spark's JVM and Python workers) above the level before the step, sampled every 20 ms. Store size
on disk per row is printed for the capacity plan (docs/scaling.md).

Usage: python benchmarks/bench_spark.py [--sizes 5000000,50000000] [--days 30] [--documents 400000]
       [--spark-memory 6g] [--work DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from bench_transfers import build  # noqa: E402

from hfpanel.store import Store  # noqa: E402
from hfpanel.transfers import synthetic  # noqa: E402
from hfpanel.transfers.aggregate import recompute  # noqa: E402
from hfpanel.transfers.compute import sql_text  # noqa: E402
from hfpanel.transfers.engine import DuckEngine, SparkEngine, spark_session  # noqa: E402
from hfpanel.transfers.generate import fts_complete_bodies  # noqa: E402
from hfpanel.transfers.importers.monit import import_days  # noqa: E402
from hfpanel.transfers.sites import SiteResolver  # noqa: E402


def tree_rss() -> int:
    me = psutil.Process()
    total = 0
    for process in [me] + me.children(recursive=True):
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def measured(func):
    """(seconds, peak MB of this process tree above the start, load average before, result)."""
    load = os.getloadavg()[0]
    base, top, done = tree_rss(), [0], threading.Event()

    def watch():
        while not done.wait(0.02):
            top[0] = max(top[0], tree_rss())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return seconds, (max(top[0], tree_rss()) - base) / 2**20, load, result


def stats_10m(engine, files, resolver):
    """The 10-minute statistics of every raw row, to Arrow, as compute.py runs it."""
    engine.files("fts_complete", files)
    engine.view("fts_attempts", sql_text("fts_attempts"))
    hosts = engine.query("SELECT src_hostname FROM fts_attempts UNION SELECT dst_hostname FROM fts_attempts")
    engine.table("host_sites", resolver.relation(hosts.column(0).to_pylist()))
    result = engine.query(sql_text("transfer_stats_10m"))
    engine.forget()
    return result


def disk_bytes(root: Path, table: str) -> int:
    return sum((root / p).stat().st_size for p in Store(root).parts(table))


def monit_day(folder: Path, documents: int, files: int) -> Path:
    """``documents`` FTS completions of 2026-03-10 as a MONIT archive day of ``files`` gzipped files."""
    day = folder / "2026" / "03" / "10"
    day.mkdir(parents=True, exist_ok=True)
    bodies = fts_complete_bodies(documents, seed=7)
    per_file = -(-documents // files)
    for index in range(files):
        lines = []
        for n, body in enumerate(bodies[index * per_file : (index + 1) * per_file]):
            data = json.loads(body[:-1])
            ms = data.get("tr_timestamp_complete") or 1_773_129_600_000
            metadata = {
                "producer": "fts",
                "type": "complete",
                "timestamp": ms + 300,
                "kafka_timestamp": ms + 900,
                "_id": f"{index}-{n}",
            }
            lines.append(json.dumps({"data": data, "metadata": metadata}))
        (day / f"part-{index:05d}.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), 6))
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="5000000,50000000")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--documents", type=int, default=400_000, help="MONIT documents to import (a fraction of a day)"
    )
    parser.add_argument("--spark-memory", default="6g")
    parser.add_argument("--work", help="folder for the stores (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="hfpanel-bench-spark-"))
    resolver = SiteResolver.from_config(synthetic.site_map())
    results = []
    spark = spark_session("local[2]", {"spark.driver.memory": args.spark_memory}, app="hfpanel-bench")
    spark_engine, duck = SparkEngine(spark), DuckEngine()
    print(f"{os.cpu_count()} cores; Spark {spark.version} local[2], driver memory {args.spark_memory}", flush=True)
    for rows in (int(s) for s in args.sizes.split(",") if s.strip()):
        root = work / f"raw-{rows}"
        if not (root / "_manifest.json").exists():
            built = build(root, rows, args.days)
            print(f"built {rows:,} rows in {built:.0f}s", flush=True)
        size = disk_bytes(root, "fts_complete")
        print(f"{rows:,} rows: fts_complete {size / 2**20:.0f} MiB on disk, {size / rows:.1f} B/row", flush=True)
        files = [str(root / p) for p in Store(root).parts("fts_complete")]
        for name, engine in (("duckdb", duck), ("spark local[2]", spark_engine)):
            seconds, mb, load, table = measured(lambda: stats_10m(engine, files, resolver))
            results.append(
                (
                    f"10-min stats query, {rows:,} rows ({table.num_rows:,} groups)",
                    name,
                    seconds,
                    mb,
                    load,
                    rows / seconds,
                )
            )
            print(results[-1], flush=True)
        for name, engine in (("duckdb", None), ("spark local[2]", spark_engine)):
            seconds, mb, load, _ = measured(lambda: recompute(root, "2026-01-01", resolver=resolver, engine=engine))
            results.append(
                (f"recompute (all statistics, written), {rows:,} rows", name, seconds, mb, load, rows / seconds)
            )
            print(results[-1], flush=True)
        stats = sum(disk_bytes(root, t) for t in ("transfer_stats_10m", "transfer_errors_10m", "transfer_stats_1d"))
        print(f"statistics of {rows:,} rows: {stats / 2**20:.1f} MiB on disk", flush=True)

    source = monit_day(work / "monit", args.documents, files=8)
    archive = sum(p.stat().st_size for p in (source / "2026" / "03" / "10").iterdir())
    print(f"MONIT day: {args.documents:,} documents, {archive / 2**20:.0f} MiB gzipped", flush=True)
    for name, engine in (("python (duckdb engine)", duck), ("spark local[2]", spark_engine)):
        store = work / f"import-{name.split()[0]}"
        shutil.rmtree(store, ignore_errors=True)
        seconds, mb, load, summary = measured(
            lambda: import_days(store, str(source), ["2026-03-10"], "fts_complete", engine)
        )
        assert summary.stored == args.documents, summary
        results.append(
            (f"MONIT import, {args.documents:,} documents", name, seconds, mb, load, args.documents / seconds)
        )
        print(results[-1], flush=True)
    spark.stop()

    print(f"\n{'operation':<58} {'engine':<24} {'s':>8} {'peak MB':>8} {'load':>5} {'rows/s':>10}")
    for operation, name, seconds, mb, load, rate in results:
        print(f"{operation:<58} {name:<24} {seconds:>8.1f} {mb:>8.0f} {load:>5.1f} {rate:>10,.0f}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
