"""The events step of a collection run: derive, and hand back what goes into the run's own commit.

The runner calls ``EventEngine.after_run`` with the run it is about to commit; what comes back (the
``events`` rows, the engine's small state) is written by the runner in the same
``StoreWriter.write`` as the run itself, so no reader — and no restart after a crash — ever sees a
run without its events or events without their run.
"""

from __future__ import annotations

import logging

from ..store import Store
from . import model
from .derive import STATE_KEY, Deriver, RunView, bootstrap

log = logging.getLogger("hfpanel.events")


class EventEngine:
    """One per runner: keeps the derivation state between runs (bootstrapped from the store)."""

    def __init__(self, config):
        self.config = config
        self.deriver = Deriver(config)
        self._ready = False

    def reset(self) -> None:
        """Forget the state (a commit failed, or derivation did): the next run re-reads the store."""
        self.deriver = Deriver(self.config)
        self._ready = False

    def _prepare(self, writer, at) -> None:
        if self._ready:
            return
        small = writer.state(STATE_KEY)
        if writer.manifest["tables"].get("module_status"):
            with Store(writer.root) as store:
                self.deriver.state = bootstrap(self.deriver, store, at, small)
        else:
            self.deriver.state.restore_small(small)
        self._ready = True

    def after_run(self, writer, run: RunView) -> tuple[dict, dict]:
        """(tables, state) to commit with ``run``. A failure here is logged in one line and costs
        the run its events, never the run itself."""
        try:
            self._prepare(writer, run.time)
            events = self.deriver.derive(run)
        except Exception as error:  # a bug in derivation must not lose the run
            log.error("events of run %s not derived: %s: %s", run.run_id, type(error).__name__, error)
            log.debug("event derivation failed", exc_info=True)
            self.reset()
            return {}, {}
        return (
            {model.TABLE: model.frame(events, run.run_id, run.time, self.config.site)},
            {STATE_KEY: self.deriver.state.small()},
        )
