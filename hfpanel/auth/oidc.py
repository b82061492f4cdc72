"""OpenID Connect sign-in (CERN SSO / INDIGO IAM / Keycloak style): the authorization code flow
with PKCE, state and nonce, the ID token's signature checked against the provider's JWKS
(joserfc), its issuer, audience, expiry and nonce checked, groups read from a claim.

``/login`` sends the browser to the provider (the state, nonce, PKCE verifier and the page asked
for travel in a signed, 10-minute, HttpOnly cookie) and takes it back (``?code=…&state=…``). The
provider is asked over HTTPS (or loopback in tests) with a 10 s timeout; any failure is a one-line
page, logged once, never with a token or secret in it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import logging
import secrets
import threading
import time
import urllib.parse

import requests
import tornado.web
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .identity import Identity, set_session
from .pages import LOGIN, Page, safe_next

log = logging.getLogger("hfpanel.auth")
FLOW_COOKIE = "hfpanel_oidc"
FLOW_MINUTES = 10
TIMEOUT = 10.0


class OidcError(Exception):
    """The sign-in could not be completed (one line, no secrets)."""


class Discovery:
    """The provider's configuration and keys, fetched once and refreshed when a key is unknown."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self._config: dict | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def config(self) -> dict:
        with self._lock:
            if self._config is None:
                self._config = _get_json(f"{self.issuer}/.well-known/openid-configuration")
                if self._config.get("issuer", "").rstrip("/") != self.issuer:
                    raise OidcError(f"the provider calls itself {self._config.get('issuer')!r}, not {self.issuer!r}")
            return self._config

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(_get_json(self._config["jwks_uri"]))
            return self._keys


def _get_json(url: str) -> dict:
    try:
        answer = requests.get(url, timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()
    except (requests.RequestException, ValueError) as error:
        raise OidcError(f"cannot read {url}: {type(error).__name__}") from None


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def groups_of(claims: dict, claim: str) -> tuple:
    value = claims.get(claim, [])
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return tuple(str(v).strip("/") for v in value if v) if isinstance(value, (list, tuple, str)) else ()


def exchange(discovery: Discovery, settings, secret: str, code: str, verifier: str, redirect_uri: str, nonce: str):
    """Code → verified ID token claims (blocking: run it off the event loop)."""
    config = discovery.config()
    try:
        answer = requests.post(
            config["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                  "code_verifier": verifier},
            auth=(settings.client_id, secret),
            timeout=TIMEOUT,
        )  # fmt: skip
    except requests.RequestException as error:
        raise OidcError(f"the token endpoint did not answer: {type(error).__name__}") from None
    if answer.status_code != 200:
        try:
            reason = answer.json().get("error", "")
        except ValueError:
            reason = ""
        raise OidcError(f"the token endpoint refused the code (HTTP {answer.status_code} {reason})".strip())
    id_token = answer.json().get("id_token")
    if not id_token:
        raise OidcError("the provider sent no ID token (is 'openid' among the scopes?)")
    try:
        try:
            token = jwt.decode(id_token, discovery.keys(), algorithms=["RS256", "ES256", "PS256"])
        except JoseError:
            token = jwt.decode(id_token, discovery.keys(refresh=True), algorithms=["RS256", "ES256", "PS256"])
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise OidcError(f"the ID token does not verify: {type(error).__name__}") from None
    return token.claims


def oidc_login(gate, attributes: dict) -> type:
    settings = gate.settings.oidc
    discovery = Discovery(settings.issuer)
    secret = settings.client_secret()

    class OidcLogin(Page):
        def _redirect_uri(self) -> str:
            return settings.redirect_uri or f"{self.request.protocol}://{self.request.host}{LOGIN}"

        async def get(self) -> None:
            try:
                if self.get_argument("code", None) or self.get_argument("error", None):
                    await self._back()
                else:
                    await self._away()
            except OidcError as error:
                log.warning("OIDC sign-in failed: %s", error)
                self.page(
                    f"<p>Sign-in failed: {html.escape(str(error))}.</p><p><a href='{LOGIN}'>Try again</a></p>", 502
                )

        async def _away(self) -> None:
            config = await asyncio.get_running_loop().run_in_executor(None, discovery.config)
            flow = {
                "state": secrets.token_urlsafe(24),
                "nonce": secrets.token_urlsafe(24),
                "verifier": secrets.token_urlsafe(48),
                "next": safe_next(self.get_argument("next", "/")),
                "t": time.time(),
            }
            signed = tornado.web.create_signed_value(gate.secret, FLOW_COOKIE, json.dumps(flow))
            self.set_cookie(FLOW_COOKIE, signed, httponly=True, samesite="Lax", path=LOGIN,
                            secure=self.request.protocol == "https")  # fmt: skip
            query = {
                "response_type": "code",
                "client_id": settings.client_id,
                "redirect_uri": self._redirect_uri(),
                "scope": " ".join(settings.scopes),
                "state": flow["state"],
                "nonce": flow["nonce"],
                "code_challenge": _challenge(flow["verifier"]),
                "code_challenge_method": "S256",
            }
            self.redirect(f"{config['authorization_endpoint']}?{urllib.parse.urlencode(query)}")

        async def _back(self) -> None:
            if self.get_argument("error", None):
                raise OidcError(f"the provider said {self.get_argument('error')[:80]!r}")
            raw = tornado.web.decode_signed_value(
                gate.secret, FLOW_COOKIE, self.get_cookie(FLOW_COOKIE), max_age_days=FLOW_MINUTES / 1440
            )
            flow = json.loads(raw) if raw else None
            if not flow or time.time() - flow["t"] > FLOW_MINUTES * 60:
                raise OidcError("the sign-in took too long or started elsewhere: start again")
            if not secrets.compare_digest(flow["state"], self.get_argument("state", "")):
                raise OidcError("the answer does not belong to this sign-in (state)")
            self.clear_cookie(FLOW_COOKIE, path=LOGIN)
            claims = await asyncio.get_running_loop().run_in_executor(
                None,
                exchange,
                discovery,
                settings,
                secret,
                self.get_argument("code"),
                flow["verifier"],
                self._redirect_uri(),
                flow["nonce"],
            )
            name = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
            identity = Identity(name, groups_of(claims, settings.groups_claim), "session")
            set_session(self, gate.secret, identity, gate.settings.session_hours)
            log.info("%s signed in through %s", name, settings.issuer)
            self.redirect(flow["next"])

    return type("Login", (OidcLogin,), attributes)
