"""The API's tornado routes served in this process on a free loopback port (no Panel pages: the
API alone starts in milliseconds); ``served_api(store, config)`` yields the base URL."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import tornado.httpserver
import tornado.web
from browser_support import free_port

from hfpanel.api.server import patterns


@contextlib.contextmanager
def served_api(store, config=None, extra_patterns=()):
    """``/api/v1`` over ``store`` at ``http://127.0.0.1:PORT``; stopped on exit."""
    port = free_port()
    ready, holder = threading.Event(), {}

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = tornado.web.Application([*extra_patterns, *patterns(store, config)])
        server = tornado.httpserver.HTTPServer(app)
        server.listen(port, address="127.0.0.1")
        holder.update(loop=loop, server=server, app=app)
        ready.set()
        loop.run_forever()
        server.stop()
        loop.run_until_complete(server.close_all_connections())
        loop.close()

    thread = threading.Thread(target=run, daemon=True, name="api-server")
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["loop"].call_soon_threadsafe(holder["loop"].stop)
        thread.join(10)
