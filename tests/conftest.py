"""Shared fixtures: one demo store per test session, built by the real `hfpanel demo` command."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (fault_server, store_factory) import by name

DEMO_DAYS = 1


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A demo site backfilled for one day through the real collectors (about a minute and a half)."""
    root = tmp_path_factory.mktemp("demo") / "demo-store"
    result = subprocess.run([sys.executable, "-m", "hfpanel.cli", "demo", "--no-serve", "--days", str(DEMO_DAYS),
                             "--store", str(root), "--quiet"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def demo_start(demo_store) -> pd.Timestamp:
    return pd.Timestamp(json.loads((demo_store / "demo.json").read_text())["start"])
