"""The ingest loop: broker -> spool (fsync, then ack) -> store (in a flusher thread).

Three activities, so none waits for another: stomp.py's receiver thread only appends to the spool;
the main loop fsyncs every ~50 ms and then acknowledges what became durable (and reconnects lost
brokers); the flusher thread commits the spool to the store whenever ``flush.messages`` records
wait or ``flush.seconds`` passed. SIGTERM stops receiving, acknowledges, flushes everything and
exits 0; ``--until-idle`` does the same after a quiet spell (``--replay``: replay.py).
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from ..store import StoreLocked
from ..transfers.config import TransfersConfig
from .broker import BrokerClient
from .flush import Flusher
from .spool import Spool

log = logging.getLogger("hfpanel.ingest")
SYNC_EVERY = 0.05


class Ingest:
    def __init__(self, config: TransfersConfig, batch: int | None = None, after_aggregate=None):
        self.config = config
        #: called with each aggregation's summary (the site's transfer modules run then)
        self.after_aggregate = after_aggregate
        self.kinds = {s.destination: s.kind for s in config.subscriptions}
        self.spool = Spool(config.spool)
        self.flusher = Flusher(
            config.store,
            self.spool,
            self.kinds,
            config.max_message_bytes,
            config.dedup_window,
            wait=config.store_wait,
            batch=batch or config.flush_messages,
        )
        self.stop = threading.Event()
        self.accepting = True
        self.last_message = time.monotonic()
        self._flush_done = threading.Event()
        self._aggregated = time.monotonic()
        self._subs: dict[tuple[str, str], str] = {}
        self.clients = []
        for alias, broker in config.brokers.items():
            subs = [s for s in config.subscriptions if s.broker == alias]
            if subs:
                self.clients.append(BrokerClient(broker, subs, self._on_message))
                self._subs.update({(alias, f"{alias}-{i}"): s.destination for i, s in enumerate(subs)})

    # -- receiving (stomp.py's thread) -----------------------------------------------------------
    def _on_message(self, client: BrokerClient, epoch: int, frame) -> None:
        if not self.accepting:
            return  # not acknowledged: the broker delivers it again next time
        headers = dict(frame.headers)
        subscription = headers.get("subscription", "")
        destination = self._subs.get((client.broker.alias, subscription)) or headers.get("destination", "?")
        body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
        self.spool.append(
            time.time(), destination, headers, body, token=(client, epoch, subscription, headers.get("message-id"))
        )
        self.last_message = time.monotonic()

    def _sync_and_ack(self) -> None:
        tokens = self.spool.sync()
        if not tokens:
            return
        last = {}
        for client, epoch, subscription, message_id in tokens:
            if client.broker.ack == "client":
                last[(client, epoch, subscription)] = message_id  # cumulative: the last one acks the rest
            else:
                client.ack(epoch, subscription, message_id)
        for (client, epoch, subscription), message_id in last.items():
            client.ack(epoch, subscription, message_id)

    # -- flushing (its own thread) ---------------------------------------------------------------
    def _flush_due(self, last: float) -> bool:
        backlog = self.spool.backlog
        return backlog >= self.config.flush_messages or (
            backlog > 0 and time.monotonic() - last >= self.config.flush_seconds
        )

    def aggregate(self, force: bool = False) -> None:
        """Fold what was stored since the last time into the statistics (at most every
        ``aggregate_every`` seconds: a run costs ~0.1 s for a few thousand new rows, and every
        twelfth run of a day also folds that day's parts, ~0.3 s)."""
        every = self.config.aggregate_every
        if not every or (not force and time.monotonic() - self._aggregated < every):
            return
        self._aggregated = time.monotonic()
        from ..transfers.aggregate import aggregate

        try:
            summary = aggregate(self.config.store, self.config, wait=max(self.config.store_wait, 5.0))
            if not summary.nothing_new:
                log.info(
                    "aggregated %d bins up to commit %s in %.2fs", summary.bins, summary.watermark, summary.seconds
                )
            if self.after_aggregate is not None:
                self.after_aggregate(summary)  # the modules reading the statistics (hfpanel.transfer_runs)
        except StoreLocked:
            log.info("store busy; aggregating at the next chance")
        except Exception:  # noqa: BLE001 - statistics can be rebuilt from raw; the feed must go on
            log.exception("aggregation failed; the raw rows are kept and the next run retries")

    def _flush_loop(self) -> None:
        last, locked_since = time.monotonic(), None
        while not self._flush_done.is_set():
            if not self._flush_due(last):
                self.aggregate()
                self._flush_done.wait(SYNC_EVERY)
                continue
            try:
                self.flusher.flush()
                locked_since, last = None, time.monotonic()
            except StoreLocked:
                if locked_since is None:
                    locked_since = time.monotonic()
                    log.info("store %s is busy (another writer); spooling meanwhile", self.config.store)
                elif time.monotonic() - locked_since > 60:
                    log.warning(
                        "store %s busy for %.0fs; backlog %d",
                        self.config.store,
                        time.monotonic() - locked_since,
                        self.spool.backlog,
                    )
                    locked_since = time.monotonic()
            except Exception:  # noqa: BLE001 - a flusher that dies silently would stall the feed
                log.exception("flush failed; retrying in 5s (the records stay in the spool)")
                self._flush_done.wait(5)

    def drain(self, deadline: float = 600.0) -> None:
        """Commit every durable record (at exit), waiting for the store lock as long as needed."""
        started = time.monotonic()
        while self.spool.backlog and time.monotonic() - started < deadline:
            try:
                self.flusher.flush()
            except StoreLocked:
                time.sleep(0.2)

    # -- the loops -------------------------------------------------------------------------------
    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # embedded (benchmarks, tests): the caller sets ``stop``

        def _stop(signum, frame):
            log.info("signal %s: stopping (acknowledge, flush, exit)", signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def run(self, until_idle: float | None = None) -> int:
        self._install_signals()
        log.info(
            "ingest: %d subscription(s) on %d broker(s) -> store %s (spool %s)",
            len(self.kinds),
            len(self.clients),
            self.config.store,
            self.config.spool,
        )
        flusher = threading.Thread(target=self._flush_loop, name="ingest-flush", daemon=True)
        flusher.start()
        self.last_message = time.monotonic()
        try:
            while not self.stop.is_set():
                self._sync_and_ack()
                for client in self.clients:
                    client.ensure_connected()
                if until_idle is not None and time.monotonic() - self.last_message > until_idle:
                    log.info("no message for %.0fs: stopping (--until-idle)", until_idle)
                    break
                self.stop.wait(SYNC_EVERY)
        finally:
            self.accepting = False
            self._sync_and_ack()
            for client in self.clients:
                client.close()
            self._flush_done.set()
            flusher.join()
            self.drain()
            self.aggregate(force=True)
            self.spool.close()
        return 0
