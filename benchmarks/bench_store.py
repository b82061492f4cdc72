"""The store of a big site after a year, against plain DuckDB over the same Parquet files.

Builds (once; ``--store DIR`` keeps and reuses it) a store of ``--modules`` modules (default 1,000)
over ``--days`` days (default 365) of 15-minute runs: statuses, category statuses, metrics and runs
for every run, in the layout compaction leaves (one file per table and day, sorted by module), and
for the last ``--detail-days`` days (default 2) every run's real detail tables and raw payloads
(benchmarks/realistic.py: the demo site's collectors' output, one table per real detail family,
committed run by run and compacted as the collector does). A year of every detail family at
1,000 modules is ~0.7 billion rows; the reads below touch details only within days.

Each question is answered by hfpanel's ``Store`` and by the strongest simple peer: DuckDB reading
the same files with a glob and a ``day`` filter on the hive partitions (what a user writes without
hfpanel), in this process (warm: median of --repeat) and in a fresh process (cold: interpreter,
imports, opening, the query; median of --cold, as cron or a CLI call would start it).
Also prints the store's size per module-year by table family (what docs/benchmarks.md states).
Usage: python benchmarks/bench_store.py [--modules 1000] [--days 365] [--detail-days 2] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from realistic import demo_run, scaled_run  # noqa: E402

from hfpanel.store import Store, StoreWriter  # noqa: E402
from hfpanel.store.frames import to_arrow  # noqa: E402

LEVELS = np.array(["ok", "warning", "critical", "noinfo"])


def status_day(template: pa.Table, metrics: pa.Table, categories: pa.Table, day: pd.Timestamp, rng) -> dict:
    """A day of 96 runs: every module's status row and metrics per run (values vary, text repeats)."""
    times = pd.date_range(day, periods=96, freq="15min")
    n, m = template.num_rows, metrics.num_rows

    def tiled(table: pa.Table, k: int) -> pa.Table:
        table = pa.concat_tables([table] * len(times)).combine_chunks()
        run_ids = np.repeat([f"{t:%Y%m%dT%H%M%S}-00000000" for t in times], k)
        table = table.set_column(table.column_names.index("run_id"), "run_id", pa.array(run_ids))
        stamps = pa.array(np.repeat(times.values.astype("datetime64[us]"), k))
        return table.set_column(table.column_names.index("time"), "time", stamps)

    status = tiled(template, n)
    codes = rng.choice(4, size=status.num_rows, p=[0.85, 0.07, 0.05, 0.03])
    status = status.set_column(
        status.column_names.index("status"), "status", pa.array(np.array([1.0, 0.5, 0.0, -1.0])[codes])
    )
    status = status.set_column(status.column_names.index("level"), "level", pa.array(LEVELS[codes]))
    values = tiled(metrics, m)
    values = values.set_column(
        values.column_names.index("value"), "value", pa.array(rng.normal(100, 10, values.num_rows))
    )
    runs = pa.table(
        {
            "run_id": [f"{t:%Y%m%dT%H%M%S}-00000000" for t in times],
            "time": pa.array(times.values.astype("datetime64[us]")),
            "modules": pa.array([n] * len(times)),
        }
    )
    return {
        "module_status": status,
        "metrics": values,
        "category_status": tiled(categories, categories.num_rows),
        "runs": runs,
    }


