"""The example configurations a new site copies (examples/*.yaml) pass `hfpanel config check`, with
the real collectors, and the check fetches nothing: it runs with every network connection refused."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hfpanel.cli import main
from hfpanel.config import load_config

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def test_there_is_a_tier2_and_a_tier1_with_transfers():
    names = [p.name for p in EXAMPLES]
    assert names == ["site-tier1-transfers.yaml", "site-tier2.yaml"]
    tier1 = yaml.safe_load(EXAMPLES[0].read_text())
    assert tier1["transfers"]["subscriptions"] and {"ingest_health", "transfer_efficiency"} <= {
        m["collector"] for m in tier1["modules"]
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_config_check_passes_as_a_site_admin_runs_it(example):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("hfpanel")), "config", "check", str(example)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{example}: OK — site ")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_check_connects_to_nothing(example, monkeypatch, capsys):
    tried = []

    def refuse(self, address, *args):
        tried.append(address)
        raise OSError("network use during config check")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert main(["config", "check", str(example)]) == 0, capsys.readouterr().err
    assert tried == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_module_is_described_for_a_shifter(example):
    config = load_config(example)
    assert all(m.instruction for m in config.modules), "own or the collector's default instruction"
    text = example.read_text()
    assert text.startswith("# hfpanel site configuration") and "hfpanel config check" in text
