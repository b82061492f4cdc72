"""A dashboard served with sign-in (``auth: basic``) and access rules, in this process: the real
``hfpanel serve`` options (``serve.app_options``) on a free loopback port.

Users: ``alice`` (groups storage, transfers) and ``bob`` (no group), password ``<name>-pw``. Rules:
category ``storage`` for group storage, module ``sam_ce`` for group shifters, page transfers for
group transfers. ``served_secured(root)`` yields (base URL, the bokeh server, the SiteConfig)."""

from __future__ import annotations

import contextlib
import secrets
import time

import panel as pn
import yaml
from browser_support import free_port
from store_factory import MODULES, build_store, site_config

from hfpanel.auth.passwords import hash_password
from hfpanel.config import parse_config
from hfpanel.serve import app_options, harden

RULES = [
    {"category": "storage", "groups": ["storage"]},
    {"module": "sam_ce", "groups": ["shifters"]},
    {"page": "transfers", "groups": ["transfers"]},
]


def secured_config(root, auth: dict | None = None):
    """The store_factory site with an ``auth:`` section (basic sign-in by default)."""
    base = site_config({}, root)
    secret = root.parent / "cookie-secret"
    secret.write_text(secrets.token_hex(32))
    users = root.parent / "users.yaml"
    users.write_text(
        yaml.safe_dump(
            {
                "users": {
                    "alice": {"password": hash_password("alice-pw"), "groups": ["storage", "transfers"]},
                    "bob": {"password": hash_password("bob-pw")},
                }
            }
        )
    )
    section = {"mode": "basic", "cookie_secret_file": str(secret), "users_file": str(users), "access": RULES}
    section.update(auth or {})
    modules = [
        {"name": name, "title": title, "category": category, "collector": "fake", "params": {"health": 1.0}}
        for name, (category, title, _) in MODULES.items()
    ]
    categories = [{"name": c.name, "title": c.title} for c in base.categories]
    return parse_config(
        {
            "site": {"name": "TEST-SITE"},
            "store": str(root),
            "categories": categories,
            "modules": modules,
            "auth": section,
        }
    )


@contextlib.contextmanager
def served_secured(root, auth: dict | None = None, port: int | None = None):
    build_store(root)
    config = secured_config(root, auth)
    port = port or free_port()
    pages, options = app_options(root, config, port, "127.0.0.1")
    thread = pn.serve(pages, threaded=True, show=False, **options)
    deadline = time.monotonic() + 60
    while thread.server_id not in pn.state._servers and time.monotonic() < deadline:
        time.sleep(0.05)
    server = pn.state._servers[thread.server_id][0]
    harden(server)
    try:
        yield f"http://127.0.0.1:{port}", server, config
    finally:
        thread.stop()
