"""`hfpanel demo`: simulate a site, backfill days of runs through the real collectors, then serve
the app and keep collecting.

The simulator's clock is set to each backfilled run's time, so every payload is fetched over HTTP
and parsed exactly as in production; only the clock is simulated. Running the demo again resumes
the same store: the simulated site keeps its incident schedule (its start is kept in
``<store>/demo.json``) and only the missing runs are backfilled.

Transfers (:class:`TransferFeed`): before each run of the transfer modules the demo's FTS/XRootD
stream up to the run's time goes through the ingest spool into the store and is aggregated, so
they rate what was known at that time (and never see rows from their future): those two
collectors read the store "as of" the run's time (``Collector.now()``, set by the runner). A
resumed demo feeds only from the newest transfer in the store.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import sys
import threading
from pathlib import Path

import pandas as pd
import yaml

from ..clock import utcnow
from ..config import load_config
from ..events.outbox import dispatch
from ..runner import Runner
from ..store import Store, StoreWriter
from .simulator import Simulator
from .site import write_demo_config
from .transfers import stream

log = logging.getLogger("hfpanel.demo")
STEP = pd.Timedelta(minutes=15)
LIVE_EVERY = 300.0  # seconds between live runs once the backfill is done
FEED_LEAD = pd.Timedelta(hours=1)  # the stream starts before the first run, whose windows are then full
#: collectors that read the store (not the simulator) and take "now" from the run (``Collector.now()``)
STORE_COLLECTORS = ("ingest_health", "transfer_efficiency")


def _demo_start(store: Path, days: float) -> pd.Timestamp:
    state = store / "demo.json"
    if state.exists():
        return pd.Timestamp(json.loads(state.read_text())["start"])
    start = (utcnow() - pd.Timedelta(days=days)).floor("15min")
    store.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"start": start.isoformat()}))
    return start


def _epoch(when: pd.Timestamp) -> float:
    return calendar.timegm(when.timetuple()) + when.microsecond / 1e6


class TransferFeed:
    """The demo's transfer stream into the store, as ``hfpanel ingest`` would put it there: spool,
    commit (deduplicated by key), then aggregate. Each message is spooled with its own simulated
    time as receive time, so ``ingest_rate`` shows the feed as it would have been live."""

    def __init__(self, config, settings, simulator: Simulator, start: pd.Timestamp):
        from ..ingest.daemon import Ingest
        from ..transfers.sites import SiteResolver

        self.store, self.incidents, self.seed = config.store, simulator.incidents, simulator.seed
        self.settings = settings
        self.resolver = SiteResolver.from_config(self.settings.sites)
        self.ingest = Ingest(self.settings)  # takes the spool's lock: one feed per store
        newest = self._newest()
        self.position = newest if newest is not None else _epoch(start - FEED_LEAD)
        self.messages = 0

    @classmethod
    def open(cls, config, simulator: Simulator, start: pd.Timestamp) -> TransferFeed | None:
        """The feed of a configuration with a ``transfers:`` section, else None."""
        from ..transfers.config import parse_transfers

        if config.path is None:
            return None
        path = Path(config.path)
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        if "transfers" not in data:
            return None
        settings = parse_transfers(data, source=str(path), base=path.resolve().parent, need_subscriptions=False)
        return cls(config, settings, simulator, start)

    def _newest(self) -> float | None:
        if not (self.store / "_manifest.json").exists():
            return None
        with Store(self.store) as store:
            if not store.has_table("fts_complete"):
                return None
            newest = store.sql(f"SELECT max(t) FROM {store.scan('fts_complete')}").iloc[0, 0]
        return None if pd.isna(newest) else float(newest)

    def ingest_until(self, until: pd.Timestamp) -> int:
        """Spool and commit the messages up to ``until`` (the ingest takes the store's lock itself);
        returns how many were new."""
        end = _epoch(until)
        messages = stream(self.incidents, self.position, end, self.seed) if end > self.position else []
        for received, destination, body in messages:
            self.ingest.spool.append(received, destination, {"demo": "hfpanel.demo.transfers"}, body)
        if messages:
            self.ingest.spool.sync()
            self.ingest.drain()
        self.position, self.messages = max(self.position, end), self.messages + len(messages)
        return len(messages)

    def aggregate(self, writer: StoreWriter | None = None) -> None:
        """Turn what was ingested into statistics, with the caller's ``writer`` when it holds one
        (a no-op when nothing is new)."""
        from ..transfers.aggregate import aggregate, aggregate_into

        if writer is not None:
            aggregate_into(writer, self.resolver)
        else:
            aggregate(self.store, resolver=self.resolver)

    def advance(self, until: pd.Timestamp) -> int:
        """Ingest up to ``until`` and aggregate; returns how many messages were new."""
        count = self.ingest_until(until)
        if count:
            self.aggregate()
        return count

    def close(self) -> None:
        self.ingest.spool.close()


def backfill(config, simulator: Simulator, start: pd.Timestamp, end: pd.Timestamp, quiet: bool = False) -> int:
    """Run every 15 minutes of simulated time from ``start`` (or the last stored run) to ``end``,
    first feeding the transfer stream up to the time of each run that rates transfers."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    last = Store(config.store).latest_run() if (config.store / "_manifest.json").exists() else None
    first = start if last is None else pd.Timestamp(last["time"]) + STEP
    times = list(pd.date_range(first, end, freq=STEP)) if first <= end else []
    runner = Runner(config)
    feed = TransferFeed.open(config, simulator, start)
    # the feed is brought up to date when the transfer modules run (each commit and aggregation
    # costs ~0.1 s, whatever its size): their runs line up with ``start`` every ``interval``
    every = min((m.interval for m in config.modules if m.collector in STORE_COLLECTORS), default=STEP.total_seconds())
    try:
        with (
            contextlib.ExitStack() as held,
            tqdm(times, desc="backfilling runs", unit="run", disable=quiet, file=sys.stderr) as bar,
            # a warning during the backfill (a scripted outage's retries) is a line above the bar,
            # not glued to it
            contextlib.nullcontext() if quiet else logging_redirect_tqdm(),
        ):
            writer = None  # held from run to run, released only for the ingest's own commits
            for when in bar:
                simulator.clock = when.to_pydatetime()
                feeding = feed is not None and ((when - start).total_seconds() % every == 0 or when == times[-1])
                if feeding:
                    held.close()
                    writer = None
                    feed.ingest_until(when)
                    bar.set_postfix(transfer_messages=feed.messages, refresh=False)
                writer = writer or held.enter_context(StoreWriter(config.store, wait=60))
                if feeding:
                    feed.aggregate(writer)
                if runner.run_once(writer, now=when).committed:
                    dispatch(writer, config, now=when)  # the demo's mailbox on disk gets its messages
            if feed is not None and feed.position < _epoch(end):  # runs already current, feed behind
                held.close()
                writer = None
                feed.advance(end)
            if feed is not None:
                log.info("transfer feed: %d new messages up to %s", feed.messages, end)
                if not quiet and feed.messages:
                    print(f"transfer feed: {feed.messages} new FTS/XRootD messages ingested", file=sys.stderr)
            writer = writer or held.enter_context(StoreWriter(config.store, wait=60))
            writer.compact()
    finally:
        simulator.clock = None
        if feed is not None:
            feed.close()
    return len(times)


def prepare(store: Path, days: float, quiet: bool = False):
    """Start the simulator, write the demo config and backfill; returns (config, simulator)."""
    store = store.resolve()
    start = _demo_start(store, days)
    simulator = Simulator(start=start.to_pydatetime())
    base_url = simulator.serve("127.0.0.1", 0)
    config_path = write_demo_config(store.parent / f"{store.name}.site.yaml", base_url, str(store))
    config = load_config(config_path)
    count = backfill(config, simulator, start, utcnow().floor("15min"), quiet=quiet)
    log.info("demo store %s: %d runs backfilled, config %s", store, count, config_path)
    if not quiet:
        print(f"demo site ready: {store} ({count} new runs), config {config_path}", file=sys.stderr)
    return config, simulator


def keep_collecting(
    config, stop: threading.Event, every: float = LIVE_EVERY, simulator: Simulator | None = None
) -> None:
    """The live part of the demo: one run every ``every`` seconds until ``stop`` is set, each after
    feeding the transfer messages of the interval since the last one (with ``simulator``)."""
    runner = Runner(config)
    feed = TransferFeed.open(config, simulator, utcnow()) if simulator is not None else None
    try:
        while not stop.wait(every):
            try:
                if feed is not None:
                    feed.advance(utcnow())
                with StoreWriter(config.store, wait=60) as writer:
                    if runner.run_once(writer, force=True).committed:
                        dispatch(writer, config)
                    writer.compact()
            except Exception:  # the served demo must outlive a failed run; the log says why
                log.exception("live demo run failed")
    finally:
        if feed is not None:
            feed.close()


def run_demo(
    store: Path,
    days: float = 3.0,
    serve: bool = True,
    port: int = 5006,
    address: str = "127.0.0.1",
    quiet: bool = False,
) -> int:
    config, simulator = prepare(Path(store), days, quiet=quiet)
    if not serve:
        simulator.close()
        return 0
    from ..serve import serve as serve_app

    stop = threading.Event()
    collector = threading.Thread(
        target=keep_collecting, args=(config, stop, LIVE_EVERY, simulator), daemon=True, name="demo-collector"
    )
    collector.start()
    try:
        return serve_app(store=config.store, config=str(config.path), port=port, address=address)
    finally:
        stop.set()
        simulator.close()
