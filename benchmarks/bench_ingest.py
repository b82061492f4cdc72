"""Ingest benchmark: spool -> store for FTS completion messages, and a live local ActiveMQ.

1. Spool -> store (one core, the flusher alone): N synthetic completion bodies (the real format,
   ~3.5 kB, tab-indented) are spooled, then committed in 20,000-message batches: parse, dedup,
   Arrow, Parquet, manifest. Peer: the same parser (the msgspec fast path, else messages.parse),
   then one INSERT per message into SQLite, committed per batch (what a quick hand-written
   consumer does); once more with the reference parser (orjson -> dict row). Parse alone too.
2. Live broker (needs Debian's activemq and java): publish M persistent messages to a queue, then
   `hfpanel ingest` drains them with client-individual acks, spool fsync batching and store commits;
   zero loss is checked (stored rows == M). A bare stomp.py consumer that only acks shows where
   the broker + stomp.py are the limit.
One process, so ratios hold on a noisy machine.
Usage: python benchmarks/bench_ingest.py [--messages 100000] [--live 20000]
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the private-broker helper

from hfpanel.ingest.flush import Flusher  # noqa: E402
from hfpanel.ingest.spool import Spool  # noqa: E402
from hfpanel.store import Store  # noqa: E402
from hfpanel.transfers import fastparse, generate, raw  # noqa: E402
from hfpanel.transfers.messages import parse  # noqa: E402

TOPIC = "/topic/transfer.fts_monitoring_complete"


def spool_to_store(bodies: list[str], work: Path) -> dict:
    spool = Spool(work / "spool")
    started = time.perf_counter()
    for body in bodies:
        spool.append(time.time(), TOPIC, {"message-id": "x"}, body.encode())
    spool.sync()
    append_s = time.perf_counter() - started
    flusher = Flusher(work / "store", spool, {TOPIC: "fts_complete"}, 10**6, 2 * 86400, batch=20000)
    cpu, started = time.process_time(), time.perf_counter()
    while flusher.flush():
        pass
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    spool.close()
    with Store(work / "store") as store:
        stored = int(store.sql("SELECT count(*) AS n FROM fts_complete")["n"].iloc[0])
    assert stored == len(bodies), (stored, len(bodies))
    return {"append": len(bodies) / append_s, "wall": len(bodies) / wall, "cpu": len(bodies) / cpu}


COLUMNS = raw.ROW_COLUMNS["fts_complete"]  # every column but commit


def fast_row(body: bytes) -> tuple:
    """The flusher's parse: the msgspec fast path, else the reference parser."""
    row = fastparse.complete(body, 0, 0)
    return row if row is not None else reference_row(body)


def reference_row(body: bytes) -> tuple:
    row = parse(body, "fts_complete", 0)[1]
    return tuple(map(row.get, COLUMNS))


