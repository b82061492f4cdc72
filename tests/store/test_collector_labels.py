"""Labels a collector provides reach the notification rules: a rule naming a failing host fires for
the module whose failing row is that host and for no other, the labels are stored with the run and
its events, and a replay of the stored history sends the same."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from event_sites import START
from notify_servers import WebhookSink
from store_factory import FakeCollector  # noqa: F401  (registers the "fake" collector)

from collectors.sam import SamCollector
from hfpanel.components import ModuleView
from hfpanel.config import ConfigError, parse_config
from hfpanel.events.outbox import dispatch
from hfpanel.events.replay import replay
from hfpanel.labels import label_matches, normalise, result_labels
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures"
ROWS_RATING = {"type": "weakest_link", "table": "rows", "column": "status", "label": "host"}


def rows(**status) -> list[dict]:
    return [{"host": f"{name}.example.org", "status": value} for name, value in status.items()]


def site(root: Path, hook_url: str, specs: dict, match: dict) -> object:
    modules = [
        {
            "name": name,
            "category": "availability",
            "collector": "fake",
            "params": {"health": 1.0, "rows": specs.get(name, [])},
            "rating": ROWS_RATING,
            "interval": "15m",
            "max_age": "1h",
            **({"labels": {"team": "compute"}} if name == "ce_b" else {}),
        }
        for name in ("ce_a", "ce_b")
    ]
    return parse_config(
        {
            "site": "T2_TEST",
            "store": str(root),
            "categories": [{"name": "availability"}],
            "modules": modules,
            "notifications": {
                "base_url": "https://hfpanel.example.org",
                "receivers": [{"name": "hook", "webhook": {"url": hook_url, "timeout": "5s"}}],
                "rules": [{"name": "by-host", "match": match, "receivers": ["hook"]}],
            },
        }
    )


def run(root, runner, cfg, when):
    runner.config = cfg
    runner.events.deriver.modules = {m.name: m for m in cfg.modules}
    with StoreWriter(root) as writer:
        runner.run_once(writer, now=when, force=True)
        dispatch(writer, cfg, now=when)


@pytest.fixture
def hook():
    with WebhookSink() as sink:
        yield sink


def test_a_rule_on_a_failing_host_fires_for_that_module_only_and_replays_the_same(tmp_path, hook):
    root = tmp_path / "store"
    match = {"level": ["critical"], "labels": {"host": ["ce02*"]}}
    history = [
        {"ce_a": rows(ce01=1, ce02=1), "ce_b": rows(ce01=1, ce02=1)},
        {"ce_a": rows(ce01=1, ce02=0), "ce_b": rows(ce01=0, ce02=1)},  # both critical: ce02 fails in ce_a only
        {"ce_a": rows(ce01=1, ce02=0), "ce_b": rows(ce01=0, ce02=1)},
        {"ce_a": rows(ce01=1, ce02=1), "ce_b": rows(ce01=1, ce02=1)},
    ]
    runner = Runner(site(root, hook.url, history[0], match))
    for i, specs in enumerate(history):
        run(root, runner, site(root, hook.url, specs, match), START + pd.Timedelta(minutes=15 * i))

    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    alerts = hook.bodies[0]["alerts"]
    assert [a["labels"]["module"] for a in alerts] == ["ce_a"]
    assert alerts[0]["labels"]["host"] == "ce02.example.org"

    with Store(root) as store:
        status = store.sql(
            "SELECT module, labels FROM module_status WHERE time = ? ORDER BY module",
            [START.to_pydatetime() + pd.Timedelta(minutes=15)],
        )
        assert {m: json.loads(t) for m, t in zip(status["module"], status["labels"])} == {
            "ce_a": {"host": "ce02.example.org"},
            "ce_b": {"host": "ce01.example.org"},
        }
        events = store.sql("SELECT module, labels FROM events WHERE kind = 'level_changed' AND after = 'critical'")
        assert {m: json.loads(t)["host"] for m, t in zip(events["module"], events["labels"])} == {
            "ce_a": "ce02.example.org",
            "ce_b": "ce01.example.org",
        }
        replayed = replay(store, site(root, hook.url, {}, match), START - pd.Timedelta(minutes=1))
    view = ModuleView(store=root, module="ce_a", time=START + pd.Timedelta(minutes=15))
    assert "<code>host=ce02.example.org</code>" in view._facts.object  # the shifter sees what rules match
    firing = replayed.messages[replayed.messages["kind"] == "firing"]
    assert len(firing) == 1 and "ce_a" in firing["subject"].iloc[0] and "ce_b" not in firing["subject"].iloc[0]
    assert (replayed.messages["kind"] == "resolved").sum() == 1


def test_the_sites_own_labels_win_over_the_collectors(tmp_path, hook):
    """ce_b's site.yaml says team: compute; a rule on that team fires for it whatever its rows say."""
    root = tmp_path / "store"
    match = {"level": ["critical"], "labels": {"team": ["compute"]}}
    runner = Runner(site(root, hook.url, {}, match))
    run(root, runner, site(root, hook.url, {"ce_a": rows(x=1), "ce_b": rows(x=1)}, match), START)
    run(root, runner, site(root, hook.url, {"ce_a": rows(x=0), "ce_b": rows(x=0)}, match), START + pd.Timedelta("15m"))
    assert [[a["labels"]["module"] for a in b["alerts"]] for b in hook.bodies] == [["ce_b"]]


def test_label_values_and_patterns():
    assert normalise({"host": ["b", "a", "a", ""], "module": "x", "empty": [], "n": 3}) == {"host": "a,b", "n": "3"}
    assert label_matches("ce01.example.org,ce02.example.org", "ce02*")
    assert label_matches("ce01.example.org,ce02.example.org", "ce0*.example.org,ce0*")  # the whole value
    assert not label_matches("ce01.example.org", "ce02*")
    assert not label_matches("", "ce*") and label_matches("", "*")


def test_built_in_collectors_name_what_fails():
    sam = SamCollector(vo="cms", site="T2_UK_London_IC")
    result = sam.parse((FIXTURES / "sam" / "sam_results.json").read_bytes())
    labels = result_labels(sam.default_rating, result, rate(sam.default_rating, result).inputs)
    # the XROOTD door is CRITICAL; the ARC-CE's UNKNOWN is not a failure a rule should be woken by
    assert labels == {"flavour": "XROOTD", "host": "gfe02.grid.hep.ph.ic.ac.uk"}


def test_a_label_pattern_must_be_text(tmp_path):
    with pytest.raises(ConfigError) as info:
        site(tmp_path, "http://127.0.0.1:9/", {}, {"labels": {"host": []}})
    assert "rules[by-host].match.labels.host" in str(info.value)
