"""Who a request is: a signed session cookie (after sign-in), an API token sent as a bearer, or a
client certificate's DN forwarded by a trusted reverse proxy. Nothing else is believed: a DN
header from any address not listed in ``auth.x509.trusted_proxies`` is ignored."""

from __future__ import annotations

import dataclasses
import json
import time

import tornado.web

COOKIE = "hfpanel_session"


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str
    groups: tuple = ()
    via: str = "session"  # session | token | x509 | none
    dn: str = ""
    scopes: tuple = ()  # for tokens

    @property
    def everything(self) -> bool:
        """Sees every module whatever the rules (a laptop without sign-in, an admin token)."""
        return self.via == "none" or "admin" in self.scopes


NOBODY_NEEDED = Identity("local", via="none")


def session_value(identity: Identity, hours: float) -> str:
    return json.dumps(
        {"n": identity.name, "g": list(identity.groups), "d": identity.dn, "e": time.time() + hours * 3600}
    )


def from_session(secret: str, raw: bytes | str | None, max_hours: float) -> Identity | None:
    if not raw:
        return None
    value = tornado.web.decode_signed_value(secret, COOKIE, raw, max_age_days=max(max_hours / 24, 1 / 24))
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if float(data.get("e", 0)) < time.time():
        return None
    return Identity(str(data["n"]), tuple(data.get("g", ())), "session", str(data.get("d", "")))


def set_session(handler: tornado.web.RequestHandler, secret: str, identity: Identity, hours: float) -> None:
    signed = tornado.web.create_signed_value(secret, COOKIE, session_value(identity, hours))
    handler.set_cookie(
        COOKIE,
        signed,
        httponly=True,
        samesite="Lax",
        secure=handler.request.protocol == "https",
        expires_days=hours / 24,
        path="/",
    )


def peer(handler: tornado.web.RequestHandler) -> str:
    """The address the connection comes from (never a forwarded header)."""
    context = getattr(handler.request.connection, "context", None)
    address = getattr(context, "address", None)
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(handler.request.remote_ip or "")


def from_certificate(handler: tornado.web.RequestHandler, x509) -> Identity | None:
    """The DN a trusted proxy verified (its verify header says SUCCESS); None from anyone else."""
    if x509 is None or peer(handler) not in x509.trusted_proxies:
        return None
    dn = handler.request.headers.get(x509.dn_header, "").strip()
    if not dn or handler.request.headers.get(x509.verify_header, "").strip() != "SUCCESS":
        return None
    return Identity(dn, tuple(x509.groups.get(dn, ())), "x509", dn)


def from_bearer(handler: tornado.web.RequestHandler, tokens) -> Identity | None:
    header = handler.request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or tokens is None:
        return None
    token = tokens.bearer(header[len("Bearer ") :].strip())
    if token is None:
        return None
    return Identity(f"token:{token.name}", (), "token", scopes=tuple(token.scopes))
