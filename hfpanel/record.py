"""``hfpanel record``: what a module's source answers now, saved as a test fixture with its secrets stripped.

A fixture is two files in ``--out``: the payload exactly as ``fetch()`` returned it
(``<module>.<suffix>``, e.g. ``squid.json``) and a sidecar ``<module>.meta.json`` saying what made
it: module, collector, parameters, rating rule, the time it was recorded (parsing it later runs
"as of" that time: ``Collector.now()``), size and checksum. :mod:`hfpanel.testing` reads both.

Secrets never reach either file. A parameter is secret when its name says so (token, password,
secret, key, cert, proxy, auth, cookie, credential, session): its value is replaced by ``***`` in
the sidecar, and what it stands for -- the token in a ``*_file``, the value of a ``*_env`` variable,
the literal itself -- is cut out of the payload wherever it appears, as are ``Authorization`` and
token headers and secret-looking URL query values (the rules of :func:`hfpanel.http.redact_url`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path

from . import __version__
from .clock import utcnow
from .config import Module
from .http import redact_url
from .redact import HIDDEN, SECRET_HEADER, is_secret, redact_params

#: credentials written into a document by a server that echoes a request's headers
_HEADER_IN_TEXT = re.compile(
    rb"((?:authorization|x-rucio-auth-token|x-api-key|cookie)[\"']?\s*[:=]\s*[\"']?)"
    rb"(?:(?:bearer|basic)\s+)?[^\s\"',;]+",
    re.I,
)
_URL = re.compile(rb"[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.I)
#: shortest value that is cut out of a payload (shorter ones would cut ordinary text)
MIN_SECRET = 6


@dataclasses.dataclass
class Recorded:
    payload: Path
    meta: Path
    redacted: list[str]


def _read_quietly(path: str) -> str:
    try:
        return Path(os.path.expandvars(os.path.expanduser(path))).read_text(errors="replace").strip()
    except OSError:
        return ""


def secret_values(params: dict) -> list[str]:
    """What the secret parameters stand for: literals, the contents of ``*_file``, ``*_env`` values,
    and credential header values."""
    values = []
    for name, value in params.items():
        if name == "headers" and isinstance(value, dict):
            credentials = [str(v) for k, v in value.items() if SECRET_HEADER.search(str(k))]
            values += credentials + [v.split()[-1] for v in credentials if v.split()]  # "Bearer <token>": the token
        if not is_secret(name) or not isinstance(value, str) or not value:
            continue
        if name.endswith("_env"):
            values.append(os.environ.get(value, ""))
        elif name.endswith("_file") and "token" in name:
            values.append(_read_quietly(value))
        else:
            values.append(value)
    return sorted({v for v in values if len(v) >= MIN_SECRET}, key=len, reverse=True)


def strip_secrets(payload: bytes, secrets: list[str]) -> bytes:
    """``payload`` without any of ``secrets``, credential headers or secret URL query values."""
    for secret in secrets:
        payload = payload.replace(secret.encode(), HIDDEN.encode())
    payload = _HEADER_IN_TEXT.sub(lambda m: m.group(1) + HIDDEN.encode(), payload)
    return _URL.sub(lambda m: redact_url(m.group(0).decode("utf-8", "replace")).encode(), payload)


def record(module: Module, out: Path) -> Recorded:
    """Fetch ``module``'s source now and write the fixture into ``out``; ``SourceError`` if it fails."""
    now = utcnow()
    collector = module.make_collector()
    collector.run_time = now.tz_localize("UTC").timestamp()
    params = {**module.params, "timeout": module.timeout}
    payload = strip_secrets(collector.fetch(), secret_values(params))
    shown, hidden = redact_params(params)
    out.mkdir(parents=True, exist_ok=True)
    payload_path = out / f"{module.name}.{collector.payload_suffix}"
    meta_path = out / f"{module.name}.meta.json"
    meta = {
        "module": module.name,
        "collector": module.collector,
        "params": shown,
        "rating": module.rating,
        "recorded_at": now.isoformat(),
        "run_time": collector.run_time,
        "payload": payload_path.name,
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "redacted": hidden,
        "hfpanel": __version__,
    }
    payload_path.write_bytes(payload)
    text = json.dumps(meta, indent=2, default=str) + "\n"
    meta_path.write_text(strip_secrets(text.encode(), secret_values(params)).decode())
    return Recorded(payload_path, meta_path, hidden)
