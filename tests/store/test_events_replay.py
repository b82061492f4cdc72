"""``hfpanel events replay``: the stored history re-derived with the current or a proposed rule set,
sending nothing — the same messages the collector queued, and fewer with a stricter rule."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from event_sites import START, EventSite, config, notifying, view

from hfpanel.cli import main
from hfpanel.events.config import MetricJumps
from hfpanel.events.derive import Deriver
from hfpanel.events.replay import batch_jumps, replay
from hfpanel.store import Store

MODULES = {"ce": "availability", "srm": "availability", "pool": "storage"}
STORY = [
    {},
    {"ce": {"health": 0.1}},
    {"ce": {"health": 0.1}, "pool": {"health": 0.1}},
    {"pool": {"health": 0.1}},
    {"ce": {"health": 0.1}},  # a one-run blip
    {},
    {"srm": {"fail": "timeout"}},
    {},
]


def _site(tmp_path, **rule):
    notifications = notifying(hook_url="http://127.0.0.1:9/x", match={"level": ["critical", "noinfo"]}, **rule)
    site = EventSite(tmp_path / "store", MODULES, notifications=notifications)
    for spec in STORY:
        site.run(spec, send=False)
    return site, notifications


def _config_file(tmp_path, notifications):
    path = tmp_path / "site.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "site": "T2_TEST",
                "store": str(tmp_path / "store"),
                "categories": [{"name": c} for c in sorted(set(MODULES.values()))],
                "modules": [
                    {"name": n, "category": c, "collector": "fake", "interval": "15m", "max_age": "1h"}
                    for n, c in MODULES.items()
                ],
                "notifications": notifications,
            }
        )
    )
    return path


def test_replay_gives_the_messages_the_collector_queued(tmp_path):
    site, notifications = _site(tmp_path)
    queued = site.table("outbox")
    cfg = config(tmp_path / "store", MODULES, notifications=notifications)
    with Store(tmp_path / "store") as store:
        result = replay(store, cfg, START)  # from the first run on
    assert result.runs == len(STORY) - 1
    got = result.messages[["message_id", "kind", "subject"]].values.tolist()
    assert got == queued[["message_id", "kind", "subject"]].values.tolist()
    assert [k for k in queued["kind"]] == [
        "firing",
        "firing",
        "resolved",
        "resolved",
        "firing",
        "resolved",
        "firing",
        "resolved",
    ]
    stored = site.events()
    replayed = result.events
    assert sorted(replayed["event_id"]) == sorted(stored[stored["time"] > START]["event_id"])


def test_replay_with_proposed_rules_from_the_command_line(tmp_path, capsys):
    site, notifications = _site(tmp_path)
    config_file = _config_file(tmp_path, notifications)
    proposed = tmp_path / "proposed.yaml"
    stricter = dict(notifications, rules=[dict(notifications["rules"][0], **{"for": "2 runs"})])
    proposed.write_text(yaml.safe_dump({"notifications": stricter}))
    assert main(["events", "replay", "--config", str(config_file), "--since", "2026-11-20T00:00"]) == 0
    now = capsys.readouterr()
    assert now.err.strip().startswith("7 runs, 16 events, 4 incidents, 8 messages (nothing sent)")
    assert (
        main(
            ["events", "replay", "--config", str(config_file), "--since", "2026-11-20T00:00", "--rules", str(proposed)]
        )
        == 0
    )
    stricter_out = capsys.readouterr()
    lines = stricter_out.out.splitlines()
    assert lines[0].split() == ["time", "kind", "receivers", "subject"]
    # two runs in a row: the ce outage (2 runs) and the pool (2 runs) remain; the blip and srm go
    assert [line.split()[2] for line in lines[1:-1]] == ["firing", "resolved", "firing", "resolved"]
    assert stricter_out.err.strip().startswith("7 runs, 16 events, 2 incidents, 4 messages (nothing sent)")
    assert site.table("deliveries").empty  # a replay sends nothing


def test_replay_rules_file_mistakes_are_named(tmp_path, capsys):
    _, notifications = _site(tmp_path)
    config_file = _config_file(tmp_path, notifications)
    proposed = tmp_path / "bad.yaml"
    proposed.write_text(yaml.safe_dump({"notifications": {"rules": [{"name": "x", "receivers": ["nobody"]}]}}))
    with pytest.raises(SystemExit) as stopped:  # as every configuration mistake: the problems, exit 2
        main(["events", "replay", "--config", str(config_file), "--since", "2026-11-20", "--rules", str(proposed)])
    assert stopped.value.code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[0]
        .startswith(f"{proposed}: section 'notifications': key 'rules[x].receivers': no receiver 'nobody'")
    )


def test_batch_metric_jumps_agree_with_the_live_path(tmp_path):
    rng = np.random.default_rng(7)
    settings = MetricJumps(window=12, min_runs=5, z=4, min_change=0.2)
    cfg = config(
        tmp_path,
        {"a": "x", "b": "x"},
        notifications={"events": {"metric_jumps": json.loads(json.dumps(vars(settings)))}},
    )
    deriver = Deriver(cfg)
    rows, live = [], []
    for i in range(200):
        when = START + pd.Timedelta(minutes=15 * i)
        values = {
            ("a", "held"): float(rng.poisson(5) + (80 if 90 < i < 95 else 0)),
            ("b", "rate"): float(rng.normal(100, 3)),
        }
        if i % 37 == 0:
            values[("b", "rate")] = 400.0
        for (module, metric), value in values.items():
            rows.append({"time": when, "run_id": f"r{i}", "module": module, "metric": metric, "value": value})
        events = deriver.derive(view(when, {"a": "ok", "b": "ok"}, metrics=values, run_id=f"r{i}"))
        live += [(f"r{i}", e.subject) for e in events if e.kind == "metric_jump"]
    batch = batch_jumps(pd.DataFrame(rows), settings, {})
    assert sorted(zip(batch["run_id"], "metric/" + batch["module"] + "/" + batch["metric"])) == sorted(live)
    assert len(live) >= 5


def test_replay_in_chunks_gives_the_same_events_and_messages(tmp_path):
    site, notifications = _site(tmp_path)
    cfg = config(tmp_path / "store", MODULES, notifications=notifications)
    with Store(tmp_path / "store") as store:
        whole = replay(store, cfg, START)
        # a chunk shorter than the 15 minutes between runs: every run its own read
        piecewise = replay(store, cfg, START, chunk_days=10 / 1440)
    assert piecewise.runs == whole.runs == len(STORY) - 1
    assert piecewise.messages["message_id"].tolist() == whole.messages["message_id"].tolist()
    assert sorted(piecewise.events["event_id"]) == sorted(whole.events["event_id"])
