"""No secret reaches a log (issue 14): ``hfpanel -vv serve`` with basic sign-in, a wrong and a right
password, a read token, a signed push and a replayed one; the cookie secret, the passwords, the
tokens and the session cookie appear nowhere in everything the server wrote."""

from __future__ import annotations

import re
import secrets

import pytest
import requests
import yaml
from browser_support import served
from push_site import send
from store_factory import CATEGORIES, build_store

from hfpanel.api.tokens import TokenStore
from hfpanel.auth.passwords import hash_password

pytestmark = pytest.mark.slow


def test_secrets_never_reach_the_log(tmp_path):
    root = tmp_path / "store"
    build_store(root)
    cookie_secret, password = secrets.token_hex(32), "s3cret-" + secrets.token_hex(6)
    (tmp_path / "cookie").write_text(cookie_secret)
    (tmp_path / "users.yaml").write_text(
        yaml.safe_dump({"users": {"alice": {"password": hash_password(password), "groups": ["storage"]}}})
    )
    config = tmp_path / "site.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "site": "TEST-SITE",
                "store": str(root),
                "categories": CATEGORIES,
                "modules": [
                    {"name": "sam_ce", "category": "availability", "collector": "store_factory:FakeCollector"},
                    {"name": "wn_probe", "category": "jobs", "collector": "collectors.push:PushCollector"},
                ],
                "auth": {
                    "mode": "basic",
                    "cookie_secret_file": str(tmp_path / "cookie"),
                    "users_file": str(tmp_path / "users.yaml"),
                },
            }
        )
    )
    tokens = TokenStore(root / "_api")
    reader = tokens.create("reader", ["read"])[1]
    pusher = tokens.create("probe", ["push:wn_probe"])[1]
    log = tmp_path / "serve.log"
    with served(root, log, config=config, verbosity="-vv") as url:
        session = requests.Session()
        form = session.get(f"{url}login", timeout=60)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
        wrong = session.post(f"{url}login", data={"username": "alice", "password": password[::-1], "_xsrf": xsrf})
        right = session.post(f"{url}login", data={"username": "alice", "password": password, "_xsrf": xsrf})
        assert (wrong.status_code, right.status_code) == (401, 200)
        assert session.get(f"{url}api/v1/status", timeout=60).status_code == 200
        assert requests.get(f"{url}api/v1/status", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
        assert requests.get(f"{url}api/v1/status", headers={"Authorization": f"Bearer {pusher}"}).status_code == 401
        base = url.rstrip("/")
        assert send(base, "wn_probe", pusher, {"outcome": "ok"}, nonce="cd" * 16).status_code == 202
        assert send(base, "wn_probe", pusher, {"outcome": "ok"}, nonce="cd" * 16).status_code == 409
        cookie = session.cookies["hfpanel_session"]
    text = log.read_text()
    assert "signed in" in text and "refused" in text  # the log does speak of what happened
    for secret in (cookie_secret, password, password[::-1], reader, pusher, cookie.strip('"')):
        assert secret not in text
    for token in (reader, pusher):
        assert token.split("_", 2)[2] not in text
