"""Helpers for driving the served app in headless Chromium (Debian's /usr/bin/chromium through
Playwright's executable_path; a browser is never downloaded). Fixtures live in conftest.py."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
#: console noise of headless Chromium itself, not of the app
IGNORED_CONSOLE = ("GL Driver Message", "GPU stall", "WebGL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Wait until the server listens, then load the page once (a warm-up a user would not see).

    Polling the page itself with short timeouts would open a new session per poll, each costing
    a full render, and bury a busy machine; a TCP connect is free.
    """
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hfpanel serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail(f"hfpanel serve did not listen at {url} within {timeout:.0f}s:\n{log.read_text()}")
    try:
        with urllib.request.urlopen(url, timeout=max(5.0, deadline - time.monotonic())) as response:
            if response.status == 200:
                return
    except OSError as error:
        pytest.fail(f"hfpanel serve did not answer at {url}: {error}\n{log.read_text()}")
    pytest.fail(f"hfpanel serve answered {response.status} at {url}:\n{log.read_text()}")


@contextlib.contextmanager
def served(store: Path, log: Path, config: Path | None = None, verbosity: str = "-v"):
    """`hfpanel serve` on a free port of 127.0.0.1 in a subprocess; yields its URL."""
    port = free_port()
    # the test helpers (store_factory's collectors, named by dotted path in test configs) import by name
    tests = str(Path(__file__).parent)  # tests/support
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])),
    }
    env.pop("HFPANEL_STORE", None)
    env.pop("HFPANEL_CONFIG", None)
    command = [
        sys.executable,
        "-m",
        "hfpanel.cli",
        verbosity,
        "serve",
        "--store",
        str(store),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
    ] + (["--config", str(config)] if config else [])
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def tile(page, category: str):
    return page.locator(f'.hf-tile[data-category="{category}"]')


def module_row(page, module: str):
    return page.locator(f'.hf-row[data-module="{module}"]')


def wait_for_level(locator, level: str) -> None:
    """Wait until the element shows ``level`` (updates arrive over the websocket)."""
    locator.and_(locator.page.locator(f'[data-level="{level}"]')).wait_for()
