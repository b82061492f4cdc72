"""``POST /api/v1/push/{module}``: a signed test result from a job or a probe, spooled durably.

The checks, cheapest first, each a one-line JSON refusal: the body's size (413, before it is
read), the signature header (401), the token (401: unknown, revoked or expired), the timestamp
within ``WINDOW_S`` of the server's clock (401), the HMAC over timestamp, nonce, method, path and
raw body (401), the token's scope for this module (403), the token's rate (429 with Retry-After),
the module being a ``push`` module of the configuration (404), the body against the schema (400).
Then the results and the nonce are committed in one SQLite transaction (a replay is 409) and only
then is the answer 202: accepted results are on disk, a refused request left nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time

import tornado.web

from .. import push
from .base import EXECUTOR, JSON, JsonErrors
from .errors import ApiError
from .render import to_json

log = logging.getLogger("hfpanel.api.push")


class RateLimit:
    """A token bucket per token id: ``rate`` pushes per minute, bursts up to ``rate``."""

    def __init__(self, per_minute: float):
        self.capacity, self.refill = float(per_minute), float(per_minute) / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds until the next push would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.refill)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.refill


class Pushes:
    """What the push route needs: the configured push modules, tokens, spool, limits."""

    def __init__(self, config, state_folder, tokens):
        self.config = config
        self.tokens = tokens
        self.settings = config.api if config is not None else None
        self.max_body = self.settings.push_max_body if self.settings else 64 * 1024
        self.rate = RateLimit(self.settings.push_rate if self.settings else 60.0)
        self.folder = state_folder
        self._spool = None
        self._lock = threading.Lock()

    def modules(self) -> list[str]:
        return push_modules(self.config)

    def spool(self) -> push.Spool:
        with self._lock:
            if self._spool is None:
                self._spool = push.Spool(self.folder)
            return self._spool


def push_modules(config) -> list[str]:
    """The modules of ``config`` rated from pushes (collector ``push``)."""
    if config is None:
        return []
    return [m.name for m in config.modules if m.collector == "push" or m.collector.endswith(":PushCollector")]


@tornado.web.stream_request_body
class PushHandler(JsonErrors):
    """The push route; the body is read in chunks so that an oversized one is refused unread."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, pushes: Pushes) -> None:
        self.pushes = pushes
        self._chunks: list[bytes] = []
        self._size = 0
        self._refused: ApiError | None = None

    def check_xsrf_cookie(self) -> None:  # a signed request carries its own proof; no cookie is involved
        return None

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.pushes.max_body:
            self.send_json_error(ApiError(413, f"body larger than {self.pushes.max_body} bytes"))

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._size += len(chunk)
        if self._size > self.pushes.max_body:
            self._refused = ApiError(413, f"body larger than {self.pushes.max_body} bytes")
            self._chunks = []
            return
        self._chunks.append(chunk)

    async def post(self, module: str) -> None:
        received = time.time()
        try:
            if self._refused is not None:
                raise self._refused
            body = b"".join(self._chunks)
            token_id, nonce = self._authenticate(module, body, received)
            if module not in self.pushes.modules():
                raise ApiError(404, f"no push module {module!r} (a module with collector: push in the configuration)")
            try:
                results = push.read_body(body, received)
            except push.PushRefused as error:
                raise ApiError(error.status, error.message, error.headers) from None
            ids = await asyncio.get_running_loop().run_in_executor(
                EXECUTOR, self._store, module, token_id, nonce, results, received
            )
        except ApiError as error:
            log.info("push to %s refused (%d): %s", module, error.status, error.message)
            self.send_json_error(error)
            return
        self.set_status(202)
        self.set_header("Content-Type", JSON)
        self.finish(to_json({"module": module, "accepted": len(ids), "first_id": ids[0], "last_id": ids[-1]}))

    def _store(self, module, token_id, nonce, results, received) -> list[int]:
        try:
            return self.pushes.spool().accept(module, token_id, nonce, results, received)
        except push.PushRefused as error:
            raise ApiError(error.status, error.message, error.headers) from None

    def _authenticate(self, module: str, body: bytes, now: float) -> tuple[str, str]:
        try:
            token_id, timestamp, nonce, sig = push.read_authorization(self.request.headers.get("Authorization"))
        except push.PushRefused as error:
            raise ApiError(error.status, error.message, error.headers) from None
        token = self.pushes.tokens.get(token_id)
        if token is None or not token.active(now):
            raise ApiError(401, "unknown, revoked or expired token", {"WWW-Authenticate": push.SCHEME})
        if abs(now - timestamp) > push.WINDOW_S:
            raise ApiError(401, f"timestamp outside the {push.WINDOW_S} s window (check the client's clock)")
        expected = push.signature(bytes.fromhex(token.key), timestamp, nonce, "POST", self.request.path, body)
        if not hmac.compare_digest(expected, sig):
            raise ApiError(401, "bad signature (over timestamp, nonce, method, path and the raw body)")
        if not token.allows(f"push:{module}"):
            raise ApiError(403, f"token {token_id} may not push to {module!r} (scopes: {', '.join(token.scopes)})")
        wait = self.pushes.rate.take(token_id)
        if wait:
            raise ApiError(429, "too many pushes with this token: slow down", {"Retry-After": str(int(wait) + 1)})
        return token_id, nonce
