"""The events page's components in-process: the log (filters, links to the time-travel view of each
run, source text escaped), the timeline, the incident board (who acknowledged and why, what was not
delivered), the URL."""

from event_sites import EventSite, notifying

from hfpanel.components.events import EventLog, EventsPage, IncidentBoard, time_travel
from hfpanel.store import Store

HOSTILE = "<img src=x onerror=alert(1)>"


def _site(tmp_path):
    site = EventSite(
        tmp_path / "store",
        {"ce": "availability", "pool": "storage"},
        notifications=notifying(hook_url="http://127.0.0.1:9/x"),
    )
    site.run({})
    site.run({"ce": {"health": 0.1, "note": HOSTILE}})
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.5}})
    return site


def test_the_log_lists_filters_and_links_each_event_to_its_run(tmp_path):
    _site(tmp_path)
    with Store(tmp_path / "store") as store:
        log = EventLog(store=store)
        assert log.data["subject"].tolist() == ["category/storage", "module/pool", "category/availability", "module/ce"]
        html = log._log.object
        assert time_travel(log.data["time"].iloc[-1], "ce") == "./?time=2026-11-20T00:15:00&module=ce"
        assert "./?time=2026-11-20T00:15:00&amp;module=ce" in html
        assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        assert log._summary.object.startswith("<b>4 events</b> from 2026-11-19 00:30 to 2026-11-20 00:30 UTC")
        assert log._timeline.object is not None
        log.param.update(module="ce")
        assert log.data["subject"].tolist() == ["module/ce"]
        log.param.update(module="", kind="category_level_changed")
        assert log.data["kind"].unique().tolist() == ["category_level_changed"]
        log.kind = "flapping_started"
        assert log.data.empty and "No events match." in log._log.object


def test_the_log_in_the_url(tmp_path):
    _site(tmp_path)
    with Store(tmp_path / "store") as store:
        log = EventLog(store=store)
        log.apply_url_params({"window": "6h", "module": "ce", "kind": "level_changed"})
        assert (log.window, log.module, log.kind) == ("6h", "ce", "level_changed")
        assert log.url_params() == {"window": "6h", "module": "ce", "kind": "level_changed"}
        assert len(log.data) == 1


def test_the_incident_board_says_who_acknowledged_and_why(tmp_path):
    from hfpanel.cli import main

    site = _site(tmp_path)
    incident = site.table("incidents")["incident_id"].iloc[0]
    assert (
        main(["ack", incident, "--store", str(tmp_path / "store"), "--author", "dana", "--comment", f"on it {HOSTILE}"])
        == 0
    )
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.5}})
    with Store(tmp_path / "store") as store:
        board = IncidentBoard(store=store)
        html = board._html.object
        assert "<h3>Acknowledged (1)</h3>" in html
        assert "acknowledged by <b>dana</b>: on it &lt;img" in html
        assert HOSTILE not in html
        assert "<h3>Not delivered (" in html  # the webhook at port 9 refuses: shown with its reason
        assert "webhook http://127.0.0.1:9/x: Connection refused" in html
        page = EventsPage(store=store)
        assert page.board.data["incident_id"].tolist() == [incident]


def test_a_store_without_events_says_so(tmp_path):
    from store_factory import build_store

    info = build_store(tmp_path / "plain", scenario=[{"sam_ce": {"health": 1.0}}])
    with Store(info.root) as store:
        log = EventLog(store=store)
        assert log.data.empty and "No events match." in log._log.object
        board = IncidentBoard(store=store)
        assert "<h3>Open (0)</h3>" in board._html.object


def _click(button):
    button.clicks += 1


