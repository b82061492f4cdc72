"""The one door: who a request is, for the pages and the API alike (``Gate.identify``).

Built once by ``hfpanel serve`` from the ``auth:`` section. Outside mode ``none`` the cookie secret
is required (``SecretMissing`` at start-up, never a silent unsigned cookie), and mode ``none`` is
refused on any address but loopback: a dashboard nobody signs in to must not be on the network.
"""

from __future__ import annotations

import ipaddress
import logging

from .access import Viewer
from .identity import NOBODY_NEEDED, Identity, from_bearer, from_certificate, from_session
from .settings import AuthSettings, SecretMissing

log = logging.getLogger("hfpanel.auth")
READ_SCOPES = {"read", "admin"}


class AuthRefused(ValueError):
    """A configuration that must not be served as it is (one line for the CLI)."""


def is_loopback(address: str) -> bool:
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Gate:
    def __init__(self, settings: AuthSettings | None = None, tokens=None, address: str = "127.0.0.1"):
        self.settings = settings or AuthSettings()
        self.tokens = tokens
        if self.settings.mode == "none":
            if not is_loopback(address):
                raise AuthRefused(
                    f"auth mode none on {address}: anyone reaching the port would see the site; "
                    "bind to 127.0.0.1 or configure auth: (basic, oidc or x509)"
                )
            self.secret = None
        else:
            try:
                self.secret = self.settings.cookie_secret()
            except SecretMissing as error:
                raise AuthRefused(f"auth mode {self.settings.mode} needs a cookie secret: {error}") from None
            if len(self.secret) < 32:
                raise AuthRefused("the cookie secret is shorter than 32 characters (e.g. openssl rand -hex 32)")
            if self.settings.mode == "oidc":
                try:
                    self.settings.oidc.client_secret()
                except SecretMissing as error:
                    raise AuthRefused(f"auth mode oidc needs the client secret: {error}") from None

    @property
    def open(self) -> bool:
        return self.settings.mode == "none"

    def identify(self, handler) -> Identity | None:
        """The request's identity, or None when it must sign in first."""
        if self.open:
            return NOBODY_NEEDED
        token = from_bearer(handler, self.tokens)
        if token is not None:
            return token if READ_SCOPES & set(token.scopes) else None
        if self.settings.x509 is not None:
            found = from_certificate(handler, self.settings.x509)
            if found is not None:
                return found
        return from_session(self.secret, handler.get_cookie("hfpanel_session"), self.settings.session_hours)

    def viewer(self, identity: Identity | None) -> Viewer:
        return Viewer(identity, self.settings.access, self.settings.actors)
