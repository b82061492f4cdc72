"""The API under load: its answer time against plain DuckDB over the same Parquet for the same
question, requests per second on one core with p50/p99 latency, and signed, durable pushes per second.

The server (``hfpanel.api.server.patterns``, what ``hfpanel serve`` mounts) runs in its own process
pinned to CPU 0; the load comes from another process pinned to CPU 1 (keep-alive connections,
``--clients`` threads, bounded by ``--requests`` and ``--seconds``). The store is a year of 15-minute
runs of 100 modules (benchmarks/bench_store.py's builder; ``--store DIR`` keeps and reuses it).

Answer time (one client, one request after another, median of ``--samples``): the status of every
module and category at a time that changes per request (no cache helps), and one module's whole
one-year history (35,040 rows, following the cursor through 4 pages of 10,000, with a ``since``
that changes per request so the first page is a cache miss). The peer answers the same questions
with DuckDB alone, pinned to the same core, in one process with nothing around it: a glob over the
same files, a ``day`` filter on the hive partitions, the rows into a DataFrame (no HTTP, no JSON).

Throughput (``--clients`` at once): the uncached status; the same status at one time (the store
queries cached, the answer rendered); the 304 of a repeat with If-None-Match; the history's first
page (uncached); pushes, each signed by the client (HMAC), checked by the server, committed to the
SQLite spool with fsync before the 202. The whole is repeated ``--rounds`` times; medians of the rounds, with the load average
(``os.getloadavg``, what ``uptime`` shows) at each measurement.
Usage: python benchmarks/bench_api.py [--store DIR] [--rounds 3] [--samples 15] [--clients 4]
       [--requests 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import build  # noqa: E402

MODULES, DAYS = 100, 365
SERVER = textwrap.dedent(
    """
    import asyncio, os, sys, tornado.web
    os.sched_setaffinity(0, {0})
    from hfpanel.api.server import patterns
    from hfpanel.config import parse_config
    store, port = sys.argv[1], int(sys.argv[2])
    config = parse_config({"site": "BENCH", "store": store, "categories": [{"name": "probes"}],
                           "modules": [{"name": "bench_push", "category": "probes", "collector": "push"}],
                           "api": {"push_rate": 1000000, "state": sys.argv[3]}})
    async def main():
        tornado.web.Application(patterns(store, config)).listen(port, address="127.0.0.1")
        print("ready", flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


def load(port: int, paths, clients: int, requests: int, seconds: float, method="GET", body_of=None, headers=None):
    """Send ``requests`` requests (``paths(i)``) from ``clients`` threads; (req/s, p50 ms, p99 ms, codes)."""
    os.sched_setaffinity(0, {1})
    latencies, codes, lock, counter = [], {}, threading.Lock(), iter(range(requests))
    deadline = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            path = paths(i)
            body = body_of(path) if body_of else None
            extra = headers(path, body) if callable(headers) else (headers or {})
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=extra)
            answer = connection.getresponse()
            answer.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                codes[answer.status] = codes.get(answer.status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / wall,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "n": len(ordered),
        "codes": codes,
    }


def peer(root: Path, times: list[pd.Timestamp], module: str, until: pd.Timestamp, samples: int) -> dict:
    """DuckDB alone over the same files, the same questions as the one-client API measurements:
    median ms of ``samples``, each status at a different time, each history with a different since."""
    os.sched_setaffinity(0, {0})
    con = duckdb.connect()
    con.execute("SET threads = 1")

    def scan(table):
        return f"read_parquet('{root}/{table}/*/*.parquet', hive_partitioning = true)"

    def latest(table, key, at):
        return con.sql(
            f"SELECT * EXCLUDE (day) FROM {scan(table)} WHERE day BETWEEN DATE '{at - pd.Timedelta(days=7):%Y-%m-%d}' "
            f"AND DATE '{at:%Y-%m-%d}' AND time > TIMESTAMP '{at - pd.Timedelta(days=7)}' AND time <= TIMESTAMP '{at}' "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY time DESC) = 1 ORDER BY {key}"
        ).df()

    def status(i):
        at = times[(i * 7919) % len(times)]
        return latest("module_status", "module", at), latest("category_status", "category", at)

    def history(i):
        since = until - pd.Timedelta(days=365) + pd.Timedelta(seconds=i)
        return con.sql(
            f"SELECT * EXCLUDE (day) FROM {scan('module_status')} WHERE day BETWEEN DATE '{since:%Y-%m-%d}' "
            f"AND DATE '{until:%Y-%m-%d}' AND module = '{module}' AND time BETWEEN TIMESTAMP '{since}' "
            f"AND TIMESTAMP '{until}' ORDER BY time"
        ).df()

    out = {}
    for name, call in (("status", status), ("history", history)):
        call(0)
        out[name] = {"p50_ms": 1000 * statistics.median(timed(call, samples)), "load": os.getloadavg()[0]}
    out["history"]["rows"] = len(history(0))
    os.sched_setaffinity(0, {0, 1})
    return out


def timed(call, samples: int) -> list[float]:
    """Seconds of ``call(i)`` for i in 1..samples."""
    spent = []
    for i in range(1, samples + 1):
        started = time.perf_counter()
        call(i)
        spent.append(time.perf_counter() - started)
    return spent


def get(connection: http.client.HTTPConnection, path: str, headers=None) -> tuple[int, bytes]:
    connection.request("GET", path, headers=headers or {})
    answer = connection.getresponse()
    return answer.status, answer.read()


