"""Transfer aggregation benchmark: full 10-minute statistics, an incremental update, a 30-day matrix.

Builds a store of N synthetic raw FTS transfers (default 10 million over 30 days, one commit per
day as an ingest flush would leave them after compaction), then times hfpanel's aggregation
against the obvious peer in the same process: pandas reading the same Parquet files and doing the
same groupby. Peak memory is the highest resident set size above the level before each
measurement, sampled every 5 ms (it sees DuckDB's native memory too).
Usage: python benchmarks/bench_transfers.py [--rows 10000000] [--days 30] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hfpanel.store import Store, StoreWriter
from hfpanel.transfers import synthetic
from hfpanel.transfers.aggregate import COMPACT_PARTS, aggregate, aggregate_into, recompute
from hfpanel.transfers.compute import sql_text
from hfpanel.transfers.engine import DuckEngine
from hfpanel.transfers.sites import SiteResolver

DAY0 = 1_767_225_600  # 2026-01-01
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def measured(func, repeat=1):
    """(median ms, peak MB above the starting RSS, result) of ``func``."""
    samples, peak, result = [], 0, None
    for _ in range(repeat):
        base, top, done = rss(), [0], threading.Event()

        def watch():
            while not done.wait(0.005):
                top[0] = max(top[0], rss())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        start = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - start)
        done.set()
        watcher.join()
        peak = max(peak, max(top[0], rss()) - base)
    return statistics.median(samples) * 1000, peak / 2**20, result


def build(root: Path, rows: int, days: int) -> float:
    start = time.perf_counter()
    with StoreWriter(root) as writer:
        for day in range(days):
            generation = writer.next_generation
            writer.write(
                {
                    "fts_complete": synthetic.fts_complete(
                        rows // days, DAY0 + day * 86400, 86400, commit=generation, seed=day, key_offset=day * rows
                    )
                }
            )
    return time.perf_counter() - start


def pandas_10m(files, resolver: SiteResolver) -> pd.DataFrame:
    """The naive peer: read the columns, map hosts to sites, one groupby."""
    frame = pd.read_parquet(
        files,
        columns=[
            "t",
            "src_hostname",
            "dst_hostname",
            "vo",
            "activity",
            "success",
            "bytes",
            "transfer_ms",
            "error_scope",
        ],
    )
    hosts = pd.unique(pd.concat([frame["src_hostname"], frame["dst_hostname"]]))
    sites = {h: resolver.label(h) for h in hosts}
    ok = frame["success"].to_numpy()
    scope = frame["error_scope"].to_numpy()
    frame = pd.DataFrame(
        {
            "t": frame["t"] - frame["t"] % 600,
            "src_site": frame["src_hostname"].map(sites),
            "dst_site": frame["dst_hostname"].map(sites),
            "vo": frame["vo"],
            "activity": frame["activity"],
            "transfers": 1,
            "successes": ok.astype(np.int64),
            "failures": (~ok).astype(np.int64),
            "bytes": frame["bytes"],
            "duration_ms": frame["transfer_ms"],
            "failures_source": (~ok & (scope == "SOURCE")).astype(np.int64),
            "failures_destination": (~ok & (scope == "DESTINATION")).astype(np.int64),
            "failures_transfer": (~ok & (scope == "TRANSFER")).astype(np.int64),
            "failures_other": (~ok & ~np.isin(scope, ["SOURCE", "DESTINATION", "TRANSFER"])).astype(np.int64),
        }
    )
    return frame.groupby(["t", "src_site", "dst_site", "vo", "activity"], sort=False).sum().reset_index()


def duck_10m(files, resolver: SiteResolver) -> pa.Table:
    """Only our 10-minute statistics query (the same work as the peer), all rows."""
    engine = DuckEngine()
    engine.files("fts_complete", files)
    engine.view("fts_attempts", sql_text("fts_attempts"))
    hosts = engine.query("SELECT src_hostname FROM fts_attempts UNION SELECT dst_hostname FROM fts_attempts")
    engine.table("host_sites", resolver.relation(hosts.column(0).to_pylist()))
    result = engine.query(sql_text("transfer_stats_10m"))
    engine.close()
    return result


MATRIX = (
    "SELECT src_site, dst_site, sum(transfers) AS transfers, sum(successes) AS successes, sum(bytes) AS bytes, "
    "sum(bytes) / nullif(sum(duration_ms) / 1000, 0) AS throughput FROM {table} GROUP BY ALL"
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--store", help="reuse or build the raw store here (default: a temporary folder)")
    args = parser.parse_args(argv)
    root = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-transfers-"))
    built = build(root, args.rows, args.days) if not (root / "_manifest.json").exists() else 0.0
    resolver = SiteResolver.from_config(synthetic.site_map())
    files = [str(root / p) for p in Store(root).parts("fts_complete")]
    rows = []

    ms, mb, ours = measured(lambda: duck_10m(files, resolver), repeat=3)
    peer_ms, peer_mb, theirs = measured(lambda: pandas_10m(files, resolver))
    assert ours.num_rows == len(theirs) and int(theirs["bytes"].sum()) == sum(ours.column("bytes").to_pylist())
    rows.append(
        (
            f"10-minute stats query, {args.rows:,} raw ({ours.num_rows:,} groups)",
            ms,
            mb,
            "pandas read + map + groupby",
            peer_ms,
            peer_mb,
        )
    )
    ms, mb, summary = measured(lambda: aggregate(root, resolver=resolver))
    rows.append(("full first run: 10m + errors + 1d, written", ms, mb, "(same peer)", peer_ms, peer_mb))
    ms, mb, _ = measured(lambda: recompute(root, "2026-01-01", resolver=resolver))
    rows.append(("recompute --since (all days)", ms, mb, "(same peer)", peer_ms, peer_mb))

    last_day = DAY0 + (args.days - 1) * 86400
    per_bin = max(1, args.rows // args.days // 144)
    batches = iter(range(1000))

    def new_bin(writer):  # one new 10-minute bin of transfers, plus 1% late arrivals earlier that day
        batch = next(batches)
        g = writer.next_generation
        fresh = synthetic.fts_complete(
            per_bin, last_day + 143 * 600, 600, commit=g, seed=500 + batch, key_offset=(2000 + batch) * args.rows
        )
        late = synthetic.fts_complete(
            max(1, per_bin // 100),
            last_day,
            86400 - 600,
            commit=g,
            seed=900 + batch,
            key_offset=(3000 + batch) * args.rows,
        )
        writer.write({"fts_complete": pa.concat_tables([fresh, late])})

    samples, held = [], []
    for _ in range(5):
        with StoreWriter(root) as writer:
            new_bin(writer)
        samples.append(measured(lambda: aggregate(root, resolver=resolver)))
    with StoreWriter(root) as writer:  # as the ingest daemon runs it: the writer stays open
        for _ in range(2 * COMPACT_PARTS):
            new_bin(writer)
            held.append(measured(lambda: aggregate_into(writer, resolver)))
    assert all(s[2].mode == {"fts_complete": "delta"} for s in samples + held)
    plain = [s for s in held if not s[2].folded]
    folds = [s for s in held if s[2].folded]
    ms, mb = statistics.median(s[0] for s in samples), max(s[1] for s in samples)
    held_ms, held_mb = statistics.median(s[0] for s in plain), max(s[1] for s in plain)
    day_files = [
        str(root / p)
        for p in Store(root).parts("fts_complete")
        if "day=" + time.strftime("%Y-%m-%d", time.gmtime(last_day)) in p
    ]
    peer_ms, peer_mb, _ = measured(lambda: pandas_10m(day_files, resolver), repeat=3)
    rows.append(
        (
            f"incremental update: {per_bin:,} new + {per_bin // 100} late rows",
            ms,
            mb,
            "pandas: recompute that day",
            peer_ms,
            peer_mb,
        )
    )
    rows.append(
        (
            f"  same, writer held (daemon), {len(plain)} runs",
            held_ms,
            held_mb,
            "pandas: recompute that day",
            peer_ms,
            peer_mb,
        )
    )
    if folds:
        fold_ms, fold_mb = statistics.median(s[0] for s in folds), max(s[1] for s in folds)
        rows.append(
            (
                f"  a run that also folds the day ({len(folds)} of {len(held)} runs)",
                fold_ms,
                fold_mb,
                "pandas: recompute that day",
                peer_ms,
                peer_mb,
            )
        )

    store = Store(root)
    for table in ("transfer_stats_1d", "transfer_stats_10m"):
        ms, mb, matrix = measured(
            lambda: store.sql(MATRIX.format(table=store.scan(table, "2026-01-01", "2026-12-31"))), repeat=5
        )
        stats_files = [str(root / p) for p in store.parts(table)]

        def peer(stats_files=stats_files):
            frame = pd.read_parquet(
                stats_files, columns=["src_site", "dst_site", "transfers", "successes", "bytes", "duration_ms"]
            )
            out = frame.groupby(["src_site", "dst_site"]).sum().reset_index()
            return out.assign(throughput=out["bytes"] / (out["duration_ms"] / 1000).replace(0, np.nan))

        peer_ms, peer_mb, theirs = measured(peer, repeat=3)
        assert len(matrix) == len(theirs)
        rows.append(
            (
                f"{args.days}-day matrix from {table} ({len(matrix)} links)",
                ms,
                mb,
                "pandas read + groupby",
                peer_ms,
                peer_mb,
            )
        )

    print(
        f"raw: {args.rows:,} FTS transfers over {args.days} days (built in {built:.0f}s); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'operation':<58} {'ms':>9} {'peak MB':>8}  {'peer':<30} {'peer ms':>9} {'peak MB':>8} {'ratio':>6}")
    for name, ms, mb, peer, peer_ms, peer_mb in rows:
        print(f"{name:<58} {ms:>9.1f} {mb:>8.0f}  {peer:<30} {peer_ms:>9.1f} {peer_mb:>8.0f} {peer_ms / ms:>5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
