"""A site with push modules for the push tests: a store built by ``store_factory`` plus a
configuration whose ``wn_probe`` and ``ce_probe`` modules are rated from pushed results."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import requests
from store_factory import CATEGORIES, build_store

from collectors.push import PushCollector
from hfpanel import push
from hfpanel.api.tokens import TokenStore, key_of, split
from hfpanel.collector import register
from hfpanel.config import parse_config
from hfpanel.runner import Runner
from hfpanel.store import StoreWriter

register("push", PushCollector)  # the entry point, for a venv installed before it was declared


def push_config(store: Path, api: dict | None = None):
    return parse_config(
        {
            "site": {"name": "TEST-SITE"},
            "store": str(store),
            "categories": CATEGORIES,
            "modules": [
                {"name": "wn_probe", "category": "jobs", "collector": "push", "interval": "15m"},
                {
                    "name": "ce_probe",
                    "category": "availability",
                    "collector": "push",
                    "params": {"noinfo_after": "30m", "critical_after": "2h"},
                },
            ],
            "api": api or {"push_rate": 1000},
        }
    )


@dataclasses.dataclass
class PushSite:
    root: Path
    config: object
    tokens: TokenStore

    def token(self, *scopes, name="probe", expires=None) -> str:
        return self.tokens.create(name, list(scopes) or ["push:*"], expires)[1]

    def collect(self, when=None) -> pd.DataFrame:
        with StoreWriter(self.root) as writer:
            return Runner(self.config).run_once(writer, now=when, force=True).statuses.set_index("module")

    def spooled(self) -> int:
        spool = push.Spool(self.config.api.state_folder(self.root), readonly=True)
        try:
            return len(spool.read("wn_probe", 0, 0)["new"]) + len(spool.read("ce_probe", 0, 0)["new"])
        finally:
            spool.close()


def push_site(root: Path, api: dict | None = None) -> PushSite:
    build_store(root)
    config = push_config(root, api)
    return PushSite(root, config, TokenStore(config.api.state_folder(root)))


def send(base: str, module: str, token: str, body, *, ts=None, nonce=None, path=None, tamper=None, headers=None):
    """A signed POST (``tamper`` changes the body after signing)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    token_id, secret = split(token)
    path = path or f"/api/v1/push/{module}"
    auth = push.authorization(token_id, key_of(secret), "POST", path, raw, now=ts, nonce=nonce)
    sent = tamper(raw) if tamper else raw
    return requests.post(
        f"{base}/api/v1/push/{module}",
        data=sent,
        headers={"Authorization": auth, "Content-Type": "application/json", **(headers or {})},
        timeout=30,
    )