def one_round(root: Path, state: Path, token, times, module, args) -> dict:
    """Start the server, measure answer times and throughput, stop it, then the DuckDB peer."""
    from browser_support import free_port

    from hfpanel.push import authorization

    key = bytes.fromhex(token.key)
    last = times[-1]
    picks = times[:: max(1, len(times) // 5000)]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(root), str(port), str(state)], stdout=subprocess.PIPE)
    results = {}
    try:
        assert server.stdout.readline().strip() == b"ready"
        os.sched_setaffinity(0, {1})
        warm = f"/api/v1/status?at={last:%Y-%m-%dT%H:%M:%S}"
        load(port, lambda i: warm, 1, 3, 60)  # the imports and the first store opening
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def status(i):
            code, body = get(connection, f"/api/v1/status?at={picks[(i * 7919) % len(picks)]:%Y-%m-%dT%H:%M:%S}")
            assert code == 200 and len(json.loads(body)["modules"]) >= MODULES, (code, len(json.loads(body)["modules"]))

        def history(i):
            since = (last - pd.Timedelta(days=365) + pd.Timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S")
            path, rows = f"/api/v1/modules/{module}/history?since={since}&limit=10000", 0
            while path:
                code, body = get(connection, path)
                assert code == 200, (code, body[:200])
                page = json.loads(body)
                rows, path = rows + len(page["rows"]), page["next"]
            return rows

        status(0)
        results["answer"] = {
            "status": {"p50_ms": 1000 * statistics.median(timed(status, args.samples)), "load": os.getloadavg()[0]},
            "history": {"p50_ms": 1000 * statistics.median(timed(history, args.samples)), "load": os.getloadavg()[0]},
        }
        results["answer"]["history"]["rows"] = history(0)
        print("answer", json.dumps(results["answer"]), file=sys.stderr, flush=True)

        since = last - pd.Timedelta(days=365)
        cases = {
            "status at a time (uncached)": (
                lambda i: f"/api/v1/status?at={picks[(i * 7919) % len(picks)]:%Y-%m-%dT%H:%M:%S}",
                None,
                args.requests,
            ),
            "status at one time (store queries cached)": (lambda i: warm, None, args.requests),
            "304 of a repeat (If-None-Match)": (lambda i: "/api/v1/status", "etag", args.requests),
            "one-year history, first page of 10,000 rows (uncached)": (
                lambda i: (
                    f"/api/v1/modules/{module}/history?since="
                    f"{since + pd.Timedelta(seconds=1000 + i):%Y-%m-%dT%H:%M:%S}&limit=10000"
                ),
                None,
                max(40, args.requests // 25),
            ),
        }
        results["throughput"] = {}
        for name, (paths, headers, n) in cases.items():
            if headers == "etag":  # the live status's tag changes each minute (its ages): take it now
                connection.request("GET", "/api/v1/status")
                first = connection.getresponse()
                first.read()
                headers = {"If-None-Match": first.getheader("ETag")}
            measured = load(port, paths, args.clients, n, args.seconds, headers=headers)
            results["throughput"][name] = {**measured, "load": os.getloadavg()[0]}
            print(name, json.dumps(results["throughput"][name]), file=sys.stderr, flush=True)

        def signed(path, body):
            return {
                "Content-Type": "application/json",
                "Authorization": authorization(token.id, key, "POST", path, body),
            }

        name = "push (signed, fsynced before 202)"
        measured = load(
            port,
            lambda i: "/api/v1/push/bench_push",
            args.clients,
            args.requests // 2,
            args.seconds,
            method="POST",
            body_of=lambda path: json.dumps({"outcome": "ok", "host": "wn001", "value": 1.5}).encode(),
            headers=signed,
        )
        results["throughput"][name] = {**measured, "load": os.getloadavg()[0]}
        print(name, json.dumps(results["throughput"][name]), file=sys.stderr, flush=True)
    finally:
        server.kill()
        server.wait()
        os.sched_setaffinity(0, {0, 1})
    results["peer"] = peer(root, picks, module, last, args.samples)
    print("peer", json.dumps(results["peer"]), file=sys.stderr, flush=True)
    return results


def median_of(rounds: list[dict], *keys) -> float:
    values = []
    for r in rounds:
        for k in keys:
            r = r[k]
        values.append(r)
    return statistics.median(values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="keep the year store here (built once)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    root = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="hfpanel-bench-api-")) / "store"
    if not (root / "_manifest.json").exists():
        print(f"building {DAYS} days × {MODULES} modules in {root} …", file=sys.stderr)
        build(root, MODULES, DAYS, 0)
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))

    from hfpanel.api.tokens import TokenStore
    from hfpanel.store import Store

    with Store(root) as store:
        times = [pd.Timestamp(t) for t in store.run_times()]
        module = sorted(store.status_at()["module"])[0]
    rounds = []
    with tempfile.TemporaryDirectory(prefix="hfpanel-bench-api-state-") as state:
        token, _ = TokenStore(Path(state)).create("bench", ["push:*"])
        for n in range(args.rounds):
            print(f"round {n + 1}/{args.rounds}", file=sys.stderr, flush=True)
            rounds.append(one_round(root, Path(state), token, times, module, args))
    summary = {
        "answer ms (p50, one client)": {
            q: {
                "api": median_of(rounds, "answer", q, "p50_ms"),
                "duckdb": median_of(rounds, "peer", q, "p50_ms"),
                "load": [round(r["answer"][q]["load"], 2) for r in rounds],
            }
            for q in ("status", "history")
        },
        "throughput": {
            name: {
                "rps": median_of(rounds, "throughput", name, "rps"),
                "p50_ms": median_of(rounds, "throughput", name, "p50_ms"),
                "p99_ms": median_of(rounds, "throughput", name, "p99_ms"),
                "load": [round(r["throughput"][name]["load"], 2) for r in rounds],
                "codes": [r["throughput"][name]["codes"] for r in rounds],
            }
            for name in rounds[0]["throughput"]
        },
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
