"""`hfpanel demo`: simulate a site, backfill days of runs through the real collectors, then serve
the app and keep collecting.

The simulator's clock is set to each backfilled run's time, so every payload is fetched over HTTP
and parsed exactly as in production; only the clock is simulated. Running the demo again resumes
the same store: the simulated site keeps its incident schedule (its start is kept in
``<store>/demo.json``) and only the missing runs are backfilled.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import pandas as pd

from ..config import load_config
from ..runner import Runner, utcnow
from ..store import Store, StoreWriter
from .simulator import Simulator
from .site import write_demo_config

log = logging.getLogger("hfpanel.demo")
STEP = pd.Timedelta(minutes=15)
LIVE_EVERY = 300.0  # seconds between live runs once the backfill is done


def _demo_start(store: Path, days: float) -> pd.Timestamp:
    state = store / "demo.json"
    if state.exists():
        return pd.Timestamp(json.loads(state.read_text())["start"])
    start = (utcnow() - pd.Timedelta(days=days)).floor("15min")
    store.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"start": start.isoformat()}))
    return start


def backfill(config, simulator: Simulator, start: pd.Timestamp, end: pd.Timestamp, quiet: bool = False) -> int:
    """Run every 15 minutes of simulated time from ``start`` (or the last stored run) to ``end``."""
    from tqdm import tqdm

    last = Store(config.store).latest_run() if (config.store / "_manifest.json").exists() else None
    first = start if last is None else pd.Timestamp(last["time"]) + STEP
    times = list(pd.date_range(first, end, freq=STEP)) if first <= end else []
    runner = Runner(config)
    with StoreWriter(config.store, wait=60) as writer:
        for when in tqdm(times, desc="backfilling runs", unit="run", disable=quiet, file=sys.stderr):
            simulator.clock = when.to_pydatetime()
            runner.run_once(writer, now=when)
        writer.compact()
    simulator.clock = None
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


def keep_collecting(config, stop: threading.Event, every: float = LIVE_EVERY) -> None:
    """The live part of the demo: one run every ``every`` seconds until ``stop`` is set."""
    runner = Runner(config)
    while not stop.wait(every):
        try:
            with StoreWriter(config.store, wait=60) as writer:
                runner.run_once(writer, force=True)
                writer.compact()
        except Exception:  # the served demo must outlive a failed run; the log says why
            log.exception("live demo run failed")


def run_demo(store: Path, days: float = 3.0, serve: bool = True, port: int = 5006,
             address: str = "127.0.0.1", quiet: bool = False) -> int:
    config, simulator = prepare(Path(store), days, quiet=quiet)
    if not serve:
        simulator.close()
        return 0
    from ..serve import serve as serve_app

    stop = threading.Event()
    collector = threading.Thread(target=keep_collecting, args=(config, stop), daemon=True, name="demo-collector")
    collector.start()
    try:
        return serve_app(store=config.store, config=str(config.path), port=port, address=address)
    finally:
        stop.set()
        simulator.close()
