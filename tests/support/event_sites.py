"""Sites for the event tests: a config of fake modules whose results each run sets, a runner loop,
and RunViews for driving the deriver directly.

    site = EventSite(tmp_path, modules={"ce": "availability", "pool": "storage"})
    site.run({"ce": {"health": 0.1}})          # one run through the real runner and writer
    site.events()                               # the stored events, oldest first
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from store_factory import FakeCollector  # noqa: F401  (registers the "fake" collector)

from hfpanel.config import parse_config
from hfpanel.events.derive import ModuleRow, RunView
from hfpanel.events.outbox import dispatch
from hfpanel.queries.events import events as query_events
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

START = pd.Timestamp("2026-11-20 00:00")


def notifying(smtp_port: int | None = None, hook_url: str | None = None, **rule) -> dict:
    """A notifications section: mail to the SMTP sink and/or the webhook sink, one rule (``rule``
    overrides: match, for, keep_firing, repeat, group_by)."""
    receivers = []
    if smtp_port:
        receivers.append(
            {
                "name": "mail",
                "mail": {
                    "to": ["grid-admins@example.org"],
                    "from": "hfpanel@example.org",
                    "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
                },
            }
        )
    if hook_url:
        receivers.append({"name": "hook", "webhook": {"url": hook_url, "timeout": "5s"}})
    return {
        "base_url": "https://hfpanel.example.org",
        "receivers": receivers,
        "rules": [
            {
                "name": "critical",
                "match": {"level": ["critical"]},
                "receivers": [r["name"] for r in receivers],
                **rule,
            }
        ],
        "delivery": {"attempts": 4, "backoff": "1m", "max_backoff": "10m"},
    }


def config(root: Path, modules: dict, specs: dict | None = None, notifications=None, extra_modules=(), **module_keys):
    """A site of ``fake`` modules (name -> category); ``specs`` gives each module's params this run."""
    specs = specs or {}
    categories = sorted(set(modules.values()))
    raw = {
        "site": "T2_TEST",
        "store": str(root),
        "categories": [{"name": c} for c in categories],
        "modules": [
            {
                "name": name,
                "category": category,
                "collector": "fake",
                "params": dict(specs.get(name, {})),
                "interval": "15m",
                "max_age": "1h",
                **module_keys,
            }
            for name, category in modules.items()
        ]
        + list(extra_modules),
    }
    if notifications is not None:
        raw["notifications"] = notifications
    return parse_config(raw)


class EventSite:
    """Runs of a fake site into a store, one ``run()`` per collection run, 15 minutes apart."""

    def __init__(self, root: Path, modules: dict, notifications=None, start=START, step="15m"):
        self.root, self.modules, self.notifications = Path(root), modules, notifications
        self.time, self.step = pd.Timestamp(start), pd.Timedelta(step)
        self.runner = None

    def run(self, specs: dict | None = None, fresh_runner: bool = False, at=None, send: bool = True):
        cfg = config(self.root, self.modules, specs, self.notifications)
        if self.runner is None or fresh_runner:
            self.runner = Runner(cfg)
        else:  # the same process, the next run's parameters
            self.runner.config = cfg
            for module in cfg.modules:
                self.runner.events.deriver.modules[module.name] = module
        when = pd.Timestamp(at) if at is not None else self.time
        with StoreWriter(self.root) as writer:
            summary = self.runner.run_once(writer, now=when, force=True)
            if send and cfg.notifications.notify.receivers:
                dispatch(writer, cfg, now=when)
        self.time = when + self.step
        return summary

    def send(self, at=None):
        """Send what the outbox holds (as the collector does after a run), at ``at`` (default: now)."""
        cfg = config(self.root, self.modules, {}, self.notifications)
        with StoreWriter(self.root) as writer:
            return dispatch(writer, cfg, now=pd.Timestamp(at) if at is not None else self.time)

    def table(self, name: str) -> pd.DataFrame:
        with Store(self.root) as store:
            return (
                store.sql(f"SELECT * EXCLUDE (day) FROM {name} ORDER BY time")
                if store.has_table(name)
                else pd.DataFrame()
            )

    def events(self, **filters) -> pd.DataFrame:
        with Store(self.root) as store:
            return query_events(store, **filters)


def view(time, levels: dict, categories=None, metrics=None, rows=None, run_id=None, stale=None) -> RunView:
    """A RunView of modules at ``levels`` (name -> level)."""
    stale = stale or {}
    return RunView(
        run_id=run_id or f"run-{pd.Timestamp(time):%H%M%S}",
        time=pd.Timestamp(time),
        modules=[ModuleRow(name, "cat", level, stale.get(name, False)) for name, level in levels.items()],
        categories=categories or {},
        metrics=metrics or {},
        rows=rows or {},
    )
