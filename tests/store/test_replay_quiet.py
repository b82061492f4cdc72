"""The replay skips the module rows that repeat their previous run (``Quiet``): on a history with
flapping, a downtime, a module going silent, stale data, a gap in collection, a ``for`` period,
repeats, keep_firing, a silence and acknowledgements, it must derive the same events and send the
same messages as handing the deriver every row of every run — whole, in short chunks, and from a
start in the middle of the story."""

import json

import pandas as pd
import pytest
from event_sites import START, config

from hfpanel.events import tables
from hfpanel.events.replay import replay
from hfpanel.store import Store, StoreWriter

MODULES = {
    "ce": "availability",
    "srm": "availability",
    "flap": "storage",
    "se": "storage",
    "pool": "storage",
    "gone": "other",
    "old": "other",
    "late": "other",
}
RUNS = 300
GAP = range(210, 226)  # no collection run at all: a gap
RULES = {
    "base_url": "https://hfpanel.example.org",
    "receivers": [{"name": "hook", "webhook": {"url": "http://127.0.0.1:9/x"}}],
    "rules": [
        {
            "name": "critical",
            "match": {"level": ["critical"]},
            "for": "2 runs",
            "keep_firing": "30m",
            "repeat": "1h",
            "receivers": ["hook"],
        },
        {"name": "noinfo", "match": {"level": ["noinfo"]}, "for": "30m", "receivers": ["hook"]},
        {"name": "stale", "match": {"kind": ["stale"]}, "receivers": ["hook"]},
        {"name": "silent", "match": {"kind": ["silent"]}, "receivers": ["hook"]},
        {"name": "flapping", "match": {"kind": ["flapping_started"]}, "receivers": ["hook"]},
        {"name": "gap", "match": {"kind": ["collection_gap"]}, "receivers": ["hook"]},
    ],
    "downtime_grace_runs": 1,
}


def _row(module: str, i: int):
    """(level, stale, message) of ``module`` in run ``i``, or None when it has no row."""
    if module == "ce":  # a long outage: fires after 2 runs, reminders every hour, its message changes
        return ("critical", False, "timeout" if i < 40 else "refused") if 20 <= i < 60 else ("ok", False, "")
    if module == "srm":  # a one-run blip: pending, ends, nothing sent
        return ("critical" if i == 30 else "ok", False, "")
    if module == "flap":  # flapping, then steady critical, then ok
        if 80 <= i < 110:
            return ("critical" if i % 2 else "ok", False, "")
        return ("critical" if 110 <= i < 130 else "ok", False, "")
    if module == "se":  # a scheduled downtime, failing at its end (grace run), then ok
        if 140 <= i < 170:
            return ("downtime", False, "")
        return ("critical" if 170 <= i < 176 else "ok", False, "")
    if module == "pool":  # critical with a one-run recovery that keep_firing holds; silenced a while
        return ("critical" if 180 <= i < 200 and i != 190 else "ok", False, "full")
    if module == "gone":  # no result for 4 hours: silent, then reporting again
        return None if 60 <= i < 76 else ("noinfo" if 240 <= i < 250 else "ok", False, "")
    if module == "old":  # its data goes stale for a while
        return ("ok", 100 <= i < 120, "")
    if module == "late":  # a module added later
        return None if i < 50 else ("warning" if 260 <= i < 263 else "ok", False, "")
    raise AssertionError(module)


