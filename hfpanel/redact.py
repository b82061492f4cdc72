"""What is a secret in a module's parameters, and how it is hidden — one rule for every place that
writes parameters down: recorded fixtures (``hfpanel record``) and the configuration stored with each
run (``hfpanel.stored_config``).

A parameter is secret when its name says so (token, password, secret, key, cert, proxy, auth,
cookie, credential, session); header and environment entries by their own names; URLs lose
secret-looking query values (the rules of :func:`hfpanel.http.redact_url`).
"""

from __future__ import annotations

import re

from .http import redact_url

#: parameter names that hold a secret or point at one
SECRET_NAME = re.compile(r"token|passw|secret|(^|_)key($|_)|cert|proxy|auth|cookie|cred|session|api_?key", re.I)
#: header (and environment variable) names whose values are credentials
SECRET_HEADER = re.compile(r"authorization|cookie|token|api[-_]?key|secret|passw|auth", re.I)
#: mappings of name -> value whose secret entries are hidden one by one
MAPPINGS = ("headers", "env")
HIDDEN = "***"


def is_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(str(name)))


def redact_params(params: dict) -> tuple[dict, list[str]]:
    """The parameters as they may be written down, and the names of those hidden."""
    shown, hidden = {}, []
    for name, value in (params or {}).items():
        if is_secret(name) and value not in (None, "", [], {}, False):
            shown[name], hidden = HIDDEN, hidden + [name]
        elif name in MAPPINGS and isinstance(value, dict):
            shown[name] = {k: HIDDEN if SECRET_HEADER.search(str(k)) else v for k, v in value.items()}
            hidden += [f"{name}.{k}" for k in value if SECRET_HEADER.search(str(k))]
        elif isinstance(value, str) and "://" in value:
            shown[name] = redact_url(value)
        else:
            shown[name] = value
    return shown, hidden
