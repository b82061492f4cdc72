"""Pushed test results (the BES3/DIRAC pattern): what a grid job or a site probe may send, how a
request is signed, and the durable spool between ``POST /api/v1/push/{module}`` and the ``push``
collector that rates the module from it.

The spool is one SQLite file (stdlib; WAL, ``synchronous=FULL``): a request's results and its nonce
are inserted in one transaction, so an answer of 202 means the results survive a crash, a replayed
request is refused by the nonce's primary key, and a refused request leaves nothing. Results get
increasing ids in commit order; the collector takes those above the highest id already in the
store (its ``results`` table), so each lands in the store exactly once.

Signing: ``hex(hmac_sha256(key, "<timestamp>\\n<nonce>\\n<METHOD>\\n<path>\\n" + body))`` with
``key = sha256(secret)`` of the token (``hfpanel.api.tokens``), sent as
``Authorization: HFP-HMAC-SHA256 id=<token id>, ts=<unix seconds>, nonce=<16-64 hex>, sig=<hex>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import sqlite3
import threading
import time
from pathlib import Path

import orjson
import pandas as pd
from jsonschema import Draft202012Validator

#: a signed request is accepted this many seconds either side of the server's clock, and its nonce
#: is remembered twice as long (a request outside the window is refused by its timestamp anyway)
WINDOW_S = 300
SCHEME = "HFP-HMAC-SHA256"
AUTH_PATTERN = re.compile(
    rf"^{SCHEME} id=([0-9a-f]{{8}}), ts=(\d{{1,12}}), nonce=([0-9a-f]{{16,64}}), sig=([0-9a-f]{{64}})$"
)
OUTCOMES = {"ok": 1.0, "warning": 0.5, "critical": 0.0, "unknown": -1.0}
MAX_RESULTS = 500
SPOOL = "push.sqlite"

RESULT_SCHEMA = {
    "type": "object",
    "description": "One test result.",
    "properties": {
        "outcome": {"type": "string", "enum": list(OUTCOMES), "description": "The test's verdict."},
        "value": {"type": ["number", "null"], "description": "A measured value (e.g. seconds, MB/s)."},
        "host": {"type": "string", "maxLength": 253, "description": "Where it ran (a worker node, a CE)."},
        "test": {"type": "string", "maxLength": 100, "description": "Which test, when a module has several."},
        "duration_s": {"type": ["number", "null"], "minimum": 0, "description": "How long the test took."},
        "message": {"type": "string", "maxLength": 2000, "description": "Free text shown to the shifter."},
        "time": {"type": "string", "maxLength": 40, "description": "When the test ran (RFC 3339; default: arrival)."},
    },
    "required": ["outcome"],
    "additionalProperties": False,
}
BODY_SCHEMA = {
    "description": "One result, or {results: [...]} (at most 500).",
    "oneOf": [
        RESULT_SCHEMA,
        {
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": RESULT_SCHEMA, "minItems": 1, "maxItems": MAX_RESULTS}
            },
            "required": ["results"],
            "additionalProperties": False,
        },
    ],
}
_RESULT = Draft202012Validator(RESULT_SCHEMA)
COLUMNS = ["push_id", "received", "token", "host", "test", "outcome", "status", "value", "duration_s", "message", "ran"]


class PushRefused(Exception):
    """A push that is not accepted: HTTP ``status`` and one line."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