def _when(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(minutes=15 * i)


def _write_history(root) -> None:
    status, cats, runs = [], [], []
    for i in range(RUNS):
        if i in GAP:
            continue
        run_id, when = f"{_when(i):%Y%m%dT%H%M%S}-test", _when(i)
        worst = {}
        for module, category in MODULES.items():
            row = _row(module, i)
            if row is None:
                continue
            level, stale, message = row
            # the collector's labels: the list of full pools grows while the level stays (as its alert fires)
            labels = json.dumps({"pools": "p1" if i < 181 else "p1,p2"}) if module == "pool" else None
            status.append((run_id, when, module, category, level, 1.0, stale, message, labels))
            if level == "critical" or category not in worst:
                worst[category] = level if level == "critical" else worst.get(category, "ok")
        cats += [(run_id, when, c, lvl) for c, lvl in worst.items()]
        runs.append((run_id, when, when, "T2_TEST"))
    with StoreWriter(root) as writer:
        writer.write(
            {
                "module_status": pd.DataFrame(
                    status,
                    columns=["run_id", "time", "module", "category", "level", "status", "stale", "message", "labels"],
                ),
                "category_status": pd.DataFrame(cats, columns=["run_id", "time", "category", "level"]),
                "runs": pd.DataFrame(runs, columns=["run_id", "time", "start", "site"]),
            }
        )


def _ack_and_silence(root, first) -> None:
    """An acknowledgement of the ce outage (its message changes, its level does not: it stays), an
    expiring sticky one of the flapping incident, and a silence of the pool from before it fails."""
    firing = first.messages[first.messages["kind"] == "firing"].drop_duplicates("incident_id")
    by_rule = {rule: rows.iloc[0] for rule, rows in firing.groupby("rule")}
    ce, flap = by_rule["critical"], by_rule["flapping"]
    acks = pd.DataFrame(
        [
            ("ack-1", ce["incident_id"], ce["time"] + pd.Timedelta("40m"), "ack", "alice", "on it", pd.NaT, False),
            (
                "ack-2",
                flap["incident_id"],
                flap["time"] + pd.Timedelta("15m"),
                "ack",
                "bob",
                "known",
                flap["time"] + pd.Timedelta("2h"),
                True,
            ),
        ],
        columns=["ack_id", "incident_id", "time", "action", "author", "comment", "expires", "sticky"],
    )
    silences = pd.DataFrame(
        [
            (
                "sil-1",
                1,
                _when(150),
                "create",
                "carol",
                "pool being drained",
                _when(175),
                _when(195),
                json.dumps({"module": ["pool"]}),
            )
        ],
        columns=["silence_id", "version", "time", "action", "author", "comment", "start", "end", "matchers"],
    )
    with StoreWriter(root) as writer:
        writer.write({tables.ACKS: tables.typed(acks), tables.SILENCES: tables.typed(silences)})


def _state(result) -> dict:
    """What the deriver and notifier remember after the last run (the notifier's as committed)."""
    state = dict(vars(result.deriver.state))
    flaps = state.pop("flaps")
    state["flap_history"] = {k: list(v) for k, v in flaps.history.items()}
    state["flapping"] = flaps.flapping
    return {"derive": state, "notify": result.notifier.snapshot()}


def _same(fast, plain) -> None:
    assert fast.runs == plain.runs
    assert _state(fast) == _state(plain)
    events = [r.events.sort_values("event_id").reset_index(drop=True) for r in (fast, plain)]
    pd.testing.assert_frame_equal(*events)
    messages = [r.messages.sort_values(["message_id", "receiver"]).reset_index(drop=True) for r in (fast, plain)]
    pd.testing.assert_frame_equal(*messages)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("quiet") / "store"
    _write_history(root)
    cfg = config(root, MODULES, notifications=RULES)
    with Store(root) as store:
        first = replay(store, cfg, START - pd.Timedelta("1min"), skip_quiet=False)
    _ack_and_silence(root, first)
    return root, cfg


def test_the_story_has_what_the_quiet_path_must_get_right(story):
    root, cfg = story
    with Store(root) as store:
        plain = replay(store, cfg, START - pd.Timedelta("1min"), skip_quiet=False)
    kinds = set(plain.events["kind"])
    for kind in (
        "flapping_started",
        "flapping_stopped",
        "silent",
        "reporting",
        "stale",
        "fresh",
        "collection_gap",
        "level_changed",
    ):
        assert kind in kinds, kind
    sent = plain.messages
    assert {"firing", "reminder", "resolved", "notice"} <= set(sent["kind"])
    # the silence holds the pool's firing back until it ends; the ack stops the ce outage's reminders
    firing = sent[sent["kind"] == "firing"]
    assert firing[firing["subject"].str.endswith(": pool")]["time"].tolist() == [_when(195)]
    ce = sent[sent["subject"].str.endswith(": ce")]
    assert ce["kind"].tolist() == ["firing", "resolved"]
    assert (sent["kind"] == "reminder").sum() == 3  # the flapping module's, se's and the pool's


@pytest.mark.parametrize("chunk_days", [30, 0.4, 10 / 1440], ids=["whole", "chunks", "run-by-run"])
def test_skipping_quiet_rows_changes_nothing(story, chunk_days):
    root, cfg = story
    with Store(root) as store:
        plain = replay(store, cfg, START - pd.Timedelta("1min"), skip_quiet=False)
        fast = replay(store, cfg, START - pd.Timedelta("1min"), chunk_days=chunk_days)
    _same(fast, plain)
    assert len(fast.messages) >= 10


@pytest.mark.parametrize("since", [95, 145, 185])
def test_skipping_quiet_rows_from_the_middle_of_the_story(story, since):
    """The deriver's state read back (flap histories seeded) mid-flapping, mid-downtime, mid-outage."""
    root, cfg = story
    with Store(root) as store:
        plain = replay(store, cfg, _when(since), skip_quiet=False)
        fast = replay(store, cfg, _when(since), chunk_days=0.3)
    _same(fast, plain)


@pytest.mark.parametrize("until", [55, 125, 198])
def test_skipping_quiet_rows_leaves_the_same_state_mid_incident(story, until):
    """Stopped while alerts fire (acknowledged, reminding, silenced): the same alerts, counts and
    incidents as the plain path's — what a collector would carry on from."""
    root, cfg = story
    with Store(root) as store:
        plain = replay(store, cfg, START - pd.Timedelta("1min"), _when(until), skip_quiet=False)
        fast = replay(store, cfg, START - pd.Timedelta("1min"), _when(until), chunk_days=0.3)
    assert plain.notifier.alerts
    _same(fast, plain)
