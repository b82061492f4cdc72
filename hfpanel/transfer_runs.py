"""After a transfer aggregation: run the modules that read what it wrote.

A collection run's events come from its modules' results; the transfer statistics change with each
aggregation (every few minutes, from cron or the ingest daemon), not with the collector's interval.
So after an aggregation that folded new bins, the modules whose collector reads the statistics or the
feed (``follows_transfers``: ``transfer_efficiency``, ``ingest_health``) run once more, at once, as a
run of their own: rated, stored and their events derived and committed with it, exactly as in a
collection run — a link going bad is an event and a message minutes after the data arrived.

That run is one more writer of module runs. The collector's runner notices it (the manifest's
``last_run``) and reads its state back from the store instead of trusting its memory, so no level
change is derived twice and no incident is opened twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .collector import collector_class
from .events.outbox import send_queued
from .runner import Runner, RunSummary
from .store import StoreLocked, StoreWriter

log = logging.getLogger("hfpanel.transfer_runs")


def transfer_modules(config, root=None) -> list[str]:
    """The modules of ``config`` whose collector reads the transfer statistics or feed (of the store
    ``root`` when given: a module reading another store's statistics has nothing new to read)."""
    names = []
    for module in config.modules:
        where = (module.params or {}).get("store")
        if root is not None and where and Path(where).resolve() != Path(root).resolve():  # (as the collector opens it)
            continue
        try:
            follows = getattr(collector_class(module.collector), "follows_transfers", False)
        except Exception:  # an unknown collector fails in its own runs, with the reason
            follows = False
        if follows:
            names.append(module.name)
    return names


class Owed:
    """The run a busy store put off: owed until an aggregation finds the store free (a daemon's
    next aggregation may fold nothing new, yet the modules have not read the last one's bins)."""

    def __init__(self):
        self.owed = False


def run_after_aggregation(
    config,
    summary,
    now=None,
    wait: float = 60.0,
    writer=None,
    root=None,
    runner: Runner | None = None,
    owed: Owed | None = None,
) -> RunSummary | None:
    """Run the transfer modules of ``config`` when the aggregation ``summary`` folded new bins (or
    ``owed`` says an earlier one could not); returns the run (None when there was nothing new,
    nothing follows the transfers, or the store stayed busy for ``wait`` seconds). A failure is one
    log line: the aggregation is committed whatever happens here. ``runner``: one kept between
    aggregations (a daemon), so its state is not read back from the store each time."""
    names = transfer_modules(config, root)
    new = summary is not None and not summary.nothing_new and bool(summary.bins)
    if not names or not (new or (owed is not None and owed.owed)):
        return None
    try:
        runner = runner or Runner(config)
        if writer is not None:
            run = _run(runner, config, writer, names, now)
        else:
            with StoreWriter(config.store, wait=wait) as own:
                run = _run(runner, config, own, names, now)
    except StoreLocked as error:
        log.info("modules after the aggregation put off (%s): %s", ", ".join(names), error)
        if owed is not None:
            owed.owed = True
        return None
    except Exception as error:
        log.error("modules after the aggregation not run (%s): %s: %s", ", ".join(names), type(error).__name__, error)
        return None
    if owed is not None:
        owed.owed = False
    return run


def follower(path, wait: float = 60.0, root=None):
    """``summary -> None`` that runs the transfer modules of the site file ``path`` after an
    aggregation (``hfpanel transfers aggregate --config``, ``hfpanel ingest``); None when the file
    is not a whole site (a transfers-only file) or none of its modules reads the transfers. A run
    put off by a busy store (``wait`` 0: a daemon never holds up its feed for it) is owed to the
    next aggregation."""
    from .config import load_config
    from .config_error import ConfigError

    try:
        config = load_config(path)
    except ConfigError as error:
        log.info("%s: no modules run after aggregations (%s)", path, error.problems[0] if error.problems else error)
        return None
    if not transfer_modules(config):
        return None
    runner = Runner(config)  # kept: its state follows the store (it notices the collector's runs)
    owed = Owed()
    return lambda summary: run_after_aggregation(config, summary, wait=wait, root=root, runner=runner, owed=owed)


def _run(runner, config, writer, names, now) -> RunSummary:
    run = runner.run_once(writer, now=now, only=names)
    if run.committed:
        send_queued(writer, config)
        log.info("after the aggregation: run %s of %s", run.run_id, ", ".join(names))
    return run
