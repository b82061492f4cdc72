"""What every API handler shares: the executor answers are computed on (off the event loop that
also serves the pages' websockets), the security headers, the content types, and ``JsonErrors``:
every refusal as one JSON line. The read server and the push handler both build on it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import tornado.web

from .errors import ApiError
from .render import to_json

#: the API's path prefix, and the push route under it
PREFIX = "/api/v1"
PUSH_PATH = "/push/{module}"
#: answers are computed here, off the event loop that also serves the pages' websockets
EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hfpanel-api")
#: ages in live answers are to the minute: the ETag of "now" changes at least this often
LIVE_SECONDS = 60
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
JSON = "application/json; charset=utf-8"
CSV = "text/csv; charset=utf-8"


class JsonErrors(tornado.web.RequestHandler):
    """Security headers on every answer, and every refusal as one JSON line."""

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def compute_etag(self):  # ours are set explicitly (from the store), never from the body
        return None

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        message = error.message if isinstance(error, ApiError) else self._reason
        if isinstance(error, tornado.web.HTTPError) and status_code == 405:
            message = f"method {self.request.method} not allowed here"
        self.send_json_error(ApiError(status_code, message))

    def send_json_error(self, error: ApiError) -> None:
        self.clear()
        self.set_status(error.status)
        for name, value in error.headers.items():
            self.set_header(name, value)
        self.set_header("Content-Type", JSON)
        self.finish(to_json({"error": {"status": error.status, "message": error.message}}))
