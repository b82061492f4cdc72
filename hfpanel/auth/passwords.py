"""Password hashes for basic sign-in: scrypt from the standard library (``hashlib.scrypt``), a
random salt per password, compared in constant time. A hash reads ``scrypt$n$r$p$salt$digest``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

import yaml

N, R, P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def read_users(path: Path) -> dict[str, dict]:
    """``name -> {password, groups}`` from the users file (a missing file: no users)."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        return {}
    users = data.get("users", data) if isinstance(data, dict) else {}
    return {str(k): v for k, v in users.items() if isinstance(v, dict) and isinstance(v.get("password"), str)}
