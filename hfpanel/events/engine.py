"""The events step of a collection run: derive, alert, and hand back what goes into the run's own commit.

The runner calls ``EventEngine.after_run`` with the run it is about to commit; what comes back — the
``events`` rows, the incidents that changed, the ``outbox`` messages to send, the engine's small
state — is written by the runner in the same ``StoreWriter.write`` as the run itself. So no reader,
and no restart after a crash, ever sees a run without its events, or an incident change without its
messages queued: sending (``hfpanel.events.outbox``) starts only after that commit, from the outbox.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..store import Store
from . import model, tables
from .derive import STATE_KEY, Deriver, RunView, bootstrap
from .incidents import Notifier
from .messages import Renderer

log = logging.getLogger("hfpanel.events")
NOTIFY_KEY = "notify"


class EventEngine:
    """One per runner: keeps the derivation and alert state between runs (bootstrapped from the store)."""

    def __init__(self, config):
        self.config = config
        self.deriver = Deriver(config)
        self.notifier = Notifier(config)
        self.renderer = Renderer(config)
        self._ready = False
        self._controls: dict[str, list] = {}  # acks/silences parts last read

    def reset(self) -> None:
        """Forget the state (a commit failed, or derivation did): the next run re-reads the store."""
        self.deriver = Deriver(self.config)
        self.notifier = Notifier(self.config)
        self._ready = False
        self._controls = {}

    def _prepare(self, writer, at) -> None:
        if not self._ready:
            small = writer.state(STATE_KEY)
            if writer.has_table("module_status"):
                with Store(writer.root) as store:
                    self.deriver.state = bootstrap(self.deriver, store, at, small)
            else:
                self.deriver.state.restore_small(small)
            self.notifier.restore(writer.state(NOTIFY_KEY))
            self._ready = True
        self._read_controls(writer)

    def _read_controls(self, writer) -> None:
        """Acknowledgements and silences set since the last run (``hfpanel ack``/``silence``)."""
        parts = {name: writer.manifest.parts(name) for name in (tables.ACKS, tables.SILENCES)}
        if parts == self._controls or not self.notifier.active:
            return
        with Store(writer.root) as store:
            if parts[tables.ACKS]:
                self.notifier.acks = store.sql("SELECT * EXCLUDE (day) FROM acks ORDER BY time").to_dict("records")
            if parts[tables.SILENCES]:
                latest = store.sql(
                    "SELECT * EXCLUDE (day) FROM silences "
                    "QUALIFY row_number() OVER (PARTITION BY silence_id ORDER BY version DESC) = 1"
                )
                self.notifier.silences = {r["silence_id"]: r for r in latest.to_dict("records")}
        self._controls = parts

    def after_run(self, writer, run: RunView) -> tuple[dict, dict]:
        """(tables, state) to commit with ``run``. A failure here is logged in one line and costs
        the run its events, never the run itself."""
        try:
            self._prepare(writer, run.time)
            events = self.deriver.derive(run)
            result = {model.TABLE: model.frame(events, run.run_id, run.time, self.config.site)}
            state = {STATE_KEY: self.deriver.state.small()}
            if self.notifier.active or self.notifier.incidents:
                messages, changed = self.notifier.evaluate(run, events, self.deriver.state)
                result[tables.INCIDENTS] = tables.incident_rows(changed, self.config.site, run.run_id, run.time)
                result[tables.OUTBOX] = self.renderer.outbox_rows(messages)
                state[NOTIFY_KEY] = self.notifier.snapshot()
        except Exception as error:  # a bug in derivation must not lose the run
            log.error("events of run %s not derived: %s: %s", run.run_id, type(error).__name__, error)
            log.debug("event derivation failed", exc_info=True)
            self.reset()
            return {}, {}
        return result, state


def empty_like(columns) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))
