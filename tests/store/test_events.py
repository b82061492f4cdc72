"""Events derived after each run and committed with it: level changes, stale and silent sources,
detail rows appearing and vanishing, metric jumps, the transfer feed; ``hfpanel events``."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from event_sites import START, EventSite, config, view

from hfpanel.cli import main
from hfpanel.config import ConfigError, parse_config
from hfpanel.events import model
from hfpanel.events.derive import Deriver, is_jump, robust_baseline
from hfpanel.store import Store

MODULES = {"ce": "availability", "srm": "availability", "pool": "storage"}


def test_level_changes_of_modules_and_categories(tmp_path):
    site = EventSite(tmp_path / "store", MODULES)
    site.run({})
    site.run({"ce": {"health": 0.1, "note": "3 of 4 CEs fail"}})
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.5}})
    site.run({"pool": {"health": 0.5}})
    got = site.events()[["time", "kind", "subject", "before", "after"]].values.tolist()
    t = [START + pd.Timedelta(minutes=15 * i) for i in range(4)]
    assert got == [
        [t[1], "category_level_changed", "category/availability", "ok", "critical"],
        [t[1], "level_changed", "module/ce", "ok", "critical"],
        [t[2], "category_level_changed", "category/storage", "ok", "warning"],
        [t[2], "level_changed", "module/pool", "ok", "warning"],
        [t[3], "category_level_changed", "category/availability", "critical", "ok"],
        [t[3], "level_changed", "module/ce", "critical", "ok"],
    ]
    ce = site.events(kind="level_changed", module="ce").iloc[0]
    assert ce["text"] == "ce: ok → critical — health = 0.1 (critical below 0.3); 3 of 4 CEs fail"
    assert (ce["site"], ce["category"], ce["level"]) == ("T2_TEST", "availability", "critical")


def test_events_are_committed_with_their_run_and_nothing_else(tmp_path):
    site = EventSite(tmp_path / "store", MODULES)
    generations = []
    for spec in ({}, {"ce": {"health": 0.1}}, {}):
        site.run(spec)
        generations.append(json.loads((tmp_path / "store" / "_manifest.json").read_text())["generation"])
    assert generations == [1, 2, 3]  # one commit per run: the events are in it
    with Store(tmp_path / "store") as store:
        orphans = store.sql("SELECT count(*) AS n FROM events e ANTI JOIN runs r USING (run_id)")["n"].iloc[0]
        assert orphans == 0
        assert store.sql("SELECT count(DISTINCT run_id) AS n FROM events")["n"].iloc[0] == 2


KILLER = """
import os, signal, sys
sys.path.insert(0, {support!r})
from hfpanel.store import manifest
from event_sites import EventSite
write, calls = manifest.write, [0]
def killing_write(root, data):
    calls[0] += 1
    if calls[0] == 3:  # the third run's files are written, its manifest is not: die here
        os.kill(os.getpid(), signal.SIGKILL)
    return write(root, data)
manifest.write = killing_write
site = EventSite({root!r}, {modules!r})
for spec in ({{}}, {{"ce": {{"health": 0.5}}}}, {{"ce": {{"health": 0.1}}}}):
    site.run(spec)
