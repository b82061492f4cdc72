"""OpenID Connect sign-in against a real provider (authlib's server on 127.0.0.1): the code flow
with PKCE, state and nonce; the ID token verified with the provider's keys; groups from its claim
decide what each person sees; a forged or replayed answer signs nobody in. And a person in
Chromium signs in at the provider and lands on the dashboard."""

from __future__ import annotations

import re

import pytest
import requests
from browser_support import free_port
from oidc_provider import CLIENT_SECRET, oidc_provider
from secured_site import served_secured


@pytest.fixture(scope="module")
def oidc_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc")
    port = free_port()
    (folder / "oidc-secret").write_text(CLIENT_SECRET)
    with oidc_provider([f"http://127.0.0.1:{port}/login"]) as provider:
        auth = {
            "mode": "oidc",
            "users_file": None,
            "oidc": {
                "issuer": provider.issuer,
                "client_id": "hfpanel",
                "client_secret_file": str(folder / "oidc-secret"),
            },
        }
        with served_secured(folder / "store", auth, port=port) as (url, _, _):
            yield url, provider


def sign_in(url: str, user: str, password: str | None = None) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    form = session.get(f"{url}/", timeout=30)  # → /login → the provider's form
    assert form.url.startswith("http://127.0.0.1") and "Sign in at the provider" in form.text, form.text[:300]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.text))
    answer = session.post(form.url.split("?")[0], data={**fields, "user": user, "pw": password or f"{user}-pw"})
    return session, answer


def test_a_person_signs_in_at_the_provider_and_sees_what_their_groups_open(oidc_site):
    url, provider = oidc_site
    alice, landed = sign_in(url, "alice")
    assert landed.status_code == 200 and landed.url == f"{url}/", landed.text[:300]
    assert provider.logins[-1] == "alice"
    seen = {m["module"] for m in alice.get(f"{url}/api/v1/modules", timeout=30).json()["rows"]}
    assert seen == {"sam_srm", "dcache_pools", "condor_queue", "condor_nodes"}  # storage from the groups claim
    bob, _ = sign_in(url, "bob")
    assert "dcache_pools" not in {m["module"] for m in bob.get(f"{url}/api/v1/modules", timeout=30).json()["rows"]}


def test_a_wrong_password_at_the_provider_signs_nobody_in(oidc_site):
    url, _ = oidc_site
    session, answer = sign_in(url, "alice", "guess")
    assert answer.status_code == 401
    assert session.get(f"{url}/api/v1/status", timeout=30).status_code == 401


def test_a_forged_or_foreign_answer_signs_nobody_in(oidc_site):
    url, _ = oidc_site
    stranger = requests.Session()
    forged = stranger.get(f"{url}/login", params={"code": "made-up", "state": "made-up"}, timeout=30)
    assert forged.status_code == 502 and "started elsewhere" in forged.text
    session = requests.Session()
    away = session.get(f"{url}/login", allow_redirects=False, timeout=30)
    assert away.status_code == 302 and "code_challenge=" in away.headers["Location"]
    wrong_state = session.get(f"{url}/login", params={"code": "x", "state": "not-the-one"}, timeout=30)
    assert wrong_state.status_code == 502 and "does not belong" in wrong_state.text
    assert session.get(f"{url}/api/v1/status", timeout=30).status_code == 401


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_signs_in_through_the_provider(oidc_site, page, shots):
    url, _ = oidc_site
    page.goto(f"{url}/")
    page.fill("#user", "alice")
    page.fill("#pw", "alice-pw")
    page.click("#go")
    page.wait_for_url(f"{url}/")
    page.get_by_text("TEST-SITE").first.wait_for()
    page.screenshot(path=str(shots / "oidc-signed-in.png"))
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["hfpanel_session"]["httpOnly"] and cookies["hfpanel_session"]["sameSite"] == "Lax"
