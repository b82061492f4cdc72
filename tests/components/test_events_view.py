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