"""


def test_a_writer_killed_mid_commit_leaves_no_run_without_its_events(tmp_path):
    root = tmp_path / "store"
    support = os.path.join(os.path.dirname(__file__), "..", "support")
    code = KILLER.format(support=os.path.abspath(support), root=str(root), modules=MODULES)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    with Store(root) as store:
        assert len(store.runs()) == 2
        assert store.sql("SELECT kind, subject, after FROM events ORDER BY kind").values.tolist() == [
            ["category_level_changed", "category/availability", "warning"],
            ["level_changed", "module/ce", "warning"],
        ]
    # a new process carries on from the store: the third run is derived against the second
    site = EventSite(root, MODULES, start=START + pd.Timedelta(minutes=30))
    site.run({"ce": {"health": 0.1}}, fresh_runner=True)
    last = site.events(kind="level_changed").iloc[-1]
    assert (last["before"], last["after"]) == ("warning", "critical")


def test_stale_fresh_and_a_new_process_remembers(tmp_path):
    site = EventSite(tmp_path / "store", {"ce": "availability"})
    site.run({})
    for _ in range(5):  # failing for 75 minutes: max_age 1h passes in the fifth failing run
        site.run({"ce": {"fail": "connection refused"}}, fresh_runner=True)
    site.run({}, fresh_runner=True)
    got = site.events()[["kind", "after"]].values.tolist()
    assert got == [
        ["category_level_changed", "noinfo"],
        ["level_changed", "noinfo"],
        ["stale", ""],
        ["category_level_changed", "ok"],
        ["fresh", ""],
        ["level_changed", "ok"],
    ]
    stale = site.events(kind="stale").iloc[0]
    assert stale["time"] == START + pd.Timedelta(minutes=75)


def test_a_module_first_seen_broken_is_an_event_a_healthy_one_is_not(tmp_path):
    site = EventSite(tmp_path / "store", {"ce": "availability", "srm": "availability"})
    site.run({"ce": {"health": 0.1}})
    assert site.events(kind="level_changed")[["subject", "before", "after"]].values.tolist() == [
        ["module/ce", "", "critical"]
    ]
    assert site.events(kind="level_changed")["text"].iloc[0].startswith("ce: new → critical")


def test_rows_appearing_and_vanishing_by_configured_keys(tmp_path):
    notifications = {"events": {"rows": {"pool": {"rows": ["host"]}}, "max_row_events": 3}}
    site = EventSite(tmp_path / "store", MODULES, notifications=notifications)

    def rows(*hosts):
        return {"pool": {"rows": [{"host": h, "free": 1} for h in hosts]}}

    site.run(rows("p1", "p2"))  # first sight: nothing appeared, it was just seen
    site.run(rows("p1", "p3"))
    site.run({"pool": {"fail": "timeout"}})  # no answer is not "every row vanished"
    site.run(rows("p1", "p3", "a", "b", "c", "d"))
    site.run(rows())  # an empty answer is an answer: all gone
    got = site.events(subject="row/")[["kind", "subject", "text"]].values.tolist()
    assert got == [
        ["row_appeared", "row/pool/rows/host=p3", "pool rows: host=p3 appeared"],
        ["row_vanished", "row/pool/rows/host=p2", "pool rows: host=p2 vanished"],
        ["row_appeared", "row/pool/rows/*", "pool rows: 4 rows appeared (host=a, host=b, host=c, …)"],
        ["row_vanished", "row/pool/rows/*", "pool rows: 6 rows vanished (host=a, host=b, host=c, …)"],
    ]
    first = site.events(kind="row_appeared").iloc[0]
    assert json.loads(first["labels"]) == {"key": "host=p3", "table": "rows"}


def test_collectors_declare_their_keyed_tables():
    from hfpanel.collector import collector_class

    assert collector_class("dcache_pools").event_keys == {"pools": ["pool"]}
    assert collector_class("htcondor_jobs").event_keys == {"hold_reasons": ["hold_code"]}
    assert collector_class("gocdb_downtimes").event_keys == {"downtimes": ["id", "hostname"]}
    assert collector_class("sam").event_keys == {"services": ["host", "flavour"]}


def test_metric_jump_once_then_quiet_until_back(tmp_path):
    cfg = config(
        tmp_path, {"jobs": "compute"}, notifications={"events": {"metric_jumps": {"window": 10, "min_runs": 5}}}
    )
    deriver = Deriver(cfg)
    values = [10, 11, 10, 12, 10, 11, 500, 520, 510, 11, 10, 480]
    kinds = []
    for i, value in enumerate(values):
        events = deriver.derive(
            view(START + pd.Timedelta(minutes=15 * i), {"jobs": "ok"}, metrics={("jobs", "held"): value})
        )
        kinds.append([(e.kind, e.before, e.after) for e in events])
    assert kinds[6] == [("metric_jump", "10.5", "500")]
    assert kinds[7:9] == [[], []]  # still off its baseline: one event, not one per run
    assert kinds[9:11] == [[], []]  # back: re-armed silently
    # 3 of the last 10 runs were that high: the baseline's spread now admits it (a new normal)
    assert kinds[11] == []
    assert all(k == [] for i, k in enumerate(kinds) if i != 6)


def test_metric_jump_is_robust_and_respects_minimums():
    from hfpanel.events.config import MetricJumps

    jumps = MetricJumps(z=6, min_change=0.5, min_delta=0)
    median, spread = robust_baseline([100, 101, 99, 100, 102, 98, 100, 5000])  # one outlier barely moves it
    assert median == 100.0 and spread < 3
    assert is_jump(200, median, spread, jumps)
    assert not is_jump(120, median, spread, jumps)  # 20 % is below min_change
    assert not is_jump(200, median, spread, MetricJumps(min_delta=500))
    assert is_jump(1, 0.0, 0.0, jumps)  # a count that is always 0 becoming 1 is a jump


def test_metric_jumps_only_for_selected_metrics(tmp_path):
    cfg = config(
        tmp_path,
        {"jobs": "compute"},
        notifications={"events": {"metric_jumps": {"window": 4, "min_runs": 3, "metrics": ["jobs:held"]}}},
    )
    deriver = Deriver(cfg)
    found = []
    for i, value in enumerate([1, 1, 1, 1, 90]):
        metrics = {("jobs", "held"): value, ("jobs", "idle"): value}
        found += deriver.derive(view(START + pd.Timedelta(minutes=15 * i), {"jobs": "ok"}, metrics=metrics))
    assert [e.subject for e in found] == ["metric/jobs/held"]


def test_silent_source_gap_and_reporting_again(tmp_path):
    cfg = config(tmp_path, {"a": "x", "b": "x"})
    deriver = Deriver(cfg)
    deriver.derive(view(START, {"a": "ok", "b": "ok"}))
    quiet = []
    for i in range(1, 7):  # b stops reporting; interval 15m + max_age 1h = silent after 75 minutes
        quiet.append([e.kind for e in deriver.derive(view(START + pd.Timedelta(minutes=15 * i), {"a": "ok"}))])
    assert quiet == [[], [], [], [], [], ["silent"]]
    back = deriver.derive(view(START + pd.Timedelta(minutes=105), {"a": "ok", "b": "ok"}))
    assert [(e.kind, e.subject) for e in back] == [("reporting", "module/b")]
    gap = deriver.derive(view(START + pd.Timedelta(hours=5), {"a": "ok", "b": "ok"}))
    assert [e.kind for e in gap] == ["collection_gap"]
    assert gap[0].text == "no collection run for 3h 15m (from 2026-11-20 01:45 UTC): was the collector stopped?"


def test_transfer_feed_silence_and_backlog(tmp_path):
    feed = {"name": "feed", "category": "x", "collector": "ingest_health", "params": {"store": str(tmp_path)}}
    cfg = config(
        tmp_path,
        {"a": "x"},
        extra_modules=[feed],
        notifications={"events": {"feed": {"backlog_limit": 1000, "silence": "30m"}}},
    )
    deriver = Deriver(cfg)
    runs = [(10, 60), (5000, 60), (5000, 2400), (10, float("nan")), (10, 30)]
    got = []
    for i, (backlog, silence) in enumerate(runs):
        metrics = {("feed", "backlog"): backlog, ("feed", "silence_s"): silence}
        got.append(
            [
                e.kind
                for e in deriver.derive(view(START + pd.Timedelta(minutes=15 * i), {"feed": "ok"}, metrics=metrics))
            ]
        )
    assert got == [[], ["backlog_high"], ["feed_silent"], ["backlog_normal"], ["feed_resumed"]]


def test_silent_and_jump_state_survive_a_restart(tmp_path):
    site = EventSite(
        tmp_path / "store",
        {"a": "x", "b": "x"},
        notifications={"events": {"metric_jumps": {"window": 4, "min_runs": 3, "min_delta": 0}}},
    )
    for _ in range(4):
        site.run({"a": {"health": 0.9}, "b": {"health": 0.9}})
    site.run({"a": {"health": 0.0001}, "b": {"health": 0.9}}, fresh_runner=True)
    site.run({"a": {"health": 0.0001}, "b": {"health": 0.9}}, fresh_runner=True)  # still off: no second jump
    jumps = site.events(kind="metric_jump")
    assert jumps["subject"].tolist() == ["metric/a/health"]


def test_a_failing_derivation_costs_the_events_never_the_run(tmp_path, monkeypatch, caplog):
    site = EventSite(tmp_path / "store", MODULES)
    site.run({})

    def broken(self, run):
        raise RuntimeError("bug")

    monkeypatch.setattr(Deriver, "derive", broken)
    summary = site.run({"ce": {"health": 0.1}})
    assert summary.committed
    with Store(tmp_path / "store") as store:
        assert len(store.runs()) == 2
    assert "events of run" in caplog.text and "RuntimeError: bug" in caplog.text
    monkeypatch.undo()
    site.run({"ce": {"health": 0.5}})  # the next run re-reads the store and carries on
    assert site.events(kind="level_changed")[["before", "after"]].values.tolist() == [["critical", "warning"]]


def test_notifications_section_is_validated_precisely(tmp_path):
    raw = {
        "site": "X",
        "store": str(tmp_path),
        "categories": [{"name": "c"}],
        "modules": [{"name": "m", "category": "c", "collector": "fake"}],
        "notifications": {
            "event": {},
            "events": {
                "rows": {"nope": {"rows": ["host"]}, "m": {"rows": "host", "other": [1]}},
                "metric_jumps": {"z": -1, "window": 3, "min_runs": 5, "colour": "red"},
                "feed": {"silence": "soon"},
            },
            "flapping": {"high": 20, "low": 40, "window": 2},
        },
    }
    with pytest.raises(ConfigError) as error:
        parse_config(raw, source="site.yaml")
    assert error.value.problems == [
        "site.yaml: section 'notifications': key 'event': unknown key (known: base_url, delivery, downtime_grace_runs, events, flapping, inhibit, receivers, rules)",
        "site.yaml: section 'notifications': key 'events.rows.nope': no module 'nope' (modules: m)",
        "site.yaml: section 'notifications': key 'events.rows.m.other': must be a list of column names",
        "site.yaml: section 'notifications': key 'events.metric_jumps.colour': unknown key "
        "(known: exclude, metrics, min_change, min_delta, min_runs, window, z)",
        "site.yaml: section 'notifications': key 'events.metric_jumps.z': must be a number >= 0, got -1",
        "site.yaml: section 'notifications': key 'events.metric_jumps.min_runs': must not exceed window",
        "site.yaml: section 'notifications': key 'events.feed.silence': not a duration: 'soon' (use e.g. 30s, 15m, 2h, 1d)",
        "site.yaml: section 'notifications': key 'flapping.window': must be a whole number >= 3, got 2",
        "site.yaml: section 'notifications': key 'flapping': need 0 <= low (40) <= high (20) <= 100",
    ]


def test_cli_lists_and_filters_events(tmp_path, capsys):
    site = EventSite(tmp_path / "store", MODULES)
    site.run({})
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.5}})
    capsys.readouterr()
    assert main(["events", "--store", str(tmp_path / "store"), "--module", "ce"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["time", "kind", "level", "subject", "text"]
    assert "2026-11-20 00:15 level_changed critical module/ce" in " ".join(out[1].split())
    assert out[-1] == "(1 row)"
    assert (
        main(["events", "--store", str(tmp_path / "store"), "--kind", "category_level_changed", "--format", "csv"]) == 0
    )
    csv = capsys.readouterr().out.splitlines()
    assert csv[0] == ",".join(model.COLUMNS) and len(csv) == 3
    assert main(["events", "--store", str(tmp_path / "store"), "--until", "2026-11-20T00:10"]) == 0
    assert capsys.readouterr().out.startswith("no events since 2026-11-19 00:10")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--kind", "exploded"], "hfpanel events: error: --kind: unknown kind exploded (kinds: level_changed,"),
        (["--since", "yesterday"], "hfpanel events: error: --since/--until: not a time: 'yesterday'"),
        (["--last", "a while"], "hfpanel events: error: --last: not a duration: 'a while'"),
    ],
)
def test_cli_mistakes_are_one_line(tmp_path, capsys, argv, message):
    site = EventSite(tmp_path / "store", MODULES)
    site.run({})
    assert main(["events", "--store", str(tmp_path / "store"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_without_a_store(tmp_path, capsys):
    assert main(["events", "--store", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("hfpanel events: error: no store at")


def test_percent_state_change_is_nagios_weighted():
    from hfpanel.events.flapping import percent_state_change

    assert percent_state_change(["ok"] * 21) == 0.0
    assert percent_state_change(["ok", "critical"] * 10 + ["ok"]) == pytest.approx(100.0)
    # one change: newest weighs 1.2, oldest 0.8 (of 20 transitions)
    assert percent_state_change(["ok"] * 20 + ["critical"]) == pytest.approx(100 * 1.2 / 20)
    assert percent_state_change(["critical"] + ["ok"] * 20) == pytest.approx(100 * 0.8 / 20)


def test_flapping_started_once_quiet_then_stopped(tmp_path):
    cfg = config(tmp_path, {"ce": "x"}, notifications={"flapping": {"high": 30, "low": 25}})
    deriver = Deriver(cfg)
    levels = ["ok"] * 3 + ["critical", "ok"] * 6 + ["critical"] * 25
    timeline = []
    for i, level in enumerate(levels):
        events = deriver.derive(view(START + pd.Timedelta(minutes=15 * i), {"ce": level}))
        timeline += [(i, e.kind, e.after) for e in events]
    from hfpanel.events.flapping import percent_state_change

    percents = [percent_state_change(levels[max(0, i - 20) : i + 1]) for i in range(len(levels))]
    start = next(i for i, p in enumerate(percents) if p > 30)
    stop = next(i for i, p in enumerate(percents) if i > start and p < 25)
    assert (start, stop) == (8, 30)  # the 6th change passes 30 %; 25 % is left once old changes age out
    changes = [i for i in range(1, start) if levels[i] != levels[i - 1]]
    assert timeline == [
        *[(i, "level_changed", levels[i]) for i in changes],
        (start, "flapping_started", levels[start]),  # then quiet through every change
        (stop, "flapping_stopped", "critical"),
    ]
    assert deriver.state.small()["flapping"] == []


def test_flapping_survives_a_restart(tmp_path):
    site = EventSite(tmp_path / "store", {"ce": "x"})
    for i in range(12):
        site.run({"ce": {"health": 0.1 if i % 2 else 0.9}}, fresh_runner=i > 8)
    kinds = site.events(module="ce")["kind"].tolist()
    assert kinds.count("flapping_started") == 1 and "flapping_stopped" not in kinds
    before = len(kinds)
    site.run({"ce": {"health": 0.9}}, fresh_runner=True)  # still flapping after a restart: quiet
    assert len(site.events(module="ce")) == before


def test_flapping_can_be_switched_off(tmp_path):
    cfg = config(tmp_path, {"ce": "x"}, notifications={"flapping": False})
    deriver = Deriver(cfg)
    kinds = []
    for i in range(12):
        kinds += [
            e.kind
            for e in deriver.derive(view(START + pd.Timedelta(minutes=15 * i), {"ce": "ok" if i % 2 else "critical"}))
        ]
    assert kinds == ["level_changed"] * 12
