"""The ``auth:`` section: who may see the dashboard and its API, and how they prove it.

auth:
  mode: oidc                     # none (laptop; loopback only) | basic | oidc | x509
  cookie_secret_file: /etc/hfpanel/cookie-secret   # or $HFPANEL_COOKIE_SECRET; required unless none
  session_hours: 12
  origins: [dashboard.example.org]   # the host names browsers use (WebSocket origins, exact)
  users_file: /etc/hfpanel/users.yaml   # basic: name -> {password: <scrypt hash>, groups: [...]}
  oidc:
    issuer: https://auth.example.org/realms/site
    client_id: hfpanel
    client_secret_file: /etc/hfpanel/oidc-secret  # or $HFPANEL_OIDC_SECRET
    groups_claim: groups
  x509:
    trusted_proxies: [127.0.0.1]   # only these may forward a verified DN
    dn_header: X-SSL-Client-S-DN
    verify_header: X-SSL-Client-Verify   # must say SUCCESS
    groups: {"/DC=org/CN=Alice": [storage]}
  access:                          # open unless a rule names the category, module or page
    - {category: storage, groups: [storage]}
    - {module: sam_ce, groups: [shifters], dns: ["/DC=org/CN=Alice"]}
    - {page: transfers, groups: [transfers]}
  acknowledge: {groups: [shifters]}  # who may acknowledge from the events page (default: every signed-in reader)
  silence: {groups: [admins], dns: ["/DC=org/CN=Alice"]}  # who may set or end silences (same default)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

MODES = ("none", "basic", "oidc", "x509")
KEYS = {
    "mode": "none (default; only on a loopback address), basic, oidc or x509.",
    "cookie_secret_file": "File holding the secret that signs session cookies and ids ($HFPANEL_COOKIE_SECRET).",
    "session_hours": "How long a sign-in lasts (default 12).",
    "origins": "Host names (host or host:port) browsers reach the dashboard by; WebSockets from others are refused.",
    "users_file": "basic: a YAML file name -> {password: scrypt hash (hfpanel auth hash), groups: [...]}.",
    "oidc": "oidc: issuer, client_id, client_secret_file ($HFPANEL_OIDC_SECRET), groups_claim, scopes, redirect_uri.",
    "x509": "x509: trusted_proxies, dn_header, verify_header, groups (DN -> groups).",
    "access": "Rules: {category|module|page: name, groups: [...], dns: [...]}; unnamed parts are open.",
    "acknowledge": "Who may acknowledge incidents from the pages: {groups: [...], dns: [...]} (default: any signed-in reader).",
    "silence": "Who may set and end silences from the pages: {groups: [...], dns: [...]} (default: any signed-in reader).",
}
#: what a reader may do on the pages besides reading, each restricted by its own ``auth:`` key
ACTIONS = ("acknowledge", "silence")
OIDC_KEYS = ("issuer", "client_id", "client_secret_file", "groups_claim", "scopes", "redirect_uri")
X509_KEYS = ("trusted_proxies", "dn_header", "verify_header", "groups")
RULE_KINDS = ("category", "module", "page")
#: the pages a ``page:`` rule may close (the API obeys the rules of transfers and events too)
PAGES = ("transfers", "plots", "events", "availability", "whatif", "handover")


@dataclasses.dataclass(frozen=True)
class Rule:
    kind: str  # category | module | page
    name: str
    groups: tuple = ()
    dns: tuple = ()


@dataclasses.dataclass(frozen=True)
class Oidc:
    issuer: str
    client_id: str
    client_secret_file: Path | None = None
    groups_claim: str = "groups"
    scopes: tuple = ("openid", "profile", "email")
    redirect_uri: str = ""

    def client_secret(self) -> str:
        return read_secret(self.client_secret_file, "HFPANEL_OIDC_SECRET", "auth.oidc.client_secret_file")


@dataclasses.dataclass(frozen=True)
class X509:
    trusted_proxies: tuple = ("127.0.0.1", "::1")
    dn_header: str = "X-SSL-Client-S-DN"
    verify_header: str = "X-SSL-Client-Verify"
    groups: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AuthSettings:
    mode: str = "none"
    cookie_secret_file: Path | None = None
    session_hours: float = 12.0
    origins: tuple = ()
    users_file: Path | None = None
    oidc: Oidc | None = None
    x509: X509 | None = None
    access: tuple = ()
    #: ``Rule(kind="acknowledge"|"silence", name="", groups, dns)``: who may act (an action not named:
    #: every signed-in reader)
    actors: tuple = ()

    def cookie_secret(self) -> str:
        return read_secret(self.cookie_secret_file, "HFPANEL_COOKIE_SECRET", "auth.cookie_secret_file")


class SecretMissing(ValueError):
    """A secret the configuration needs is neither in its file nor in the environment."""


def read_secret(path: Path | None, variable: str, key: str) -> str:
    """A secret from its file (first line, stripped) or the environment; never logged."""
    if path is not None:
        try:
            value = Path(path).read_text().strip()
        except OSError as error:
            raise SecretMissing(f"{key}: cannot read {path}: {error.strerror or error}") from None
        if value:
            return value
        raise SecretMissing(f"{key}: {path} is empty")
    value = os.environ.get(variable, "").strip()
    if not value:
        raise SecretMissing(f"no secret: set {variable} or {key}")
    return value


def _path(value, base: Path | None) -> Path:
    path = Path(str(value)).expanduser()
    return (base / path).resolve() if base is not None and not path.is_absolute() else path


def _strings(value, where: str, problems: list[str]) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"key '{where}': must be a list of text")
        return ()
    return tuple(value)


def _unknown(raw: dict, known, where: str, problems: list[str]) -> None:
    for key in sorted(set(raw) - set(known)):
        problems.append(f"key '{where}.{key}': unknown (known: {', '.join(known)})")


def _oidc(raw, base, problems) -> Oidc | None:
    if not isinstance(raw, dict):
        problems.append("key 'auth.oidc': must be a mapping with issuer and client_id")
        return None
    _unknown(raw, OIDC_KEYS, "auth.oidc", problems)
    for key in ("issuer", "client_id"):
        if not raw.get(key):
            problems.append(f"key 'auth.oidc.{key}': missing")
    if problems:
        return None
    return Oidc(
        issuer=str(raw["issuer"]).rstrip("/"),
        client_id=str(raw["client_id"]),
        client_secret_file=_path(raw["client_secret_file"], base) if raw.get("client_secret_file") else None,
        groups_claim=str(raw.get("groups_claim") or "groups"),
        scopes=_strings(raw.get("scopes"), "auth.oidc.scopes", problems) or ("openid", "profile", "email"),
        redirect_uri=str(raw.get("redirect_uri") or ""),
    )


def _x509(raw, problems) -> X509:
    raw = raw or {}
    if not isinstance(raw, dict):
        problems.append("key 'auth.x509': must be a mapping")
        return X509()
    _unknown(raw, X509_KEYS, "auth.x509", problems)
    groups = raw.get("groups") or {}
    if not isinstance(groups, dict):
        problems.append("key 'auth.x509.groups': must map a DN to a list of groups")
        groups = {}
    defaults = X509()
    return X509(
        trusted_proxies=_strings(raw.get("trusted_proxies"), "auth.x509.trusted_proxies", problems)
        or defaults.trusted_proxies,
        dn_header=str(raw.get("dn_header") or defaults.dn_header),
        verify_header=str(raw.get("verify_header") or defaults.verify_header),
        groups={str(k): _strings(v, f"auth.x509.groups.{k}", problems) for k, v in groups.items()},
    )


def _rules(raw, problems) -> tuple:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("key 'auth.access': must be a list of rules")
        return ()
    rules = []
    for index, item in enumerate(raw):
        where = f"auth.access[{index}]"
        if not isinstance(item, dict):
            problems.append(f"key '{where}': must be a mapping")
            continue
        kinds = [k for k in RULE_KINDS if k in item]
        if len(kinds) != 1:
            problems.append(f"key '{where}': name exactly one of category, module or page")
            continue
        _unknown(item, (kinds[0], "groups", "dns"), where, problems)
        if kinds[0] == "page" and item["page"] not in PAGES:
            problems.append(f"key '{where}.page': one of {', '.join(PAGES)}")
        groups = _strings(item.get("groups"), f"{where}.groups", problems)
        dns = _strings(item.get("dns"), f"{where}.dns", problems)
        if not groups and not dns:
            problems.append(f"key '{where}': give groups or dns (who may see it)")
        rules.append(Rule(kinds[0], str(item[kinds[0]]), groups, dns))
    return tuple(rules)


def _actors(raw: dict, mode: str, problems) -> tuple:
    """``auth.acknowledge`` / ``auth.silence``: the groups and DNs that may do it."""
    actors = []
    for action in ACTIONS:
        item = raw.get(action)
        if item is None:
            continue
        where = f"auth.{action}"
        if not isinstance(item, dict):
            problems.append(f"key '{where}': must be a mapping {{groups: [...], dns: [...]}}")
            continue
        _unknown(item, ("groups", "dns"), where, problems)
        groups = _strings(item.get("groups"), f"{where}.groups", problems)
        dns = _strings(item.get("dns"), f"{where}.dns", problems)
        if not groups and not dns:
            problems.append(f"key '{where}': give groups or dns (who may {action})")
            continue
        if mode == "none":
            problems.append(
                f"key '{where}': needs sign-in (auth.mode basic, oidc or x509); without it nobody signs in "
                "and everyone who reaches the loopback port acts as the local admin"
            )
            continue
        actors.append(Rule(action, "", groups, dns))
    return tuple(actors)


def parse_auth(raw, base: Path | None, problems: list[str]) -> AuthSettings:
    """The section's settings; each mistake appended to ``problems`` as ``key 'auth.x': …``."""
    if raw is None:
        return AuthSettings()
    if not isinstance(raw, dict):
        problems.append("key 'auth': must be a mapping")
        return AuthSettings()
    _unknown(raw, KEYS, "auth", problems)
    mode = str(raw.get("mode") or "none")
    if mode not in MODES:
        problems.append(f"key 'auth.mode': {mode!r} is not one of {', '.join(MODES)}")
        mode = "none"
    hours = raw.get("session_hours", 12)
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
        problems.append(f"key 'auth.session_hours': must be a positive number, got {hours!r}")
        hours = 12
    found: list[str] = []
    oidc = _oidc(raw.get("oidc"), base, found) if mode == "oidc" or raw.get("oidc") is not None else None
    x509 = _x509(raw.get("x509"), found) if mode == "x509" or raw.get("x509") is not None else None
    if mode == "basic" and not raw.get("users_file"):
        found.append("key 'auth.users_file': missing (basic sign-in checks passwords there)")
    problems.extend(found)
    return AuthSettings(
        mode=mode,
        cookie_secret_file=_path(raw["cookie_secret_file"], base) if raw.get("cookie_secret_file") else None,
        session_hours=float(hours),
        origins=_strings(raw.get("origins"), "auth.origins", problems),
        users_file=_path(raw["users_file"], base) if raw.get("users_file") else None,
        oidc=oidc,
        x509=x509,
        access=_rules(raw.get("access"), problems),
        actors=_actors(raw, mode, problems),
    )
