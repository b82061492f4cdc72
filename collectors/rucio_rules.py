"""``rucio_rules``: replication rules by state, HappyFace 4's "Queued Data Transfers".

``fetch`` lists rules with rucio-clients, all settings per call (no rucio.cfg, no token files), and
returns them as ``GET /rules/`` sends them: x-json-stream lines with RFC-1123 times. ``url`` mode reads
such a list (or a JSON array) as it is from file:// or http(s): recorded payloads, the demo. Tables ``rules``
and ``states`` (all six, zeros too); metrics per state, ``total``, ``replicating_too_long``,
``waiting_approval_too_long``, ``inject_too_long`` (older than ``replicating_limit``,
``waiting_approval_limit``, ``inject_limit``), ``problems`` (stuck + suspended + the three too
long), ``locks_stuck``, ``locks_replicating``. A rule with a missing or mistyped field or an
unknown state is missing (named, with the reason); the rest is counted.
``age_s`` runs from ``created_at`` to the run's time (``Collector.now()``); a payload parsed outside
a run is read as of its newest ``updated_at``, so re-parsing it later gives the same ages.
Default rating: ``problems`` warning at 1 (someone should read that rule's error), critical at 10
(a site or link problem rather than one bad file).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys

import pandas as pd
import param
import requests

from hfpanel import logs
from hfpanel.collector import Collector, Missing, ParseResult, SourceError
from hfpanel.durations import format_duration, parse_duration
from hfpanel.http import fetch_url, read_bearer_token
from hfpanel.tabular import reject_markup

STATES = {"OK": "O", "REPLICATING": "R", "STUCK": "S", "SUSPENDED": "U", "WAITING_APPROVAL": "W", "INJECT": "I"}
LOCKS, TIMES = ("locks_ok_cnt", "locks_replicating_cnt", "locks_stuck_cnt"), ("created_at", "updated_at", "stuck_at")
REQUIRED = ("id", "scope", "name", "state", "rse_expression", "account", *LOCKS, "created_at", "updated_at")
RFC1123 = "%a, %d %b %Y %H:%M:%S UTC"
log = logging.getLogger(__name__)
# rucio-clients logs request headers at DEBUG (the password too): its logger never goes below INFO;
# and its ERROR per retry ("ConnectionError: HTTPConnectionPool(...) Max retries exceeded ...", three
# long lines a run while Rucio is down, mailed by cron) is detail for -vv: the failure is our one line
QUIET = logs.tame(__name__ + ".client")
QUIET.setLevel(logging.INFO)


def _client(token: str | None, budget, **settings):
    from rucio.client import Client
    from rucio.common.exception import CannotAuthenticate

    class _Client(Client):  # the token lives in this object only: no identity ever reuses another's
        @property
        def timeout(self):  # read at every request: the login and the listing share the module's budget
            return max(budget.left(), 0.001)

        @timeout.setter
        def timeout(self, value):
            pass

        def _BaseClient__read_token(self):
            self.auth_token = token or ""
            return bool(token)

        def _BaseClient__write_token(self):
            pass

        def _BaseClient__get_token_oidc(self):  # the base prints a login URL and waits for input()
            raise CannotAuthenticate("bearer token rejected or missing")

    return _Client(**settings)


def _time(values: pd.Series) -> pd.Series:
    text = values.where(values.map(lambda value: isinstance(value, str)))  # anything else is reported as not a time
    times = pd.to_datetime(text, format=RFC1123, errors="coerce")  # json.dumps(default=str) gives ISO:
    iso = pd.to_datetime(text.where(times.isna()), format="ISO8601", errors="coerce", utc=True)
    return times.fillna(iso.dt.tz_localize(None)).astype("datetime64[us]")


def _load(payload: bytes) -> list:
    try:
        text = payload.decode("utf-8-sig").strip()
        reject_markup(text, "Rucio rules (JSON)")
        doc = json.loads(text) if text else []
    except UnicodeDecodeError as error:
        raise SourceError(f"rule list is not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        try:  # x-json-stream: one rule per line, parsed at once (JSON text never holds a raw newline)
            doc = json.loads("[" + re.sub(r"\n\s*", ",", text) + "]")
        except json.JSONDecodeError:
            where = "a line of the x-json-stream" if error.msg == "Extra data" else f"line {error.lineno}"
            raise SourceError(f"malformed JSON ({where} is broken or cut short)") from None
    if isinstance(doc, dict) and "ExceptionClass" in doc:
        why = " ".join(str(doc.get("ExceptionMessage")).split())[:200]
        raise SourceError(f"Rucio answered {doc['ExceptionClass']}: {why}")
    rules = doc if isinstance(doc, list) else [doc]
    if bad := [r for r in rules if not isinstance(r, dict)]:
        raise SourceError(f"the rule list holds {type(bad[0]).__name__} {str(bad[0])[:40]!r}, not rule objects")
    return rules


class RucioRulesCollector(Collector):
    """Replication rules of a Rucio instance, counted per state, with the stuck ones named."""

    default_instruction = (
        "Stuck or suspended replication rules mean data does not arrive: open the STUCK rules, read "
        "their errors (usually a source or destination storage problem), fix the storage or ask "
        "data management operations to re-evaluate the rules."
    )

    payload_suffix = "ndjson"
    default_rating = {"type": "threshold", "metric": "problems", "warning": 1, "critical": 10}

    rucio_host = param.String(default=None, allow_None=True, doc="Rucio server URL (or give url).")
    url = param.String(default="", doc="Instead of rucio_host: a rule list (JSON, x-json-stream): file://, http(s).")
    auth_host = param.String(default=None, allow_None=True, doc="Rucio auth server URL (default: rucio_host).")
    account = param.String(default=None, allow_None=True, doc="Rucio account to authenticate as.")
    vo = param.String(default=None, allow_None=True, doc="VO of a multi-VO Rucio (default 'def').")
    auth_type = param.Selector(default="userpass", objects=["userpass", "x509_proxy", "oidc"], doc="How to log in.")
    username = param.String(default=None, allow_None=True, doc="userpass: the identity's user name.")
    password_env = param.String(default=None, allow_None=True, doc="userpass: environment variable with the password.")
    proxy = param.String(default=None, allow_None=True, doc="x509_proxy: proxy file (default: $X509_USER_PROXY).")
    ca_cert = param.String(default=None, allow_None=True, doc="CA directory or bundle for https.")
    token_file = param.String(default=None, allow_None=True, doc="oidc: file holding the bearer token.")
    token_env = param.String(default=None, allow_None=True, doc="oidc: environment variable with it (BEARER_TOKEN).")
    rules_account = param.String(default=None, allow_None=True, doc="Select the rules of this account.")
    rse_expression = param.String(default=None, allow_None=True, doc="Select rules with exactly this RSE expression.")
    activity = param.String(default=None, allow_None=True, doc="Select rules of this activity.")
    states = param.List(default=None, allow_None=True, doc="Select rules in these states, e.g. [STUCK, SUSPENDED].")
    replicating_limit = param.Parameter(default="24h", doc="REPLICATING longer than this counts as a problem.")
    waiting_approval_limit = param.Parameter(
        default="7d",
        doc="WAITING_APPROVAL longer than this counts as a problem (nobody approves or denies the request); null: never.",
    )
    inject_limit = param.Parameter(
        default="6h",
        doc="INJECT longer than this counts as a problem (the injector daemon is not creating the rule); null: never.",
    )

    def __init__(self, **params):
        super().__init__(**params)
        live, auth = bool(self.rucio_host), self.auth_type
        #: how long a rule may stay in each waiting state before it counts as a problem (None: for ever)
        self.limits = {}
        for state, key in (
            ("REPLICATING", "replicating_limit"),
            ("WAITING_APPROVAL", "waiting_approval_limit"),
            ("INJECT", "inject_limit"),
        ):
            value = getattr(self, key)
            try:
                self.limits[state] = None if value is None and key != "replicating_limit" else parse_duration(value)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{key}: {error}") from None
        self.limit = self.limits["REPLICATING"]
        for wrong, why in (
            (live == bool(self.url), "give exactly one of rucio_host (a Rucio server) and url (a recorded list)"),
            ({str(s).upper() for s in self.states or []} - STATES.keys(), f"states: unknown {self.states}"),
            (
                live and not (self.rules_account or self.rse_expression or self.activity or self.states),
                "select rules by rules_account, rse_expression, activity or states (not all rules)",
            ),
            (
                live and auth == "userpass" and not (self.username and self.password_env),
                "auth_type userpass needs username and password_env",
            ),
            (live and auth == "oidc" and not (self.token_file or self.token_env), "oidc needs token_file or token_env"),
        ):
            if wrong:
                raise ValueError(why)

    def fetch(self) -> bytes:
        """The rule list; a failure is one WARNING line of this module's log and a ``SourceError``
        with the same one-line reason (the module shows no information)."""
        try:
            return self._fetch()
        except SourceError as error:
            log.warning("Rucio rules from %s: %s; the module has no information", self.rucio_host or self.url, error)
            raise

    def _fetch(self) -> bytes:
        token, budget = read_bearer_token(file=self.token_file, env=self.token_env), self.budget()
        if self.url:
            return fetch_url(
                self.url,
                budget=budget,
                max_bytes=self.max_bytes,
                verify=self.ca_cert or True,
                headers={"X-Rucio-Auth-Token": token} if token else None,
                bearer_token=token,
            )
        from rucio.common import exception as rx  # rucio-clients: pip install 'hfpanel[rucio]'

        auth_host, password = self.auth_host or self.rucio_host, ""
        creds = {"client_proxy": self.proxy} if self.proxy else {}
        if self.auth_type == "userpass" and not (password := os.environ.get(self.password_env, "")):
            raise SourceError(f"password environment variable {self.password_env} is not set")
        filters = {
            k: v
            for k, v in (
                ("account", self.rules_account),
                ("rse_expression", self.rse_expression),
                ("activity", self.activity),
            )
            if v
        }
        argv0 = sys.argv[0]  # BaseClient.__init__ rewrites it
        try:
            client = _client(
                token,
                budget,
                rucio_host=self.rucio_host,
                auth_host=auth_host,
                account=self.account,
                auth_type=self.auth_type,
                ca_cert=self.ca_cert,
                vo=self.vo or "def",
                logger=QUIET,
                creds={"username": self.username, "password": password} if password else creds,
                timeout=self.timeout,
                user_agent="hfpanel",
            )
            if set(filters) == {"account"} and not self.states:
                listings = [client.list_account_rules(self.rules_account)]
            else:
                listings = [
                    client.list_replication_rules({**filters, **({"state": STATES[s.upper()]} if s else {})})
                    for s in self.states or [""]
                ]
            wire = lambda v: v.strftime(RFC1123) if hasattr(v, "strftime") else str(v)  # noqa: E731
            lines = []
            for rule in (rule for listing in listings for rule in listing):
                if budget.expired():
                    raise requests.Timeout("the rule listing was still arriving")
                lines.append(json.dumps(rule, default=wire) + "\n")
            return "".join(lines).encode()
        except (rx.CannotAuthenticate, rx.NoAuthInformation):
            raise SourceError(
                f"authentication to {auth_host} failed for account {self.account} (token expired or wrong credentials?)"
            ) from None
        except requests.Timeout:
            raise SourceError(f"timed out after {budget} ({self.rucio_host})") from None
        except (rx.ServerConnectionException, requests.ConnectionError):  # ask /ping why: refused, DNS, TLS...
            fetch_url(f"{auth_host}/ping", budget=budget, retries=0, verify=self.ca_cert or True)
            raise SourceError(f"no answer from {auth_host}") from None
        except (rx.RucioException, OSError) as error:
            lines = str(error).replace(password or "\0", "***").splitlines() or [""]
            text = next((line[9:] for line in lines if line.startswith("Details: ")), lines[0])
            raise SourceError(f"Rucio error {type(error).__name__}: {text[:200]}") from None
        finally:
            sys.argv[0] = argv0

    def parse(self, payload: bytes) -> ParseResult:
        rules = _load(payload)
        raw = pd.DataFrame(
            {k: [r.get(k) for r in rules] for k in (*REQUIRED, "did_type", "activity", "error", "stuck_at", "bytes")},
            dtype=object,
        )
        values = {**{k: pd.to_numeric(raw[k], errors="coerce") for k in LOCKS}, **{k: _time(raw[k]) for k in TIMES}}
        problem = pd.Series([None] * len(raw), index=raw.index, dtype=object)  # the first problem of each rule
        for key in (*REQUIRED, "stuck_at"):  # a required value missing, or any value of the wrong kind
            bad = values.get(key, raw[key]).isna() & (raw[key].notna() | (key in REQUIRED))
            kind = "time" if key in TIMES else "number"
            text = raw[key].map(lambda v, k=kind, key=key: f"{key} is not a {k} ({v!r:.40})" if v is not None else "")
            problem = problem.where(problem.notna() | ~bad, text.where(raw[key].notna(), f"{key} missing"))
        odd = ~raw["state"].isin(list(STATES)) & raw["state"].notna()
        unknown = raw["state"].map(lambda v: f"unknown rule state {str(v)!r} (known: {', '.join(STATES)})")
        problem = problem.where(problem.notna() | ~odd, unknown)
        names = [rule if isinstance(rule, str) else f"#{row + 1}" for row, rule in enumerate(raw["id"])]
        missing = [Missing("rule", names[row], text) for row, text in problem.items() if text is not None]
        if missing and len(missing) == len(raw):  # not one readable rule: not a Rucio rule list
            first = missing[0]
            raise SourceError(f"rule {first.key}: {first.reason} (not a Rucio rule list?)")
        ok = problem.isna()
        raw, values = raw[ok].reset_index(drop=True), {k: v[ok].reset_index(drop=True) for k, v in values.items()}
        frame = raw[["id", "name", "did_type", "rse_expression", "activity", "account", "state"]].rename(
            columns={"id": "rule_id", "name": "did"}
        )
        frame["did"] = raw["scope"].astype(str) + ":" + raw["name"].astype(str)
        frame = frame.assign(
            **{k[:-4]: values[k].astype("int64") for k in LOCKS}, error=raw["error"], **{k: values[k] for k in TIMES}
        )
        newest = frame["updated_at"].max()  # outside a run, the payload is read as of its newest update
        now = pd.Timestamp(self.now(None if pd.isna(newest) else newest.timestamp()), unit="s")
        frame["age_s"] = (now - frame["created_at"]).dt.total_seconds()
        frame["bytes"] = pd.to_numeric(raw["bytes"], errors="coerce").astype("float64")
        counts = {s: int((frame["state"] == s).sum()) for s in STATES}
        too_long = {
            state: int(((frame["state"] == state) & (frame["age_s"] > limit)).sum()) if limit is not None else 0
            for state, limit in self.limits.items()
        }
        problems = counts["STUCK"] + counts["SUSPENDED"] + sum(too_long.values())
        bad = frame["state"].isin(["STUCK", "SUSPENDED"])  # the problem rules, for rules to match by RSE/account
        for state, limit in self.limits.items():
            if limit is not None:
                bad |= (frame["state"] == state) & (frame["age_s"] > limit)
        metrics = {
            **{s.lower(): float(n) for s, n in counts.items()},
            "total": float(len(frame)),
            **{f"{state.lower()}_too_long": float(n) for state, n in too_long.items()},
            "problems": float(problems),
            **{k[:-4]: float(frame[k[:-4]].sum()) for k in LOCKS[1:]},
        }
        parts = [f"{counts[s]} {s}" for s in ("STUCK", "SUSPENDED") if counts[s]]
        parts += [f"{n} {state} > {format_duration(self.limits[state])}" for state, n in too_long.items() if n]
        states = pd.DataFrame({"state": list(STATES), "count": list(counts.values())})
        return ParseResult(
            tables={"rules": frame, "states": states},
            metrics=metrics,
            message=f"{', '.join(parts) or 'none stuck or suspended'} of {len(frame)} rules",
            labels={"rse": list(frame["rse_expression"][bad]), "account": list(frame["account"][bad])},
            missing=missing,
            expected={"rule": len(rules)} if missing else {},
        )