# -- signing -----------------------------------------------------------------------------------------
def string_to_sign(timestamp: int, nonce: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + body


def signature(key: bytes, timestamp: int, nonce: str, method: str, path: str, body: bytes) -> str:
    return hmac.new(key, string_to_sign(timestamp, nonce, method, path, body), hashlib.sha256).hexdigest()


def authorization(token_id: str, key: bytes, method: str, path: str, body: bytes, now=None, nonce=None) -> str:
    """The Authorization header of a signed request (what the reference client sends)."""
    import secrets

    timestamp = int(time.time() if now is None else now)
    nonce = nonce or secrets.token_hex(16)
    sig = signature(key, timestamp, nonce, method, path, body)
    return f"{SCHEME} id={token_id}, ts={timestamp}, nonce={nonce}, sig={sig}"


def read_authorization(header: str | None) -> tuple[str, int, str, str]:
    """(token id, timestamp, nonce, signature) of a push's Authorization header; 401 otherwise."""
    found = AUTH_PATTERN.match((header or "").strip())
    if not found:
        raise PushRefused(
            401,
            f"a push must be signed: Authorization: {SCHEME} id=…, ts=…, nonce=…, sig=… (see scripts/hfpanel-push)",
            {"WWW-Authenticate": SCHEME},
        )
    token_id, ts, nonce, sig = found.groups()
    return token_id, int(ts), nonce, sig


# -- the body ----------------------------------------------------------------------------------------
def _where(error) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"body{path}"


def read_body(body: bytes, received: float) -> list[dict]:
    """The results of a push body, checked against the schema; a 400 naming the first problem."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PushRefused(400, f"body: not JSON: {str(error).splitlines()[0]}") from None
    if isinstance(doc, dict) and "results" in doc:
        items = doc["results"]
        extra = sorted(set(doc) - {"results"})
        if extra:
            raise PushRefused(400, f"body: unknown key {extra[0]!r} beside 'results'")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_RESULTS:
            raise PushRefused(400, f"body.results: must be a list of 1 to {MAX_RESULTS} results")
        prefix = "body.results"
    else:
        items, prefix = [doc], "body"
    results = []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]" if prefix != "body" else "body"
        error = next(iter(sorted(_RESULT.iter_errors(item), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            path = "".join(f".{p}" for p in error.absolute_path)
            raise PushRefused(400, f"{where}{path}: {' '.join(error.message.split())[:200]}")
        results.append(_result(item, where, received))
    return results


def _result(item: dict, where: str, received: float) -> dict:
    ran = received
    if item.get("time"):
        try:
            stamp = pd.Timestamp(item["time"])
        except (ValueError, TypeError):
            raise PushRefused(400, f"{where}.time: not a time: {item['time']!r} (RFC 3339)") from None
        if stamp.tzinfo is None:
            raise PushRefused(400, f"{where}.time: give the offset (e.g. 2026-11-20T14:00:00Z)")
        ran = stamp.timestamp()
        if ran > received + WINDOW_S:
            raise PushRefused(400, f"{where}.time: in the future ({item['time']})")
    return {
        "host": item.get("host", ""),
        "test": item.get("test", ""),
        "outcome": item["outcome"],
        "status": OUTCOMES[item["outcome"]],
        "value": item.get("value"),
        "duration_s": item.get("duration_s"),
        "message": item.get("message", ""),
        "ran": ran,
    }


# -- the spool ---------------------------------------------------------------------------------------
class Spool:
    """The push spool of a state folder (one SQLite file; a connection per thread)."""

    def __init__(self, folder, readonly: bool = False):
        self.path = Path(folder) / SPOOL
        self.readonly = readonly
        self._local = threading.local()
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(
                    """
                    CREATE TABLE IF NOT EXISTS results (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, module TEXT NOT NULL, received REAL NOT NULL,
                        token TEXT NOT NULL, host TEXT, test TEXT, outcome TEXT, status REAL, value REAL,
                        duration_s REAL, message TEXT, ran REAL);
                    CREATE INDEX IF NOT EXISTS results_module ON results (module, id);
                    CREATE TABLE IF NOT EXISTS nonces (
                        token TEXT NOT NULL, nonce TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY (token, nonce));
                    """
                )

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            if self.readonly:
                con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10, check_same_thread=False)
            else:
                con = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the 2xx
            self._local.con = con
        return con

    def accept(self, module: str, token: str, nonce: str, results: list[dict], received: float) -> list[int]:
        """Store the results and the nonce in one transaction; 409 if the nonce was seen."""
        con = self._connect()
        try:
            with con:  # one transaction: all of it or nothing
                con.execute("DELETE FROM nonces WHERE ts < ?", (received - 2 * WINDOW_S,))
                try:
                    con.execute("INSERT INTO nonces (token, nonce, ts) VALUES (?, ?, ?)", (token, nonce, received))
                except sqlite3.IntegrityError:
                    raise PushRefused(409, "replayed: this nonce was already used (sign every request anew)") from None
                ids = []
                for r in results:
                    cursor = con.execute(
                        "INSERT INTO results (module, received, token, host, test, outcome, status, value, "
                        "duration_s, message, ran) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (module, received, token, r["host"], r["test"], r["outcome"], r["status"], r["value"],
                         r["duration_s"], r["message"], r["ran"]),
                    )  # fmt: skip
                    ids.append(cursor.lastrowid)
        except sqlite3.OperationalError as error:
            raise PushRefused(503, f"the push spool is busy or unwritable: {error}", {"Retry-After": "5"}) from None
        return ids

    def read(self, module: str, after_id: int, window_start: float, limit: int = 50_000) -> dict:
        """For the collector: results above ``after_id`` (new), the latest per host and test that
        arrived after ``window_start``, and when the module's last result arrived."""
        if not self.path.exists():
            return {"new": [], "latest": [], "last_received": None}
        con = self._connect()
        fields = "id AS push_id, received, token, host, test, outcome, status, value, duration_s, message, ran"
        con.row_factory = sqlite3.Row
        new = con.execute(
            f"SELECT {fields} FROM results WHERE module = ? AND id > ? ORDER BY id LIMIT ?", (module, after_id, limit)
        ).fetchall()
        latest = con.execute(
            f"SELECT {fields} FROM results WHERE id IN (SELECT max(id) FROM results WHERE module = ? AND received > ? "
            "GROUP BY host, test) ORDER BY host, test",
            (module, window_start),
        ).fetchall()
        last = con.execute("SELECT max(received) FROM results WHERE module = ?", (module,)).fetchone()[0]
        return {"new": [dict(r) for r in new], "latest": [dict(r) for r in latest], "last_received": last}

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            with contextlib.suppress(sqlite3.Error):
                con.close()
            self._local.con = None


def frame(rows: list[dict]) -> pd.DataFrame:
    """Spool rows as a table for the store (times as naive UTC)."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("received", "ran"):
        table[column] = pd.to_datetime(table[column], unit="s").astype("datetime64[us]")
    return table
