"""API tokens: created once, shown once, kept only as a digest, with scopes, revoked or rotated.

A token reads ``hfp_<id>_<secret>``. The tokens file keeps, per id, a name, scopes, times and
``key = sha256(secret)``: the secret itself is never written. A pushing client signs with the same
derived key (``hmac(sha256(secret), timestamp + nonce + method + path + body)``); a reader sends the
whole token as a bearer and the server compares digests. Whoever holds the tokens file can forge
pushes but cannot recover any token to read with it; the file is written 0600, atomically.

Scopes: ``read`` (the read API), ``push:<module>`` or ``push:*`` (push results), ``admin``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from pathlib import Path

PREFIX = "hfp"
TOKEN_PATTERN = re.compile(r"^hfp_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
SCOPE_PATTERN = re.compile(r"^(read|admin|push:(\*|[a-z][a-z0-9_]*))$")
FILE = "tokens.json"


class TokenError(ValueError):
    """A token operation that cannot be done (unknown id, bad scope): one line for the CLI."""


def key_of(secret: str) -> bytes:
    """The derived key a token's secret signs and is recognised with."""
    return hashlib.sha256(secret.encode()).digest()


def split(token: str) -> tuple[str, str]:
    """``hfp_<id>_<secret>`` → (id, secret); TokenError for anything else."""
    found = TOKEN_PATTERN.match(token.strip())
    if not found:
        raise TokenError("not an hfpanel token (hfp_<id>_<secret>)")
    return found.group(1), found.group(2)


@dataclasses.dataclass
class Token:
    id: str
    name: str
    scopes: list[str]
    key: str  # hex of key_of(secret)
    created: float
    expires: float | None = None
    revoked: float | None = None

    def active(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.revoked is None and (self.expires is None or now < self.expires)

    def allows(self, scope: str) -> bool:
        """``push:sam_ce`` is allowed by ``push:sam_ce`` and ``push:*``; everything by ``admin``."""
        if "admin" in self.scopes or scope in self.scopes:
            return True
        return scope.startswith("push:") and "push:*" in self.scopes

    def state(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active" if self.expires is None else "active (expires)"


def check_scopes(scopes) -> list[str]:
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise TokenError("give at least one --scope (read, push:MODULE, push:*, admin)")
    for scope in scopes:
        if not SCOPE_PATTERN.match(scope):
            raise TokenError(f"not a scope: {scope!r} (read, push:MODULE, push:*, admin)")
    return scopes


class TokenStore:
    """The tokens file of a state folder; re-read when it changed (one ``stat`` per lookup)."""

    def __init__(self, folder):
        self.path = Path(folder) / FILE
        self._lock = threading.Lock()
        self._stamp = None
        self._tokens: dict[str, Token] = {}

    # -- reading -------------------------------------------------------------------------------
    def _stat(self):
        try:
            st = os.stat(self.path)
            return (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return None

    def tokens(self) -> dict[str, Token]:
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                self._tokens = self._read() if stamp else {}
                self._stamp = stamp
            return dict(self._tokens)

    def _read(self) -> dict[str, Token]:
        with open(self.path) as handle:
            data = json.load(handle)
        return {entry["id"]: Token(**entry) for entry in data.get("tokens", [])}

    def get(self, token_id: str) -> Token | None:
        return self.tokens().get(token_id)

    def bearer(self, token: str) -> Token | None:
        """The active token a bearer string is, or None (digests compared in constant time)."""
        try:
            token_id, secret = split(token)
        except TokenError:
            return None
        found = self.get(token_id)
        if found is None or not found.active():
            return None
        return found if hmac.compare_digest(bytes.fromhex(found.key), key_of(secret)) else None

    # -- changing (the CLI) ----------------------------------------------------------------------
    def _write(self, tokens: dict[str, Token]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{FILE}.new-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"tokens": [dataclasses.asdict(t) for t in tokens.values()]}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def create(self, name: str, scopes, expires_in: float | None = None, now: float | None = None) -> tuple[Token, str]:
        """A new token: (its record, the token text to show once)."""
        now = time.time() if now is None else now
        scopes = check_scopes(scopes)
        tokens = self.tokens()
        token_id = secrets.token_hex(4)
        while token_id in tokens:
            token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        token = Token(
            id=token_id,
            name=name,
            scopes=scopes,
            key=key_of(secret).hex(),
            created=now,
            expires=now + expires_in if expires_in else None,
        )
        tokens[token_id] = token
        self._write(tokens)
        return token, f"{PREFIX}_{token_id}_{secret}"

    def revoke(self, token_id: str, now: float | None = None) -> Token:
        tokens = self.tokens()
        if token_id not in tokens:
            raise TokenError(f"no token {token_id!r} (hfpanel token list shows them)")
        tokens[token_id].revoked = time.time() if now is None else now
        self._write(tokens)
        return tokens[token_id]

    def rotate(self, token_id: str, overlap: float, now: float | None = None) -> tuple[Token, str, Token]:
        """A new token with the old one's name and scopes; the old one keeps working for ``overlap``
        seconds (jobs already carrying it finish), then expires. Returns (new, text, old)."""
        now = time.time() if now is None else now
        old = self.tokens().get(token_id)
        if old is None:
            raise TokenError(f"no token {token_id!r} (hfpanel token list shows them)")
        if not old.active(now):
            raise TokenError(f"token {token_id} is {old.state(now)}: create a new one instead")
        remaining = None if old.expires is None else max(0.0, old.expires - now)
        new, text = self.create(old.name, old.scopes, remaining, now)
        tokens = self.tokens()
        ends = now + overlap
        tokens[token_id].expires = ends if old.expires is None else min(old.expires, ends)
        self._write(tokens)
        return new, text, tokens[token_id]
