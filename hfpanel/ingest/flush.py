"""One flush: durable spool records -> parsed, deduplicated rows -> one store commit -> checkpoint.

Runs apart from the thread that receives messages, so a store held by ``hfpanel collect`` (the
writer lock) only grows the spool; the broker keeps being drained.

Exactly once, for every table: the commit carries the spool position it reached (manifest state
``ingest.spool.<spool id>``), so a restart after a crash between the commit and the checkpoint
skips what the store holds instead of committing it again; a message the broker delivers twice
(not acknowledged before a crash or a broker restart) is one row by its key — the transfer's key
for raw rows, the destination + message-id + body for a quarantined body; ``ingest_rate`` counts
only batches that committed.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import hashlib
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from ..store import Store, StoreWriter
from ..transfers import fastparse, raw
from ..transfers.messages import DOMAIN_OF_TABLE, MessageError, parse
from .rate import RateBook, domain_of

log = logging.getLogger("hfpanel.ingest.flush")
STATE = "ingest.spool."  # + the spool's id: the spool position the store's last commit reached


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection during a flush. A batch allocates some 40,000 tuples (row
    values, positions) that live until its commit and form no cycles; each allocation counts
    towards a collection, so the collector kept scanning them (10-15% of a flush). Objects
    freed meanwhile go at once (reference counting); only cycles wait until it is resumed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Flusher:
    """Commits the spool to the store in batches; holds the dedup window and the rate book."""

    def __init__(
        self,
        store,
        spool,
        kinds: dict[str, str],
        max_message_bytes: int,
        dedup_window: float,
        wait: float = 0.5,
        batch: int = 20000,
    ):
        self.store, self.spool, self.kinds = Path(store), spool, kinds
        self.max_bytes, self.wait, self.batch = max_message_bytes, wait, batch
        self.state_key = STATE + spool.id
        self.window = raw.KeyWindow(dedup_window)
        self.window.load(self.store)
        self.rates = RateBook(self.store)
        self.totals = collections.Counter()
        self._resume(dedup_window)

    def _resume(self, dedup_window: float) -> None:
        """Skip the spool records the store already holds; load recent quarantine keys."""
        if not self.store.is_dir():
            return
        with Store(self.store) as store:
            skipped = self.spool.resume(store.state(self.state_key))
            if store.has_table("quarantine"):
                since = datetime.fromtimestamp(time.time() - dedup_window, timezone.utc)
                scan = store.scan("quarantine", since=since)  # a quarantine row's time is when it arrived
                if "key" in store.sql(f"SELECT * FROM {scan} LIMIT 0").columns:  # older parts have none
                    self.window.add(store.sql(f"SELECT key FROM {scan} WHERE key IS NOT NULL")["key"])
        if skipped:
            log.warning(
                "spool %s: %d records were already committed (stopped between the store commit and "
                "the checkpoint); skipped",
                self.spool.folder,
                skipped,
            )
        if self.spool.backlog:
            log.info("spool %s: %d records to commit", self.spool.folder, self.spool.backlog)

    def _quarantine(self, record, reason: str) -> dict:
        """A quarantine row; its ``key`` names the message (destination, broker message-id or replay
        line, body), so the same message delivered again is recognised like a duplicate transfer."""
        received = int(record.received * 1_000_000)
        headers = json.loads(record.headers or b"{}")
        identity = headers.get("message-id") or (
            f"line {headers['line']}" if "line" in headers else f"received {record.received!r}"
        )
        digest = hashlib.sha256(f"{record.destination}\0{identity}\0".encode() + record.body).hexdigest()
        return {
            "time": received,
            "received": received,
            "source": record.destination,
            "reason": reason,
            "body": record.body.decode("utf-8", errors="backslashreplace"),
            "headers": json.dumps(headers, sort_keys=True),
            "key": "quarantine:" + digest,
        }

    def _parse(self, record, kind: str | None) -> tuple[str, tuple]:
        """(table, row tuple in ``raw.ROW_COLUMNS`` order) or ``MessageError``. FTS completions
        try ``fastparse`` first; everything it declines goes through ``messages.parse``."""
        body, received = record.body, record.received
        if len(body) > self.max_bytes:
            raise MessageError(f"oversized: {len(body)} bytes > max_message_bytes {self.max_bytes}")
        if kind == "fts_complete":
            row = fastparse.complete(body, int(received * 1000), int(received * 1_000_000))
            if row is not None:
                return "fts_complete", row
        table, row = parse(body, kind, int(received * 1000))
        row["received"] = int(received * 1_000_000)
        return table, tuple(map(row.get, raw.ROW_COLUMNS[table]))

    def prepare(self, records):
        """(rows per table, quarantine rows, records per destination, new keys) for spool records;
        the counts go to the rate book once per (second, source, destination)."""
        rows = {name: [] for name in raw.RAW_TABLES}
        quarantine, batch_keys, counts, last = [], set(), collections.Counter(), {}
        window, kinds, parse_one = self.window.keys(), self.kinds, self._parse
        for record in records:
            destination, received = record.destination, record.received
            kind = kinds.get(destination)
            second = int(received)
            where = (second // 600, destination)  # the newest message per bin and destination
            if received > last.get(where, 0):
                last[where] = received
            try:
                table, row = parse_one(record, kind)
            except MessageError as error:
                row = self._quarantine(record, str(error))
                seen = row["key"] in window or row["key"] in batch_keys
                if not seen:
                    batch_keys.add(row["key"])
                    quarantine.append(row)
                field = "duplicates" if seen else "quarantined"
                counts[(second, domain_of(destination, kind), destination, field)] += 1
                continue
            key = row[2]  # every raw table: time, t, key, ...
            if key in window or key in batch_keys:
                counts[(second, DOMAIN_OF_TABLE[table], destination, "duplicates")] += 1
                continue
            batch_keys.add(key)
            rows[table].append(row)
            counts[(second, DOMAIN_OF_TABLE[table], destination, "stored")] += 1
        for (second, source, destination, field), n in counts.items():
            self.rates.count(second, source, destination, field, n)
            self.rates.count(second, source, destination, "messages", n)
        for (_, destination), received in last.items():
            self.rates.seen(received, destination)
        per_destination = collections.Counter(record.destination for record in records)
        return rows, quarantine, per_destination, batch_keys

    def flush(self, limit: int | None = None) -> int:
        """Commit up to ``limit`` durable records; returns how many (0: nothing to do).
        Raises ``StoreLocked`` when the store stays busy for ``wait`` seconds."""
        with _gc_paused():
            return self._flush(limit)

    def _flush(self, limit: int | None) -> int:
        records = self.spool.read(limit or self.batch)
        if not records:
            return 0
        started = time.monotonic()
        try:
            with StoreWriter(self.store, wait=self.wait) as writer:
                rows, quarantine, per_destination, keys = self.prepare(records)
                remaining = self.spool.pending_by_destination()
                remaining.subtract(per_destination)
                self.rates.backlog(time.time(), +remaining, self.kinds)
                rate_rows, rate_days = self.rates.take()
                generation = raw.commit_batch(
                    writer, rows, quarantine, rate_rows, rate_days, state={self.state_key: list(records[-1].position)}
                )
        except BaseException:
            # the batch did not commit, so neither did its counts: forget them (the book reloads
            # what the store holds), or the retry would count the same messages twice
            self.rates = RateBook(self.store)
            raise
        self.spool.commit(records[-1].position, per_destination)
        self.window.add(keys)
        stored = sum(len(v) for v in rows.values())
        self.totals.update(
            records=len(records),
            stored=stored,
            quarantined=len(quarantine),
            duplicates=len(records) - stored - len(quarantine),
        )
        log.info(
            "commit %d: %d messages -> %d rows, %d duplicates, %d quarantined in %.2fs (backlog %d)",
            generation,
            len(records),
            stored,
            len(records) - stored - len(quarantine),
            len(quarantine),
            time.monotonic() - started,
            self.spool.backlog,
        )
        return len(records)
