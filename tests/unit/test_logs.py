"""hfpanel.logs: a library's account of a failure hfpanel reports itself is -vv detail, never a
flood at the default verbosity (what cron mails and journald keeps)."""

import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from browser_support import free_port

from hfpanel import logs
from hfpanel.store import StoreWriter


def test_a_tamed_logger_is_debug_detail_shown_only_when_hfpanel_logs_debug(caplog):
    library = logs.tame("hfpanel-test-library")
    web = logs.tame("hfpanel-test-web", keep=logging.ERROR)
    caplog.set_level(logging.WARNING)  # hfpanel's default verbosity
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except OSError:
        library.error("error sending frame", exc_info=True)
    web.warning("404 GET /nope")
    web.error("500 GET /")
    assert [(r.name, r.levelname) for r in caplog.records] == [("hfpanel-test-web", "ERROR")]
    caplog.clear()
    caplog.set_level(logging.DEBUG)  # hfpanel -vv: everything, tracebacks included, as DEBUG
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except OSError:
        library.error("error sending frame", exc_info=True)
    web.warning("404 GET /nope")
    assert [(r.name, r.levelname) for r in caplog.records] == [
        ("hfpanel-test-library", "DEBUG"),
        ("hfpanel-test-web", "DEBUG"),
    ]
    assert "BrokenPipeError" in caplog.text
    assert logs.tame("hfpanel-test-library").filters == library.filters and len(library.filters) == 1


def test_a_scanner_on_hfpanel_serve_writes_nothing_to_stderr(tmp_path):
    """tornado logs every 4xx at WARNING: a scanner probing the served app filled stderr (and the
    journal) with one line per request. They are -vv detail now; the page itself still works."""
    with StoreWriter(tmp_path / "store") as writer:
        writer.write({}, state={"created": "for this test"})  # an empty store with a manifest
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "hfpanel.cli",
        "serve",
        "--store",
        str(tmp_path / "store"),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
    ]
    stderr = tmp_path / "stderr.log"
    with open(stderr, "w") as err:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while "serving" not in stderr.read_text() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        statuses = []
        for path in ("/wp-login.php", "/.env", "/admin", "/ws"):
            try:
                opener.open(f"http://127.0.0.1:{port}{path}", timeout=30)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        assert statuses == [404, 404, 404, 400]  # /ws without a websocket upgrade
        assert opener.open(f"http://127.0.0.1:{port}/", timeout=60).status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    lines = stderr.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hfpanel: serving "), lines
