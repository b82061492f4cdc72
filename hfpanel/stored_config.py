"""The configuration in force at every run, kept in the store, so every past status can be explained
(and later re-rated) exactly as it was decided — also when the app is served with ``--store`` alone.

``effective_config(site_config)`` is what decided a run: each module's collector, parameters (with
secrets replaced by "<redacted>"), intervals, the *effective* rating rule (the config's, else the
collector's default for those parameters), the partial-answer policy, instruction, links and hosts; each category's roll-up
and title; the levels. It is stored content-addressed: the ``configs`` table holds one row per
distinct digest, written in the same commit as the first run that used it, and ``runs.config_hash``
names the one of each run.
"""

from __future__ import annotations

import hashlib
import json
import logging

import pandas as pd

from .redact import redact_params

log = logging.getLogger("hfpanel.stored_config")
TABLE = "configs"


def redact(params: dict) -> dict:
    """``params`` with secrets hidden, by the one rule of ``hfpanel.redact``."""
    return redact_params(params)[0]


def effective_config(config) -> dict:
    """What decides a run of ``config`` (a SiteConfig), as plain JSON-ready data."""
    modules = []
    for module in config.modules:
        try:
            rule = module.effective_rating()
        except Exception as error:  # a collector that cannot be built: its module fails the run anyway
            log.debug("no effective rule for %s: %s", module.name, error)
            rule = module.rating
        try:
            partial = module.effective_partial().as_rule()
        except Exception:  # an unknown collector type: its module fails the run anyway
            partial = None
        modules.append(
            {
                "name": module.name,
                "title": module.title,
                "category": module.category,
                "collector": module.collector,
                "params": redact(module.params),
                "interval": module.interval,
                "timeout": module.timeout,
                "max_age": module.max_age,
                "weight": module.weight,
                "rating": rule,
                "partial": partial,
                "instruction": module.instruction,
                "links": list(module.links),
                "hosts": list(module.hosts),
            }
        )
    categories = [
        {"name": c.name, "title": c.title, "rollup": c.rollup, "description": getattr(c, "description", "")}
        for c in config.categories
    ]
    effective = {
        "site": config.site,
        "title": config.title,
        "levels": {"ok": config.levels.ok, "warning": config.levels.warning},
        "categories": categories,
        "modules": modules,
    }
    profiles = getattr(config, "availability", None)
    if profiles:  # only when configured: a configuration without profiles keeps its digest
        effective["availability"] = [profile.as_dict() for profile in profiles]
    return effective


def to_json(effective: dict) -> str:
    return json.dumps(effective, sort_keys=True, default=str, separators=(",", ":"))


def digest(effective: dict) -> str:
    return hashlib.sha256(to_json(effective).encode()).hexdigest()[:16]


def config_row(effective: dict, now) -> pd.DataFrame:
    """The ``configs`` row of ``effective`` (written once per digest, with the run that first used it)."""
    return pd.DataFrame(
        [{"config_hash": digest(effective), "time": now, "site": effective["site"], "config": to_json(effective)}]
    )


def stored_digests(store) -> set[str]:
    """The digests the store already holds."""
    if not store.has_table(TABLE):
        return set()
    return set(store.sql(f"SELECT DISTINCT config_hash FROM {TABLE}")["config_hash"])


def config_at(store, at=None) -> dict | None:
    """The effective configuration of the run shown at ``at`` (None: the latest run), or None for a
    run made before configurations were stored."""
    if not store.has_table(TABLE):
        return None
    run = store.latest_run(at)
    if run is None or "config_hash" not in run.index or pd.isna(run["config_hash"]):
        return None
    found = store.sql(f"SELECT config FROM {TABLE} WHERE config_hash = ? LIMIT 1", [str(run["config_hash"])])
    return None if found.empty else json.loads(found["config"].iloc[0])


def stored_module(effective: dict | None, module: str) -> dict | None:
    if not effective:
        return None
    return next((m for m in effective.get("modules", []) if m.get("name") == module), None)
