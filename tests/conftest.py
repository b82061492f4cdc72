"""Shared fixtures and the suite's layout.

Tests live in folders by what they test; each folder is also a marker (``-m store``), and the folders
whose tests start servers, browsers, Spark or the 3-day demo are marked ``slow`` as a whole, so
``make test-fast`` (``-m "not slow"``) runs the rest in about three minutes on this 2-core machine. Helpers (fault server, store
factories, browser support) live in ``tests/support`` and import by name (``pythonpath`` in
``pyproject.toml``).

Shared fixtures: one demo store per test session, built by the real `hfpanel demo` command, and
the headless Chromium the browser tests drive."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, IGNORED_CONSOLE, TIMEOUT_MS

#: the store `make demo` builds (3 days): the notebooks and the demo tests run on what a user has
DEMO_DAYS = 3


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """The demo site backfilled for three days through the real collectors, as `make demo` does."""
    root = tmp_path_factory.mktemp("demo") / "demo-store"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hfpanel.cli",
            "demo",
            "--no-serve",
            "--days",
            str(DEMO_DAYS),
            "--store",
            str(root),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def demo_start(demo_store) -> pd.Timestamp:
    return pd.Timestamp(json.loads((demo_store / "demo.json").read_text())["start"])


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $HFPANEL_SCREENSHOT_DIR, else pytest's temporary folder."""
    folder = os.environ.get("HFPANEL_SCREENSHOT_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); "
            "these tests never download a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and any alert() dialog."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not any(s in m.text for s in IGNORED_CONSOLE)
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_dialog(dialog):
        problems.append(f"a dialog opened (injected script ran?): {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.problems = problems
    yield page
    context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The small hand-built store of ``store_factory`` (one per test module that asks for it)."""
    from store_factory import build_store

    return build_store(tmp_path_factory.mktemp("site") / "store")


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    """``hfpanel serve`` over ``site`` on a free loopback port; yields its URL."""
    from browser_support import served

    with served(site.root, tmp_path_factory.mktemp("serve-log") / "serve.log") as url:
        yield url


#: folder → markers; a folder that starts servers, browsers, Spark or the demo backfill is slow
FOLDER_MARKERS = {
    "unit": (),
    "collectors": (),
    "store": (),
    "components": (),
    "transfers": (),
    "ingest": ("slow",),
    "app": ("slow", "browser"),
    "demo": ("slow",),
    "spark": ("slow",),
    "api": (),
}


def pytest_collection_modifyitems(config, items):
    """Mark every test by its folder, and mark slow whatever needs the 3-day demo store."""
    root = Path(__file__).parent
    for item in items:
        folder = Path(item.fspath).relative_to(root).parts[0]
        for name in (folder, *FOLDER_MARKERS.get(folder, ())):
            item.add_marker(name)
        if "demo_store" in getattr(item, "fixturenames", ()):
            item.add_marker("slow")