def build(root: Path, modules: int, days: int, detail_days: int) -> float:
    started = time.perf_counter()
    run = demo_run()
    first = pd.Timestamp("2026-01-01")
    template = scaled_run(run, modules, first)
    status, metrics = to_arrow(template["module_status"]), to_arrow(template["metrics"])
    categories = to_arrow(template["category_status"])
    rng = np.random.default_rng(1)
    with StoreWriter(root) as writer:
        for d in range(days - detail_days):
            tables = status_day(status, metrics, categories, first + pd.Timedelta(days=d), rng)
            half = {k: v.slice(0, v.num_rows // 2) for k, v in tables.items()}
            rest = {k: v.slice(v.num_rows // 2) for k, v in tables.items()}
            writer.write(half)
            writer.write(rest)  # two commits, then compacted: the layout the collector leaves
            writer.compact(keep_today=False)
            if d % 30 == 0:
                print(f"  built {d} days in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
        for d in range(days - detail_days, days):
            day = first + pd.Timedelta(days=d)
            for i in range(96):
                writer.write(scaled_run(run, modules, day + pd.Timedelta(minutes=15 * i), d * 96 + i))
            writer.compact(keep_today=False)
            print(f"  built {d + 1} days in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
        writer.collect_garbage(now=time.time() + 3600)
    return time.perf_counter() - started


QUESTIONS = {
    # name: (hfpanel code, peer code); both get root, NOW, PAST, MODULE, DETAIL as globals
    "status of all modules, now": (
        "store.status_at(NOW)",
        "con.sql(f\"SELECT * FROM read_parquet('{root}/module_status/*/*.parquet', hive_partitioning = true) "
        "WHERE day BETWEEN DATE '{(NOW - pd.Timedelta(days=7)):%Y-%m-%d}' AND DATE '{NOW:%Y-%m-%d}' "
        "AND time <= TIMESTAMP '{NOW}' QUALIFY row_number() OVER (PARTITION BY module ORDER BY time DESC) = 1\").df()",
    ),
    "status of all modules, half a year ago": (
        "store.status_at(PAST)",
        "con.sql(f\"SELECT * FROM read_parquet('{root}/module_status/*/*.parquet', hive_partitioning = true) "
        "WHERE day BETWEEN DATE '{(PAST - pd.Timedelta(days=7)):%Y-%m-%d}' AND DATE '{PAST:%Y-%m-%d}' "
        "AND time <= TIMESTAMP '{PAST}' QUALIFY row_number() OVER (PARTITION BY module ORDER BY time DESC) = 1\").df()",
    ),
    "one module's history, one year": (
        "store.module_history(MODULE, NOW - pd.Timedelta(days=365), NOW)",
        "con.sql(f\"SELECT * FROM read_parquet('{root}/module_status/*/*.parquet', hive_partitioning = true) "
        "WHERE day >= DATE '{(NOW - pd.Timedelta(days=365)):%Y-%m-%d}' AND module = '{MODULE}' ORDER BY time\").df()",
    ),
    "one metric of one module, one year": (
        "store.sql(f\"SELECT time, value FROM {store.scan('metrics', NOW - pd.Timedelta(days=365), NOW)} "
        'WHERE module = ? AND metric = ? ORDER BY time", [MODULE, METRIC])',
        "con.sql(f\"SELECT time, value FROM read_parquet('{root}/metrics/*/*.parquet', hive_partitioning = true) "
        "WHERE day >= DATE '{(NOW - pd.Timedelta(days=365)):%Y-%m-%d}' AND module = '{MODULE}' "
        "AND metric = '{METRIC}' ORDER BY time\").df()",
    ),
    "a module's detail table at a time": (
        "store.detail(MODULE, DETAIL, at=NOW)",
        "con.sql(f\"SELECT * FROM read_parquet('{root}/_detail/{DETAIL}/*/*.parquet', hive_partitioning = true, "
        "union_by_name = true) WHERE day = DATE '{NOW:%Y-%m-%d}' AND module = '{MODULE}' AND time = TIMESTAMP '{NOW}'\").df()",
    ),
}
SETUP = """
import sys, time
import duckdb, pandas as pd
root, NOW, PAST, MODULE, METRIC, DETAIL = {args!r}
NOW, PAST = pd.Timestamp(NOW), pd.Timestamp(PAST)
"""


def cold(code: str, setup: str, imports: str, runs: int) -> float:
    """Median wall time of a fresh interpreter importing, opening and answering once."""
    script = f"import time\nstarted = time.perf_counter()\n{imports}\n{setup}\nresult = {code}\nprint(time.perf_counter() - started)"
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def sizes(store: Store, modules: int, days: int, detail_days: int) -> dict[str, float]:
    """MB per module-year by family: statuses and metrics from the whole period, details and
    payloads from the days that hold them; only the manifest's live files (a glob would also count
    files retired by compaction and not yet deleted)."""
    tables = store.tables()

    def mb(names) -> float:
        files = {part for name in names if name in tables for part in store.parts(name)}
        return sum((store.root / part).stat().st_size for part in files) / 1e6

    year = 365 / days
    detail_year = 365 / detail_days
    return {
        "statuses (module_status, category_status, runs)": mb(["module_status", "category_status", "runs"])
        * year
        / modules,
        "metrics": mb(["metrics"]) * year / modules,
        "details (every detail family)": mb([t for t in tables if t.startswith("detail__")]) * detail_year / modules,
        "payloads (raw_payloads)": mb(["raw_payloads"]) * detail_year / modules,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--detail-days", type=int, default=2)
    parser.add_argument("--store", help="build the store here, or reuse it (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args(argv)
    root = Path(args.store or tempfile.mkdtemp(prefix="hfpanel-bench-store-"))
    built = 0.0
    if not (root / "_manifest.json").exists():
        built = build(root, args.modules, args.days, args.detail_days)
    store = Store(root)
    last = store.latest_run()
    now = pd.Timestamp(last["time"])
    past = now - pd.Timedelta(days=args.days // 2, hours=5)
    modules = sorted(store.status_at(now)["module"])
    module = next(m for m in modules if m.startswith("sam_ce"))
    detail = "results"
    metric = store.sql(f"SELECT metric FROM {store.scan('metrics', now, now)} WHERE module = ? LIMIT 1", [module])[
        "metric"
    ].iloc[0]
    given = (str(root), str(now), str(past), module, metric, detail)
    setup = SETUP.format(args=given)
    namespace = {"pd": pd, "root": root, "NOW": now, "PAST": past, "MODULE": module, "METRIC": metric, "DETAIL": detail}
    import duckdb

    namespace.update(store=store, con=duckdb.connect())
    loads = [os.getloadavg()[0]]
    rows = []
    questions = dict(QUESTIONS)
    if not (root / "_detail" / detail).is_dir():  # a store built without detail days (cut short)
        questions.pop("a module's detail table at a time")
    for name, (ours, peer) in questions.items():
        answers, warm, cpu = {}, {}, {}
        for label, code in (("ours", ours), ("peer", peer)):
            samples, used = [], []
            for _ in range(args.repeat):
                started, begun = time.perf_counter(), time.process_time()
                answers[label] = eval(code, namespace)  # noqa: S307 (the benchmark's own code)
                samples.append(time.perf_counter() - started)
                used.append(time.process_time() - begun)
            warm[label] = statistics.median(samples) * 1000
            cpu[label] = statistics.median(used) * 1000
        assert len(answers["ours"]) == len(answers["peer"]), (name, len(answers["ours"]), len(answers["peer"]))
        ours_cold = cold(ours, setup + "from hfpanel.store import Store\nstore = Store(root)\n", "", args.cold)
        peer_cold = cold(peer, setup + "con = duckdb.connect()\n", "", args.cold)
        rows.append(
            (
                name,
                len(answers["ours"]),
                warm["ours"],
                cpu["ours"],
                warm["peer"],
                cpu["peer"],
                ours_cold * 1000,
                peer_cold * 1000,
            )
        )
        loads.append(os.getloadavg()[0])
    files = sum(1 for _ in root.rglob("*.parquet"))
    print(
        f"store: {args.modules} modules x {args.days} days x 96 runs (details and payloads: last {args.detail_days} days); "
        f"{files:,} files; {sum(p.stat().st_size for p in root.rglob('*') if p.is_file()) / 1e9:.1f} GB"
        + (f"; built in {built / 60:.0f} min" if built else "")
    )
    print(
        f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores; warm: median of {args.repeat}, cold: of {args.cold}"
    )
    print(
        f"{'question':<40} {'rows':>7} {'hfpanel ms':>11} {'CPU ms':>7} {'DuckDB ms':>10} {'CPU ms':>7} "
        f"{'cold hfpanel ms':>16} {'cold DuckDB ms':>15}"
    )
    for name, n, ours, ours_cpu, peer, peer_cpu, ours_cold, peer_cold in rows:
        print(
            f"{name:<40} {n:>7,} {ours:>11.1f} {ours_cpu:>7.1f} {peer:>10.1f} {peer_cpu:>7.1f} "
            f"{ours_cold:>16.0f} {peer_cold:>15.0f}"
        )
    print("store size per module-year (MB):")
    for family, value in sizes(store, args.modules, args.days, args.detail_days).items():
        print(f"  {family:<50} {value:>8.2f}")
    print(json.dumps({"module": module, "metric": metric, "now": str(now)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
