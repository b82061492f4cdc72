"""The API's tornado handlers, mounted beside the Panel pages on the same server and port
(``pn.serve(..., extra_patterns=api.patterns(...))``).

A request is read (unknown or repeated parameters are a 400), checked against the store's stamp
for a 304 (one ``stat``: nothing is queried between runs), then answered in a small thread pool
(DuckDB releases the GIL; the Panel sessions' event loop never waits for a query).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlencode

import pandas as pd

from ..clock import utc_naive
from ..queries.loaders import shared_store
from .base import CSV, EXECUTOR, JSON, LIVE_SECONDS, PREFIX, PUSH_PATH, JsonErrors
from .errors import ApiError
from .params import CURSOR, FORMAT, LIMIT
from .push_handler import Pushes, PushHandler
from .render import decode_cursor, encode_cursor, records, rfc3339, to_csv, to_json
from .routes import ROUTES, ApiContext, Call, Route, Table

log = logging.getLogger("hfpanel.api")


def route_pattern(route: Route) -> str:
    """The tornado pattern of a route: each ``{name}`` one path segment (``[^/]+``)."""
    path = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path)
    return PREFIX + ("/?" if path == "/" else path)


class NotFound(JsonErrors):
    """Anything under ``/api/v1`` that no route takes: a JSON 404, whatever the method."""

    def prepare(self) -> None:
        self.send_json_error(ApiError(404, f"no API route {self.request.path} (see {PREFIX}/openapi.json)"))


class ApiHandler(JsonErrors):
    """One route of the table (``initialize`` gets it): GET and HEAD only."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, context: ApiContext, route: Route, gate) -> None:
        self.context, self.route, self.gate = context, route, gate

    def check_xsrf_cookie(self) -> None:  # read-only routes change nothing
        return None

    def _reader(self) -> None:
        """The reader's view of the API; a 401 when the site needs a sign-in or a token they lack."""
        identity = self.gate.identify(self)
        if identity is None:
            raise ApiError(
                401,
                "sign in first, or send an API token with scope read: Authorization: Bearer hfp_…",
                {"WWW-Authenticate": 'Bearer realm="hfpanel"'},
            )
        self.context = self.context.for_viewer(self.gate.viewer(identity))
        if not self.gate.open:
            self.set_header("Cache-Control", "private, no-cache")

    async def get(self, **path) -> None:
        try:
            self._reader()
            raw = self._query()
            fmt = self._format(raw)
            if self._not_modified(fmt):
                return
            body, content_type, headers = await asyncio.get_running_loop().run_in_executor(
                EXECUTOR, self._compute, path, raw, fmt
            )
        except ApiError as error:
            self.send_json_error(error)
            return
        except Exception as error:  # a bug: one line in the log, one line to the client
            log.warning("api %s: internal error: %s: %s", self.request.path, type(error).__name__, error)
            log.debug("api %s failed", self.request.path, exc_info=True)
            self.send_json_error(ApiError(500, "internal error (logged on the server)"))
            return
        self.set_header("Content-Type", content_type)
        for name, value in headers.items():
            self.set_header(name, value)
        self.finish(body)

    head = get

    # -- reading the request ---------------------------------------------------------------------
    def _query(self) -> dict[str, str]:
        known = {p.name for p in self.route.params}
        if self.route.table:
            known |= {LIMIT.name, CURSOR.name, FORMAT.name}
        raw = {}
        for name, values in self.request.query_arguments.items():
            if name not in known:
                shown = ", ".join(sorted(known)) or "none"
                raise ApiError(400, f"unknown query parameter {name!r} (known: {shown})")
            if len(values) > 1:
                raise ApiError(400, f"query parameter {name!r} given {len(values)} times")
            try:
                raw[name] = values[0].decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, f"query parameter {name!r}: not UTF-8") from None
        return raw

    def _format(self, raw: dict) -> str:
        if not self.route.table:
            return "json"
        if raw.get("format"):
            return FORMAT.read(raw["format"], self.context, "query")
        return "csv" if "text/csv" in self.request.headers.get("Accept", "") else "json"

    # -- caching ---------------------------------------------------------------------------------
    def _validators(self, fmt: str) -> tuple[str, datetime | None]:
        """ETag and Last-Modified of this request's answer: the store's latest commit (and, for the
        live ages of "now", the current minute)."""
        stamp = self.context.store.stamp()
        changed = stamp[1] / 1e9 if stamp else 0.0
        live = self.route.name in LIVE_ROUTES and not self.get_query_argument("at", None)
        if live:
            changed = max(changed, time.time() // LIVE_SECONDS * LIVE_SECONDS)
        key = repr((stamp, self.request.uri, fmt, live and time.time() // LIVE_SECONDS, self.context.viewer.key))
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        return etag, datetime.fromtimestamp(int(changed), timezone.utc) if changed else None

    def _not_modified(self, fmt: str) -> bool:
        etag, modified = self._validators(fmt)
        self.set_header("ETag", etag)
        if modified is not None:
            self.set_header("Last-Modified", format_datetime(modified, usegmt=True))
        match = self.request.headers.get("If-None-Match")
        if match is not None:
            tags = {t.strip().removeprefix("W/") for t in match.split(",")}
            fresh = etag in tags or "*" in tags
        else:
            fresh = _not_modified_since(self.request.headers.get("If-Modified-Since"), modified)
        if fresh:
            self.set_status(304)
            self.finish()
        return fresh

    # -- answering (in the pool) -----------------------------------------------------------------
    def _compute(self, path: dict, raw: dict, fmt: str) -> tuple[bytes, str, dict]:
        state = decode_cursor(raw.pop("cursor")) if raw.get("cursor") else {}
        query = dict(raw)
        pinned = {k: v for k, v in state.get("pin", {}).items() if k in {p.name for p in self.route.params}}
        raw = {**raw, **{k: v for k, v in pinned.items() if v is not None}}
        args = {}
        for param in self.route.path_params:
            args[param.name] = param.read(path.get(param.name), self.context, "path")
        for param in self.route.params:
            args[param.name] = param.read(raw.get(param.name), self.context, "query")
        answer = self.route.answer(Call(self.context, args))
        if not isinstance(answer, Table):
            return to_json(answer), JSON, {}
        limit = LIMIT.read(raw.get("limit"), self.context, "query")
        rows, position = page(answer, limit, state)
        following = None
        if position is not None:
            query.pop("cursor", None)
            cursor = encode_cursor({"pin": answer.pin, **position})
            following = self.request.path + "?" + urlencode({**query, "cursor": cursor})
        rows = records(rows, answer.columns)
        if fmt == "csv":
            headers = {"Link": f'<{following}>; rel="next"'} if following else {}
            return to_csv(rows, answer.columns), CSV, headers
        return to_json({**answer.meta, "rows": rows, "next": following}), JSON, {}


def _not_modified_since(header: str | None, modified: datetime | None) -> bool:
    if not header or modified is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return modified <= since


def page(table: Table, limit: int, state: dict) -> tuple[pd.DataFrame, dict | None]:
    """One page of ``table`` after the cursor's position, and the position after it (None: last page)."""
    frame = table.frame
    if table.order and state.get("after") is not None:
        column = frame[table.order]
        after = state["after"]
        if pd.api.types.is_datetime64_any_dtype(column):
            try:
                after = utc_naive(after)
            except (ValueError, TypeError):
                raise ApiError(400, "query parameter 'cursor': not a cursor of this API") from None
        frame = frame[column > after]
    elif state.get("offset"):
        offset = state["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ApiError(400, "query parameter 'cursor': not a cursor of this API")
        frame = frame.iloc[offset:]
    rows = frame.iloc[:limit]
    if len(frame) <= limit:
        return rows, None
    if table.order:
        return rows, {"after": rfc3339(rows[table.order].iloc[-1])}
    return rows, {"offset": int(state.get("offset") or 0) + limit}


#: routes whose answer at "now" holds ages measured from the wall clock
#: answers about "now" that change without a commit: ages, and levels — a module silent past its
#: interval + max_age is no information (queries/status.py), so a stopped collector shows within a minute
LIVE_ROUTES = {"site", "status", "category", "modules", "module", "feed"}


def patterns(store, config=None, gate=None) -> list[tuple]:
    """The tornado routes of the API for ``store`` (a path or a ``Store``) and its ``config``;
    ``gate`` (``hfpanel.auth.gate.Gate``) says who a request is (default: no sign-in, loopback)."""
    from ..api_settings import ApiSettings
    from ..auth.gate import Gate
    from .tokens import TokenStore

    opened = shared_store(store) if not hasattr(store, "sql") else store
    context = ApiContext(opened, config)
    settings = config.api if config is not None else ApiSettings()
    state = settings.state_folder(opened.root)
    tokens = TokenStore(state)
    if gate is None:
        gate = Gate(config.auth if config is not None else None, tokens)
    gate.tokens = gate.tokens or tokens
    pushes = Pushes(config, state, tokens)
    routes = [
        (route_pattern(route), ApiHandler, {"context": context, "route": route, "gate": gate}) for route in ROUTES
    ]
    push_route = (PREFIX + PUSH_PATH.replace("{module}", "(?P<module>[^/]+)"), PushHandler, {"pushes": pushes})
    return [*routes, push_route, (PREFIX + r"(?:/.*)?", NotFound)]