def sqlite_peer(bodies: list[str], work: Path, parse_row=fast_row) -> float:
    db = sqlite3.connect(work / f"peer-{parse_row.__name__}.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"CREATE TABLE fts_complete ({', '.join(f'[{c}]' for c in COLUMNS)}, PRIMARY KEY ([key]))")
    insert = f"INSERT OR IGNORE INTO fts_complete VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    for i, body in enumerate(bodies, 1):  # like ours: parse the spooled bytes, insert, commit per batch
        db.execute(insert, parse_row(body.encode()))
        if i % 20000 == 0:
            db.commit()
    db.commit()
    return len(bodies) / (time.perf_counter() - started)


def parse_only(bodies: list[str], parse_row=fast_row) -> float:
    started = time.perf_counter()
    for body in bodies:
        parse_row(body.encode())
    return len(bodies) / (time.perf_counter() - started)


def live(count: int, work: Path, prefetch: int = 500) -> list[tuple[str, float, str]]:
    import stomp
    from activemq_broker import ActiveMQ, available

    from hfpanel.ingest.daemon import Ingest
    from hfpanel.transfers.config import parse_transfers

    if available():
        return [("live broker", float("nan"), available())]
    bodies = generate.fts_complete_bodies(count, seed=5)
    rows = []
    with ActiveMQ(work / "activemq") as broker:
        conn = stomp.Connection([("127.0.0.1", broker.port)])
        conn.connect(wait=True)
        started = time.perf_counter()
        for body in bodies:
            conn.send("/queue/bench", body, headers={"persistent": "true"})
        conn.disconnect(receipt="done")
        rows.append(("publish, persistent (stomp.py -> ActiveMQ)", count / (time.perf_counter() - started), "producer"))
        config = parse_transfers(
            {
                "store": str(work / "live-store"),
                "transfers": {
                    "brokers": {"mb": {"hosts": [f"127.0.0.1:{broker.port}"], "prefetch": prefetch}},
                    "subscriptions": [{"broker": "mb", "destination": "/queue/bench", "kind": "fts_complete"}],
                    "spool": str(work / "live-spool"),
                    "flush": {"messages": 20000, "seconds": 2},
                },
            }
        )
        ingest = Ingest(config)
        done = threading.Event()
        worker = threading.Thread(target=lambda: (ingest.run(until_idle=10.0), done.set()), daemon=True)
        worker.start()
        started = time.perf_counter()
        while (
            ingest.spool.backlog + ingest.flusher.totals["records"] < count
            and worker.is_alive()
            and time.perf_counter() - started < 600
        ):
            time.sleep(0.01)
        received = time.perf_counter() - started
        done.wait(600)
        with Store(config.store) as store:
            stored = int(store.sql("SELECT count(*) AS n FROM fts_complete")["n"].iloc[0])
        rows.append(("hfpanel ingest: received, spooled, acked", count / received, f"stored {stored} of {count}"))
        conn = stomp.Connection([("127.0.0.1", broker.port)])
        conn.connect(wait=True)
        for body in bodies:
            conn.send("/queue/bare", body, headers={"persistent": "true"})
        conn.disconnect(receipt="done2")
        got, last = [], [0.0]

        class Bare(stomp.ConnectionListener):
            def on_message(self, frame):
                bare.ack(frame.headers["message-id"], "1")
                got.append(1)
                last[0] = time.perf_counter()

        bare = stomp.Connection([("127.0.0.1", broker.port)], auto_decode=False)
        bare.set_listener("bare", Bare())
        bare.connect(wait=True)
        started = last[0] = time.perf_counter()
        bare.subscribe("/queue/bare", id="1", ack="client-individual", headers={"activemq.prefetchSize": str(prefetch)})
        while len(got) < count and time.perf_counter() - last[0] < 10:
            time.sleep(0.01)
        rows.append(
            (
                "bare stomp.py consumer, ack each (no spool, no store)",
                len(got) / (last[0] - started),
                f"received {len(got)} of {count}: broker + stomp.py limit",
            )
        )
        bare.disconnect()
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=20_000, help="messages through a live broker (0: skip)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hfpanel-bench-ingest-"))
    bodies = generate.fts_complete_bodies(args.messages, seed=1)
    size = sum(map(len, bodies)) / len(bodies)
    ours = spool_to_store(bodies, work)
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"spool -> store done: {ours['wall']:,.0f} msg/s", file=sys.stderr)
    peer = sqlite_peer(bodies, work)
    peer_reference = sqlite_peer(bodies, work, reference_row)
    parsing, parsing_reference = parse_only(bodies[:20000]), parse_only(bodies[:20000], reference_row)
    print(f"{args.messages:,} FTS completion messages, {size:,.0f} bytes each on average")
    print(f"{'operation':<58} {'msg/s':>10}  note")
    print(f"{'spool append + one fsync (receiver side)':<58} {ours['append']:>10,.0f}")
    print(f"{'spool -> store (parse, dedup, Parquet, manifest), wall':<58} {ours['wall']:>10,.0f}")
    print(f"{'spool -> store, per CPU second':<58} {ours['cpu']:>10,.0f}  goal 50,000")
    print(
        f"{'peer: parse + one SQLite INSERT per message, commit/batch':<58} {peer:>10,.0f}  ratio {ours['wall'] / peer:.2f}x"
    )
    print(f"{'peer with the reference parser (orjson -> dict row)':<58} {peer_reference:>10,.0f}")
    print(f"{'parse alone (msgspec fast path -> row tuple)':<58} {parsing:>10,.0f}  the ceiling of both")
    print(f"{'parse alone, reference parser (orjson -> dict row)':<58} {parsing_reference:>10,.0f}")
    if args.live:
        for name, rate, note in live(args.live, work):
            print(f"{name:<58} {rate:>10,.0f}  {note}")
    end_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS: {ours_rss:.0f} MB after spool -> store, {end_rss:.0f} MB at the end "
        f"(both include the {sum(map(len, bodies)) / 2**20:.0f} MB of generated bodies)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
