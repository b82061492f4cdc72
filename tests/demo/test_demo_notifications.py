"""The demo's incidents through the demo's notification rules, message by message: backfills of the
windows around each incident through the real collectors, delivered by the demo's command receiver
into its mailbox on disk; and the replay of the same history gives the same messages."""

import json
from pathlib import Path

import pandas as pd
import pytest

from hfpanel.config import load_config
from hfpanel.demo.run import backfill
from hfpanel.demo.simulator import Simulator
from hfpanel.demo.site import write_demo_config
from hfpanel.events.replay import replay
from hfpanel.store import Store

START = pd.Timestamp("2026-11-01")


def at(hours: float) -> pd.Timestamp:
    return START + pd.Timedelta(hours=hours)


def _backfill(tmp_path: Path, begin: float, end: float):
    with Simulator(start=START.to_pydatetime(), hang_seconds=3.0) as sim:
        config = load_config(
            write_demo_config(tmp_path / "site.yaml", sim.serve("127.0.0.1", 0), str(tmp_path / "store"))
        )
        backfill(config, sim, at(begin), at(end), quiet=True)
    inbox = Path(f"{tmp_path / 'store'}.inbox") / "messages.jsonl"
    messages = [json.loads(line) for line in inbox.read_text().splitlines()] if inbox.exists() else []
    return config, messages


def _subjects(messages):
    return [m["subject"] for m in messages]


@pytest.mark.parametrize("window", [(19.5, 27.5)])
def test_the_ce_failure_is_one_problem_per_category_then_resolved(tmp_path, window):
    config, messages = _backfill(tmp_path, *window)
    subjects = _subjects(messages)
    assert subjects and all(s.startswith("T2_XX_Demo ") for s in subjects)
    firing = [s for s in subjects if " RESOLVED " not in s]
    resolved = [s for s in subjects if " RESOLVED " in s]
    assert len(firing) == len(resolved) <= 3, subjects  # a short list: each opened incident also ends
    assert any("category=availability" in s and "sam_ce" in s for s in firing), subjects
    with Store(tmp_path / "store") as store:
        again = replay(store, config, at(window[0]) - pd.Timedelta(minutes=1))
    assert again.messages["message_id"].tolist() == [m["key"] for m in messages]


def test_the_hammercloud_outage_is_one_no_information_incident(tmp_path):
    _, messages = _backfill(tmp_path, 29, 35.5)
    kinds = [(m["kind"], m["subject"].split(" ")[1]) for m in messages]
    assert kinds == [("firing", "NOINFO"), ("resolved", "RESOLVED")], _subjects(messages)
    assert "category=compute" in messages[0]["subject"] and "hc_template" in messages[0]["subject"]


def test_the_se_downtime_sends_nothing_during_or_after(tmp_path):
    _, messages = _backfill(tmp_path, 43, 50.5)
    # the stuck Rucio rules (from hour 38, a lasting warning) are the only news of these hours: neither
    # the SE's downtime (44-49) nor its consequences (HammerCloud jobs, transfers) nor a burst after it
    assert _subjects(messages) == ["T2_XX_Demo WARNING category=data_management: rucio_rules"]
