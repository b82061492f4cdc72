"""Sign-in and access (issue 14): with ``auth:`` configured, nothing of the site reaches a
stranger through any route of the server — enumerated from its own routing table, so a new route
cannot slip past — a signed-in person sees only the categories and modules their groups open, in
lists and in every aggregate, and tokens, forwarded DNs and WebSocket origins are only believed
when they should be."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests
import tornado.httpclient
import tornado.websocket
from bokeh.server.util import check_allowlist
from secured_site import served_secured

from hfpanel.api.tokens import TokenStore
from hfpanel.auth.gate import AuthRefused, Gate
from hfpanel.auth.settings import AuthSettings

PUBLIC = ("/login", "/logout", "/favicon.ico")
STATIC = re.compile(r"/static/|^/components/")


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with served_secured(tmp_path_factory.mktemp("secured") / "store") as served:
        yield served


def sign_in(url: str, name: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{url}/login?next=/", data={"username": name, "password": f"{name}-pw", "_xsrf": xsrf}, timeout=30
    )
    assert answer.status_code == 200, answer.text[:300]
    return session


def concrete(pattern: str) -> str:
    """A path a routing rule matches: each group filled with a plausible name."""
    path = pattern.rstrip("$").lstrip("^")
    path = re.sub(r"\(\?P<module>[^)]*\)", "sam_ce", path)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", "x", path)
    path = re.sub(r"\((\?:)?[^)]*\)[?*]?", "", path)
    return path.replace("\\", "").replace("/?", "/").replace(".*", "").replace("?", "") or "/"


def routing_table(server) -> list[str]:
    rules = server._tornado.wildcard_router.rules
    return sorted({concrete(rule.matcher.regex.pattern) for rule in rules})


def test_no_route_shows_anything_to_a_stranger(secured):
    url, server, _ = secured
    paths = routing_table(server)
    assert {"/api/v1/status", "/api/v1/push/sam_ce", "/", "/transfers/", "/ws", "/plots/metadata"} <= set(paths), paths
    for path in paths:
        for method in ("GET", "POST"):
            answer = requests.request(method, url + path, allow_redirects=False, timeout=30)
            if path in PUBLIC or STATIC.search(path):
                assert "sam_ce" not in answer.text and "dCache" not in answer.text, path  # the site name may show
                continue
            # refused: sent to sign in, unauthorised, forbidden, absent, or (bokeh's autoload without a
            # session) a bare error; never a 200 with the site in it
            assert answer.status_code in (302, 400, 401, 403, 404, 405, 500), (method, path, answer.status_code)
            if answer.status_code == 302:
                assert "login" in answer.headers["Location"].split("?")[0], (path, answer.headers["Location"])
            assert "sam_ce" not in answer.text and "dCache" not in answer.text, (method, path)


def test_no_route_shows_anything_to_a_token_of_the_wrong_scope(secured):
    """A push token (scope push:*) read by every route of the routing table, as a bearer: it opens
    no page and no API answer; a push with it but without the signature is refused too."""
    url, server, config = secured
    pusher = TokenStore(config.api.state_folder(config.store)).create("probe-only", ["push:*"])[1]
    bearer = {"Authorization": f"Bearer {pusher}"}
    for path in routing_table(server):
        if path in PUBLIC or STATIC.search(path):
            continue
        for method in ("GET", "POST"):
            answer = requests.request(method, url + path, headers=bearer, allow_redirects=False, timeout=30)
            assert answer.status_code in (302, 400, 401, 403, 404, 405, 500), (method, path, answer.status_code)
            assert "sam_ce" not in answer.text and "dCache" not in answer.text, (method, path)


def test_only_a_token_with_read_scope_reads_the_api(secured):
    url, _, config = secured
    tokens = TokenStore(config.api.state_folder(config.store))
    reader = tokens.create("script", ["read"])[1]
    pusher = tokens.create("probe", ["push:*"])[1]
    revoked, _ = tokens.create("gone", ["read"])
    ok = requests.get(f"{url}/api/v1/modules", headers={"Authorization": f"Bearer {reader}"}, timeout=30)
    wrong = requests.get(f"{url}/api/v1/modules", headers={"Authorization": f"Bearer {pusher}"}, timeout=30)
    fake = requests.get(f"{url}/api/v1/modules", headers={"Authorization": f"Bearer {reader[:-2]}xx"}, timeout=30)
    assert ok.status_code == 200 and wrong.status_code == 401 and fake.status_code == 401
    assert ok.headers["Cache-Control"] == "private, no-cache"
    names = [m["module"] for m in ok.json()["rows"]]
    assert "sam_ce" not in names and "dcache_pools" not in names  # a read token has no group


def test_a_signed_in_person_sees_what_their_groups_open_and_no_more(secured):
    url, _, _ = secured
    alice, bob = sign_in(url, "alice"), sign_in(url, "bob")
    assert alice.get(f"{url}/", timeout=60).status_code == 200
    seen = {m["module"] for m in alice.get(f"{url}/api/v1/modules", timeout=30).json()["rows"]}
    assert seen == {"sam_srm", "dcache_pools", "condor_queue", "condor_nodes"}
    seen_bob = {m["module"] for m in bob.get(f"{url}/api/v1/modules", timeout=30).json()["rows"]}
    assert seen_bob == {"sam_srm", "condor_queue", "condor_nodes"}
    assert bob.get(f"{url}/api/v1/modules/dcache_pools/history", timeout=30).status_code == 404
    assert bob.get(f"{url}/api/v1/modules/sam_ce", timeout=30).status_code == 404
    status = bob.get(f"{url}/api/v1/status", timeout=30).json()
    assert [c["category"] for c in status["categories"]] == ["availability", "jobs"]
    availability = status["categories"][0]
    assert availability["modules"] == 1 and availability["critical"] == 0  # sam_ce's critical does not show
    assert sum(status["counts"].values()) == 3
    feed = bob.get(f"{url}/api/v1/feed", timeout=30).json()
    assert {c["module"] for c in feed["changes"]} <= seen_bob and feed["level"] != "critical"
    assert all(r["critical"] is None for r in bob.get(f"{url}/api/v1/runs", timeout=30).json()["rows"])
    assert {c["module"] for c in bob.get(f"{url}/api/v1/changes", timeout=30).json()["rows"]} <= seen_bob
    bob_events = bob.get(f"{url}/api/v1/events", params={"since": "2000-01-01"}, timeout=30).json()["rows"]
    assert bob_events and {e["module"] for e in bob_events if e["module"]} <= seen_bob
    assert "category/storage" not in {e["subject"] for e in bob_events}
    document = bob.get(f"{url}/api/v1/openapi.json", timeout=30).json()
    assert "sam_ce" not in document["paths"]["/modules/{module}"]["get"]["parameters"][0]["schema"]["enum"]
    assert bob.get(f"{url}/api/v1/transfers/matrix", timeout=30).status_code == 403
    assert alice.get(f"{url}/api/v1/transfers/matrix", timeout=30).status_code == 200


def test_sign_in_refuses_wrong_passwords_forged_forms_and_foreign_redirects(secured):
    url, _, _ = secured
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30)
    assert (
        form.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in form.headers["Content-Security-Policy"]
    )
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    forged = requests.post(f"{url}/login", data={"username": "alice", "password": "alice-pw"}, timeout=30)
    assert forged.status_code == 403  # no XSRF token: a cross-site form cannot sign anyone in
    wrong = session.post(f"{url}/login", data={"username": "alice", "password": "nope", "_xsrf": xsrf}, timeout=30)
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    away = session.post(
        f"{url}/login?next=//evil.example.org/x",
        data={"username": "alice", "password": "alice-pw", "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )
    assert away.status_code == 302 and away.headers["Location"] == "/"
    cookie = next(c for c in session.cookies if c.name == "hfpanel_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    value = cookie.value.strip('"')
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")  # the signature no longer matches
    assert requests.get(f"{url}/api/v1/status", cookies={"hfpanel_session": value}, timeout=30).status_code == 200
    assert requests.get(f"{url}/api/v1/status", cookies={"hfpanel_session": forged}, timeout=30).status_code == 401


def test_pages_carry_security_headers(secured):
    url, _, _ = secured
    alice = sign_in(url, "alice")
    for path in ("/", "/api/v1/site", "/login"):
        headers = alice.get(url + path, timeout=60).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_a_dn_header_counts_only_from_a_trusted_proxy(tmp_path):
    dn = {"X-SSL-Client-S-DN": "/DC=org/CN=Alice", "X-SSL-Client-Verify": "SUCCESS"}
    elsewhere = {
        "mode": "x509",
        "x509": {"trusted_proxies": ["192.0.2.7"], "groups": {"/DC=org/CN=Alice": ["storage"]}},
    }
    with served_secured(tmp_path / "a" / "store", elsewhere) as (url, _, _):
        assert requests.get(f"{url}/api/v1/status", headers=dn, timeout=30).status_code == 401
    here = {"mode": "x509", "x509": {"trusted_proxies": ["127.0.0.1"], "groups": {"/DC=org/CN=Alice": ["storage"]}}}
    with served_secured(tmp_path / "b" / "store", here) as (url, _, _):
        answer = requests.get(f"{url}/api/v1/modules", headers=dn, timeout=30)
        assert answer.status_code == 200 and "dcache_pools" in {m["module"] for m in answer.json()["rows"]}
        unverified = {**dn, "X-SSL-Client-Verify": "FAILED:unable to verify"}
        assert requests.get(f"{url}/api/v1/status", headers=unverified, timeout=30).status_code == 401


def test_websockets_from_look_alike_origins_are_refused(tmp_path):
    async def handshake(url, origin):
        request = tornado.httpclient.HTTPRequest(url.replace("http", "ws") + "/ws", headers={"Origin": origin})
        try:
            connection = await tornado.websocket.websocket_connect(request)
        except tornado.httpclient.HTTPClientError as error:
            return error.code
        connection.close()
        return 101

    with served_secured(tmp_path / "store", {"origins": ["dashboard.example.org"]}) as (url, server, _):
        assert asyncio.run(handshake(url, "https://dashboard.example.org.attacker.net")) == 403
        assert asyncio.run(handshake(url, "https://attacker.net")) == 403
        allowed = server._tornado.websocket_origins  # what bokeh's check_origin compares with, whole
        assert check_allowlist("dashboard.example.org", allowed)
        assert not check_allowlist("dashboard.example.org.attacker.net", allowed)


def test_a_dashboard_without_sign_in_stays_on_loopback_and_a_secret_is_required(tmp_path, monkeypatch):
    with pytest.raises(AuthRefused, match="bind to 127.0.0.1"):
        Gate(AuthSettings(), address="0.0.0.0")
    Gate(AuthSettings(), address="127.0.0.1")
    monkeypatch.delenv("HFPANEL_COOKIE_SECRET", raising=False)
    with pytest.raises(AuthRefused, match="HFPANEL_COOKIE_SECRET"):
        Gate(AuthSettings(mode="basic", users_file=tmp_path / "u.yaml"), address="0.0.0.0")
    monkeypatch.setenv("HFPANEL_COOKIE_SECRET", "short")
    with pytest.raises(AuthRefused, match="shorter than 32"):
        Gate(AuthSettings(mode="basic", users_file=tmp_path / "u.yaml"), address="0.0.0.0")