def test_acknowledge_and_silence_from_the_page(tmp_path):
    site = _site(tmp_path)
    incident = site.table("incidents")["incident_id"].iloc[0]
    with Store(tmp_path / "store") as store:
        page = EventsPage(store=store)
        actions = page.actions
        assert list(actions.incident.options.values()) == [incident]
        _click(actions.ack_button)  # nobody said who they are: nothing written
        assert actions.status == "not done: say who you are (the author is shown with the acknowledgement)"
        assert "not done" in actions._status.object
        actions.author.value, actions.comment.value = "dana", f"restarting the CE {HOSTILE}"
        _click(actions.ack_button)
        assert actions.status == f"acknowledged {incident} by dana (the next run applies it)"
        html = page.board._html.object
        assert "<h3>Acknowledged (1)</h3>" in html and "acknowledged by <b>dana</b>: restarting the CE &lt;img" in html
        assert "applied at the next run" in html and HOSTILE not in html
        # a silence: a mistake is named, then one that works, then ended
        actions.matchers.value, actions.silence_comment.value = "level=red", "intervention"
        _click(actions.silence_button)
        assert (
            actions.status
            == "not done: Silence what matches.level: unknown level red (known: ok, warning, critical, noinfo, downtime)"
        )
        actions.matchers.value = "module=pool category=storage"
        _click(actions.silence_button)
        assert actions.status.startswith('silenced {"category": ["storage"], "module": ["pool"]} until ')
        assert "<b>Silences in force</b>" in page.board._html.object
        assert "dana: intervention" in page.board._html.object
        (silence,) = actions.silence.options.values()
        _click(actions.expire_button)
        assert actions.status == f"ended {silence}"
        assert actions.silence.options == {} and "Silences in force" not in page.board._html.object
    # the next run applies the acknowledgement: stored in the incident, as `hfpanel ack` would have
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.5}})
    latest = site.table("incidents").sort_values("version").iloc[-1]
    assert (latest["acked_by"], latest["ack_comment"]) == ("dana", f"restarting the CE {HOSTILE}")
    acks = site.table("acks")
    assert acks[["author", "action"]].values.tolist() == [["dana", "ack"]]


def test_the_page_replays_the_rules_in_force_and_proposed_ones(tmp_path):
    import yaml

    from hfpanel.config import load_config

    site = _site(tmp_path)
    site.run({})  # the ce and pool problems end
    notifications = site.notifications
    raw = {
        "site": "T2_TEST",
        "store": str(tmp_path / "store"),
        "categories": [{"name": "availability"}, {"name": "storage"}],
        "modules": [
            {"name": n, "category": c, "collector": "fake", "interval": "15m", "max_age": "1h"}
            for n, c in {"ce": "availability", "pool": "storage"}.items()
        ],
        "notifications": notifications,
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(raw))
    cfg = load_config(tmp_path / "site.yaml")
    queued, attempts = len(site.table("outbox")), len(site.table("deliveries"))
    with Store(tmp_path / "store") as store:
        page = EventsPage(store=store, config=cfg)
        view = page.replay
        _click(view.button)
        # the rules in force: ce's outage (critical only) opened and resolved
        assert view.data[["kind", "subject"]].values.tolist() == [
            ["firing", "T2_TEST CRITICAL category=availability: ce"],
            ["resolved", "T2_TEST RESOLVED category=availability after 30m: ce"],
        ]
        assert "<b>2 messages</b> would have been sent with the rules in force" in view._result.object
        assert len(site.table("outbox")) == queued and len(site.table("deliveries")) == attempts  # nothing sent
        # proposed: warnings too, grouped by site; and a mistake is named, not a traceback
        view.rules = yaml.safe_dump(
            {"rules": [dict(notifications["rules"][0], match={"level": ["critical", "warning"]}, group_by=["site"])]}
        )
        _click(view.button)
        assert view.data["kind"].tolist() == ["firing", "update", "resolved"], view._result.object
        assert "with the proposed rules" in view._result.object
        view.rules = "rules: [{name: x, receivers: [nobody]}]"
        _click(view.button)
        assert view.data.empty
        assert "Not replayed." in view._result.object and "no receiver &#x27;nobody&#x27;" in view._result.object
