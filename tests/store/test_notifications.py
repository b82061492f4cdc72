"""Rules, incidents and delivery against real receivers: an SMTP server (aiosmtpd) and a webhook
receiver on 127.0.0.1. Counts, grouping, resolved messages with durations, pending and keep-firing,
reminders, acknowledgements, silences, retries, and a collector killed between commit and send."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from event_sites import START, EventSite, config, notifying, view
from notify_servers import SmtpSink, WebhookSink, free_port

from hfpanel.cli import main
from hfpanel.config import ConfigError, parse_config
from hfpanel.events.derive import Deriver
from hfpanel.events.incidents import Notifier

THIRTY = {f"wn{i:02d}": "compute" for i in range(30)} | {"ce": "availability"}


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def hook():
    with WebhookSink() as sink:
        yield sink


def critical(names, health=0.1):
    return {name: {"health": health, "note": f"{name} down"} for name in names}


def test_thirty_modules_critical_in_one_run_are_one_message_then_one_resolved(tmp_path, smtp, hook):
    site = EventSite(tmp_path / "store", THIRTY, notifications=notifying(smtp.port, hook.url))
    workers = [n for n in THIRTY if n.startswith("wn")]
    site.run({})
    site.run(critical(workers))
    site.run(critical(workers))
    site.run({})
    assert smtp.subjects() == [
        "[hfpanel] T2_TEST CRITICAL category=compute: 30 alerts: wn00, wn01, wn02 and 27 more",
        "[hfpanel] T2_TEST RESOLVED category=compute after 30m: wn00, wn01, wn02 and 27 more",
    ]
    firing = smtp.messages[0]
    text = firing.get_body(("plain",)).get_content()
    assert text.count("* CRITICAL ") == 30
    assert "wn17: health = 0.1 (critical below 0.3); wn17 down" in text
    assert "View: https://hfpanel.example.org/?time=2026-11-20T00%3A15%3A00&module=wn17" in text
    assert "hfpanel ack inc-" in text
    assert "<b>CRITICAL</b>" in firing.get_body(("html",)).get_content()
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    assert len(hook.bodies[0]["alerts"]) == 30
    incidents = site.table("incidents")
    last = incidents.iloc[-1]
    assert (last["status"], last["alerts"], last["messages"]) == ("resolved", 0, 2)
    assert (last["resolved"] - last["opened"]) == pd.Timedelta(minutes=30)


def test_the_webhook_body_is_alertmanager_v4(tmp_path, hook):
    site = EventSite(tmp_path / "store", {"ce": "availability"}, notifications=notifying(hook_url=hook.url))
    site.run({})
    site.run(critical(["ce"]))
    site.run({})
    firing, resolved = hook.bodies
    assert {"version", "status", "receiver", "groupLabels", "commonLabels", "alerts", "externalURL"} <= set(firing)
    assert (firing["version"], firing["status"], firing["receiver"]) == ("4", "firing", "hook")
    assert firing["groupLabels"] == {"alertname": "critical", "site": "T2_TEST", "category": "availability"}
    alert = firing["alerts"][0]
    assert alert["labels"] == {
        "alertname": "critical",
        "site": "T2_TEST",
        "category": "availability",
        "module": "ce",
        "collector": "fake",
        "level": "critical",
        "kind": "level_changed",
    }
    assert (alert["status"], alert["startsAt"], alert["endsAt"]) == (
        "firing",
        "2026-11-20T00:15:00Z",
        "0001-01-01T00:00:00Z",
    )
    assert alert["generatorURL"] == "https://hfpanel.example.org/?time=2026-11-20T00%3A15%3A00&module=ce"
    assert alert["annotations"]["summary"] == "health = 0.1 (critical below 0.3); ce down"
    assert firing["incidentId"].startswith("inc-") and firing["runId"].startswith("20261120T001500-")
    assert hook.headers[0]["Idempotency-Key"] == firing["idempotencyKey"]
    assert resolved["alerts"][0]["endsAt"] == "2026-11-20T00:30:00Z"
    assert resolved["incidentId"] == firing["incidentId"]
    assert resolved["idempotencyKey"] != firing["idempotencyKey"]


def test_pending_for_runs_sends_nothing_for_a_short_problem(tmp_path, hook):
    site = EventSite(
        tmp_path / "store", {"ce": "availability"}, notifications=notifying(hook_url=hook.url, **{"for": "2 runs"})
    )
    site.run({})
    site.run(critical(["ce"]))  # one run critical: pending
    site.run({})  # recovered within its pending period: nothing, not even "resolved"
    assert hook.bodies == []
    site.run(critical(["ce"]))
    site.run(critical(["ce"]))  # the second run in a row: now it fires
    assert [b["status"] for b in hook.bodies] == ["firing"]
    assert hook.bodies[0]["alerts"][0]["startsAt"] == "2026-11-20T00:45:00Z"  # since the problem began


def test_pending_for_a_duration(tmp_path, hook):
    site = EventSite(
        tmp_path / "store", {"ce": "availability"}, notifications=notifying(hook_url=hook.url, **{"for": "30m"})
    )
    for spec in ({}, critical(["ce"]), critical(["ce"])):
        site.run(spec)
    assert hook.bodies == []
    site.run(critical(["ce"]))  # 30 minutes after it began
    assert len(hook.bodies) == 1


def test_keep_firing_bridges_a_short_recovery(tmp_path, hook):
    site = EventSite(
        tmp_path / "store", {"ce": "availability"}, notifications=notifying(hook_url=hook.url, keep_firing="30m")
    )
    for spec in ({}, critical(["ce"]), {}, critical(["ce"]), {}, {}, {}):
        site.run(spec)
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    assert hook.bodies[1]["alerts"][0]["endsAt"] == "2026-11-20T01:00:00Z"  # when it really ended


def test_new_alerts_joining_an_incident_and_reminders(tmp_path, hook):
    modules = {"a": "storage", "b": "storage", "c": "compute"}
    site = EventSite(tmp_path / "store", modules, notifications=notifying(hook_url=hook.url, repeat="1h"))
    site.run({})
    site.run(critical(["a"]))
    site.run(critical(["a", "b", "c"]))  # b joins storage's incident; compute is its own incident
    for _ in range(4):
        site.run(critical(["a", "b", "c"]))
    kinds = [(b["messageKind"], b["groupLabels"]["category"], len(b["alerts"])) for b in hook.bodies]
    assert kinds == [
        ("firing", "storage", 1),
        ("update", "storage", 2),
        ("firing", "compute", 1),
        ("reminder", "storage", 2),  # an hour after the last message of storage
        ("reminder", "compute", 1),
    ]


def test_ack_stops_reminders_and_a_change_of_level_clears_it(tmp_path, hook, capsys):
    store = tmp_path / "store"
    site = EventSite(
        store,
        {"ce": "availability"},
        notifications=notifying(hook_url=hook.url, repeat="30m", match={"level": ["critical", "warning"]}),
    )
    site.run({})
    site.run(critical(["ce"]))
    incident = hook.bodies[0]["incidentId"]
    assert (
        main(["ack", incident[:8], "--store", str(store), "--author", "alice", "--comment", "CE restarted, watching"])
        == 0
    )
    assert capsys.readouterr().out.startswith(f"acknowledged {incident} (ce) by alice")
    for _ in range(3):
        site.run(critical(["ce"]))  # acknowledged: no reminder
    assert [b["messageKind"] for b in hook.bodies] == ["firing"]
    state = site.table("incidents").iloc[-1]
    assert (state["acked_by"], state["ack_comment"]) == ("alice", "CE restarted, watching")
    site.run(critical(["ce"], health=0.5))  # warning now: a change of level clears a plain ack
    site.run(critical(["ce"], health=0.5))
    assert [b["messageKind"] for b in hook.bodies] == ["firing", "reminder"]
    assert site.table("incidents").iloc[-1]["acked_by"] == ""
    site.run({})
    assert [b["messageKind"] for b in hook.bodies][-1] == "resolved"


def test_a_sticky_ack_survives_changes_and_the_resolved_message_is_still_sent(tmp_path, hook):
    store = tmp_path / "store"
    site = EventSite(
        store,
        {"ce": "availability"},
        notifications=notifying(hook_url=hook.url, repeat="15m", match={"level": ["critical", "warning"]}),
    )
    site.run({})
    site.run(critical(["ce"]))
    assert (
        main(
            [
                "ack",
                hook.bodies[0]["incidentId"],
                "--store",
                str(store),
                "--author",
                "bob",
                "--comment",
                "known",
                "--sticky",
            ]
        )
        == 0
    )
    site.run(critical(["ce"], health=0.5))
    site.run(critical(["ce"]))
    site.run({})
    assert [b["messageKind"] for b in hook.bodies] == ["firing", "resolved"]


def test_silence_holds_back_everything_but_resolved(tmp_path, hook, capsys):
    store = tmp_path / "store"
    site = EventSite(
        store, {"ce": "availability", "se": "storage"}, notifications=notifying(hook_url=hook.url, repeat="15m")
    )
    site.run({})
    site.run(critical(["ce"]))  # announced before the silence
    args = ["silence", "add", "--store", str(store), "--author", "carol", "--comment", "maintenance"]
    assert main([*args, "--match", "module=ce", "--start", "2026-11-20T00:20", "--for", "3h"]) == 0
    assert main([*args, "--match", "category=storage", "--start", "2026-11-20T00:20", "--for", "3h"]) == 0
    assert capsys.readouterr().out.startswith("silenced sil-")
    site.run(critical(["ce", "se"]))  # ce: no reminder; se: silenced from the start, nothing
    site.run(critical(["ce", "se"]))
    site.run({})
    statuses = [(b["messageKind"], b["groupLabels"]["category"]) for b in hook.bodies]
    assert statuses == [("firing", "availability"), ("resolved", "availability")]
    assert main(["silence", "list", "--store", str(store), "--all"]) == 0
    listed = capsys.readouterr().out
    assert "carol" in listed and "maintenance" in listed


def test_a_receiver_that_fails_then_recovers_gets_each_message_exactly_once(tmp_path, smtp, hook):
    site = EventSite(tmp_path / "store", {"ce": "availability"}, notifications=notifying(smtp.port, hook.url))
    site.run({})
    smtp.fail_next(1)
    hook.fail_next(2, status=503)
    site.run(critical(["ce"]))  # both refuse: queued with a reason, retried with backoff
    deliveries = site.table("deliveries")
    # one attempt each, committed one after the other at the same run time: no order between them
    assert sorted(deliveries[["receiver", "ok", "error"]].values.tolist()) == [
        ["hook", False, f"webhook {hook.url}: HTTP 503"],
        ["mail", False, f"SMTP 127.0.0.1:{smtp.port}: 451 4.3.0 try again later"],
    ]
    site.run({})  # 15 minutes later (past the 1-minute backoff): mail goes, the hook fails again
    site.run({})
    assert len(smtp.messages) == 2 and [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    assert [m["Subject"].split()[2] for m in smtp.messages] == ["CRITICAL", "RESOLVED"]  # in order
    site.send(at=START + pd.Timedelta(hours=2))
    assert len(smtp.messages) == 2 and len(hook.bodies) == 2  # nothing twice
    ids = [b["idempotencyKey"] for b in hook.bodies]
    assert len(set(ids)) == 2


def test_a_receiver_that_never_answers_is_given_up_with_its_reason(tmp_path, capsys):
    port = free_port()  # nothing listens there
    site = EventSite(tmp_path / "store", {"ce": "availability"}, notifications=notifying(smtp_port=port))
    site.run({})
    for _ in range(5):
        site.run(critical(["ce"]))
    deliveries = site.table("deliveries")
    assert deliveries["attempt"].tolist() == [1, 2, 3, 4]
    assert deliveries["final"].tolist() == [False, False, False, True]
    assert deliveries["error"].iloc[-1] == f"SMTP 127.0.0.1:{port}: Connection refused"
    config_file = tmp_path / "site.yaml"
    config_file.write_text(json.dumps(_raw(tmp_path / "store", notifying(smtp_port=port))))
    assert main(["notify", "outbox", "--config", str(config_file)]) == 0
    assert "the outbox is empty" in capsys.readouterr().out  # given up is not pending; shown as failed


def _raw(store, notifications):
    return {
        "site": "T2_TEST",
        "store": str(store),
        "categories": [{"name": "availability"}],
        "modules": [{"name": "ce", "category": "availability", "collector": "fake"}],
        "notifications": notifications,
    }


KILLER = """
import os, signal, sys
sys.path.insert(0, {support!r})
import pandas as pd
from event_sites import EventSite, notifying
def killed(*args, **kwargs):  # the run is committed; sending is what dies
    os.kill(os.getpid(), signal.SIGKILL)
site = EventSite({root!r}, {{"ce": "availability"}}, notifications=notifying({port}, {url!r}))
site.run({{}})
import event_sites
event_sites.dispatch = killed
site.run({{"ce": {{"health": 0.1}}}})
"""


def test_killed_between_commit_and_send_loses_and_doubles_nothing(tmp_path, smtp, hook):
    root = tmp_path / "store"
    support = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "support"))
    code = KILLER.format(support=support, root=str(root), port=smtp.port, url=hook.url)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr
    assert smtp.messages == [] and hook.bodies == []
    site = EventSite(
        root,
        {"ce": "availability"},
        notifications=notifying(smtp.port, hook.url),
        start=START + pd.Timedelta(minutes=30),
    )
    site.send()  # the restarted collector sends what the committed run queued
    site.run({"ce": {"health": 0.1}}, fresh_runner=True)  # and carries on: no second "firing"
    site.send()
    assert len(smtp.messages) == 1 and [b["status"] for b in hook.bodies] == ["firing"]


def test_notify_test_says_what_each_receiver_did(tmp_path, smtp, hook, capsys):
    notifications = notifying(smtp.port, hook.url)
    notifications["receivers"].append({"name": "nowhere", "webhook": {"url": f"http://127.0.0.1:{free_port()}/x"}})
    config_file = tmp_path / "site.yaml"
    config_file.write_text(json.dumps(_raw(tmp_path / "store", notifications)))
    assert main(["notify", "test", "--config", str(config_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "mail (mail): delivered — accepted"
    assert out[1] == "hook (webhook): delivered — HTTP 200"
    assert out[2].startswith("nowhere (webhook): FAILED — webhook http://127.0.0.1:")
    assert smtp.messages[0]["Subject"] == "[hfpanel] T2_TEST TEST: hfpanel can reach mail"
    assert hook.bodies[0]["version"] == "4"


# -- the rules' logic, run by run (no store) ----------------------------------------------------------
def _notifier(tmp_path, modules, **rule):
    extra = rule.pop("extra", {})
    notifications = notifying(hook_url="http://127.0.0.1:9/x", **rule)
    notifications.update(extra)
    cfg = config(tmp_path, modules, notifications=notifications)
    return Deriver(cfg), Notifier(cfg)


def _step(deriver, notifier, i, levels, run_id=None):
    run = view(START + pd.Timedelta(minutes=15 * i), levels, run_id=run_id)
    events = deriver.derive(run)
    messages, _ = notifier.evaluate(run, events, deriver.state)
    return [(msg.kind, sorted(s.split("/")[-1] for s, _ in msg.alerts)) for msg in messages]


def test_downtime_sends_nothing_and_after_it_only_what_still_fails(tmp_path):
    deriver, notifier = _notifier(tmp_path, {"ce": "x", "se": "x", "wn": "x"})
    said = []
    said += _step(deriver, notifier, 0, {"ce": "ok", "se": "ok", "wn": "ok"})
    for i in range(1, 5):  # a scheduled downtime of the site: every module "downtime"
        said += _step(deriver, notifier, i, {"ce": "downtime", "se": "downtime", "wn": "downtime"})
    assert said == []
    # the downtime ends: everything still looks broken for one run (stale results), then ce and wn recover
    said += _step(deriver, notifier, 5, {"ce": "critical", "se": "critical", "wn": "critical"})
    assert said == []  # the grace run
    said += _step(deriver, notifier, 6, {"ce": "ok", "se": "critical", "wn": "ok"})
    assert said == [("firing", ["se"])]


def test_flapping_module_is_quiet(tmp_path):
    deriver, notifier = _notifier(tmp_path, {"ce": "x"})
    said = []
    for i in range(30):
        said += _step(deriver, notifier, i, {"ce": "critical" if i % 2 else "ok"})
    # the first problem is announced and resolved; once it flaps, it is frozen: no more messages
    kinds = [k for k, _ in said]
    assert kinds[:2] == ["firing", "resolved"]
    assert len(kinds) <= 6
    assert "ce" in deriver.state.flaps.flapping


def test_inhibit_a_site_outage_mutes_its_modules(tmp_path):
    rule_extra = {
        "extra": {
            "inhibit": [{"source": {"module": ["site_net"]}, "target": {}, "equal": ["site"]}],
        }
    }
    deriver, notifier = _notifier(tmp_path, {"site_net": "net", "ce": "x", "se": "x"}, group_by=["site"], **rule_extra)
    said = _step(deriver, notifier, 0, {"site_net": "ok", "ce": "ok", "se": "ok"})
    said += _step(deriver, notifier, 1, {"site_net": "critical", "ce": "ok", "se": "ok"})
    said += _step(deriver, notifier, 2, {"site_net": "critical", "ce": "critical", "se": "critical"})
    assert said == [("firing", ["site_net"])]


def test_one_shot_events_are_one_notice(tmp_path):
    cfg = config(
        tmp_path,
        {"ce": "x"},
        notifications={
            "receivers": [{"name": "hook", "webhook": {"url": "http://127.0.0.1:9/x"}}],
            "rules": [{"name": "gap", "match": {"kind": "collection_gap"}, "receivers": ["hook"]}],
        },
    )
    deriver, notifier = Deriver(cfg), Notifier(cfg)
    said = _step(deriver, notifier, 0, {"ce": "ok"})
    said += _step(deriver, notifier, 20, {"ce": "ok"})  # five hours later
    said += _step(deriver, notifier, 21, {"ce": "ok"})
    assert said == [("notice", ["T2_TEST"])]


def test_rules_and_receivers_are_validated_precisely(tmp_path):
    raw = _raw(
        tmp_path,
        {
            "base_url": "hfpanel.example.org",
            "receivers": [
                {"name": "m", "mail": {"to": [], "smtp": {"host": "x", "security": "ssl", "password_env": "P"}}},
                {"name": "w", "webhook": {"url": "ftp://x"}},
                {"name": "c", "command": {"argv": "page-me"}},
                {"name": "two", "mail": {}, "webhook": {}},
            ],
            "rules": [
                {
                    "name": "r",
                    "match": {"level": ["red"], "kind": "exploded", "colour": "x"},
                    "for": "soon",
                    "receivers": ["nobody"],
                },
                {"match": {}},
            ],
            "delivery": {"attempts": 0},
        },
    )
    with pytest.raises(ConfigError) as error:
        parse_config(raw, source="site.yaml")
    prefix = "site.yaml: section 'notifications': key "
    assert [p.removeprefix(prefix) for p in error.value.problems] == [
        "'base_url': must be an http:// or https:// URL, got 'hfpanel.example.org'",
        "'receivers[m].mail.to': must be a mail address or a list of them",
        "'receivers[m].mail.from': missing",
        "'receivers[m].mail.smtp.security': must be one of starttls, tls, none, got 'ssl'",
        "'receivers[m].mail.smtp.username': missing (a password is given)",
        "'receivers[w].webhook.url': must be an http:// or https:// URL, got 'ftp://x'",
        "'receivers[c].command.argv': must be a list: the program and its arguments (no shell)",
        "'receivers[two]': give exactly one of mail, webhook, command",
        "'rules[r].match.level': unknown level red (known: ok, warning, critical, noinfo, downtime)",
        "'rules[r].match.kind': unknown kind exploded (known: level_changed, category_level_changed, stale, silent, "
        "collection_gap, row_appeared, row_vanished, metric_jump, flapping_started, feed_silent, backlog_high)",
        "'rules[r].match.colour': unknown key (known: site, category, module, level, kind, labels)",
        "'rules[r].for': must be a number of runs (e.g. '2 runs') or a duration (e.g. 30m), got 'soon'",
        "'rules[r].receivers': no receiver 'nobody' (receivers: c, m, w)",
        "'rules[2]': each rule needs a name",
        "'delivery.attempts': must be a whole number >= 1, got 0",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["ack", "inc-nope", "--comment", "x"],
            "hfpanel ack: error: no incident 'inc-nope' (hfpanel incidents lists them)",
        ),
        (["silence", "add", "--comment", "x"], "hfpanel silence: error: give at least one --match LABEL=VALUE"),
        (["silence", "add", "--match", "module"], "hfpanel silence: error: --match: 'module' is not LABEL=VALUE"),
        (
            ["silence", "add", "--match", "level=red", "--comment", "x"],
            "hfpanel silence: error: --match.level: unknown level red",
        ),
        (
            ["silence", "add", "--match", "module=ce", "--comment", "x", "--for", "ever"],
            "hfpanel silence: error: --start/--end/--for: not a duration",
        ),
        (["silence", "expire", "sil-nope"], "hfpanel silence: error: no silence 'sil-nope'"),
    ],
)
def test_ack_and_silence_mistakes_are_one_line(tmp_path, capsys, argv, message):
    site = EventSite(
        tmp_path / "store", {"ce": "availability"}, notifications=notifying(hook_url="http://127.0.0.1:9/x")
    )
    site.run({}, send=False)
    assert main([*argv, "--store", str(tmp_path / "store")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1


def test_inhibit_by_state_a_downtime_mutes_its_consequences(tmp_path):
    rule_extra = {
        "extra": {
            "inhibit": [
                {"source": {"category": ["storage"], "level": ["downtime"]}, "target": {"category": ["compute"]}}
            ]
        }
    }
    deriver, notifier = _notifier(tmp_path, {"se": "storage", "hc": "compute", "ce": "availability"}, **rule_extra)
    said = _step(deriver, notifier, 0, {"se": "ok", "hc": "ok", "ce": "ok"})
    said += _step(deriver, notifier, 1, {"se": "downtime", "hc": "critical", "ce": "critical"})
    said += _step(deriver, notifier, 2, {"se": "downtime", "hc": "critical", "ce": "critical"})
    assert said == [("firing", ["ce"])]  # hc's failure is the SE downtime's consequence; ce's is not


def test_after_downtime_keeps_a_look_back_source_quiet_for_its_window(tmp_path):
    deriver, notifier = _notifier(tmp_path, {"hc": "compute", "ce": "availability"}, after_downtime="1h")
    said = _step(deriver, notifier, 0, {"hc": "ok", "ce": "ok"})
    for i in range(1, 4):
        said += _step(deriver, notifier, i, {"hc": "downtime", "ce": "downtime"})
    # the downtime ended at run 4: hc still judges the last hour's failed jobs for 4 runs (1h), then recovers
    for i in range(4, 8):
        said += _step(deriver, notifier, i, {"hc": "critical", "ce": "ok"})
    said += _step(deriver, notifier, 8, {"hc": "ok", "ce": "ok"})
    assert said == []
    # a failure after that window is news again
    said += _step(deriver, notifier, 9, {"hc": "critical", "ce": "ok"})
    assert said == [("firing", ["hc"])]


# -- mail over TLS with a login (a real aiosmtpd with a certificate from a throwaway CA) -------------
def _secure_mail(port: int, security: str, ca, **login) -> dict:
    notifications = notifying()
    notifications["receivers"] = [
        {
            "name": "mail",
            "mail": {
                "to": ["grid-admins@example.org"],
                "from": "hfpanel@example.org",
                "smtp": {"host": "127.0.0.1", "port": port, "security": security, "username": "hfpanel", **login}
                | ({"ca": str(ca)} if ca else {}),
            },
        }
    ]
    notifications["rules"][0]["receivers"] = ["mail"]
    return notifications


@pytest.fixture(scope="module")
def server_cert(tmp_path_factory):
    from throwaway_ca import CA

    ca = CA(tmp_path_factory.mktemp("ca"))
    key, cert = ca.issue("smtp", "127.0.0.1", server=True)
    return ca.cert_path, cert, key


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_over_tls_with_a_password_from_the_environment_or_a_file(
    tmp_path, server_cert, security, monkeypatch, caplog
):
    ca, cert, key = server_cert
    secret = "pa55-w0rd-nobody-sees"
    if security == "starttls":
        monkeypatch.setenv("HFPANEL_TEST_SMTP_PASSWORD", secret)
        login = {"password_env": "HFPANEL_TEST_SMTP_PASSWORD"}
    else:
        (tmp_path / "smtp-password").write_text(secret + "\n")
        login = {"password_file": str(tmp_path / "smtp-password")}
    caplog.set_level("DEBUG")
    with SmtpSink(tls=(security, cert, key), login=("hfpanel", secret)) as smtp:
        site = EventSite(
            tmp_path / "store", {"ce": "availability"}, notifications=_secure_mail(smtp.port, security, ca, **login)
        )
        site.run({})
        site.run(critical(["ce"]))
        assert smtp.subjects() == ["[hfpanel] T2_TEST CRITICAL category=availability: ce"]
        assert smtp.logins == ["hfpanel"]
        body = smtp.messages[0]
        assert {part.get_content_type() for part in body.walk()} >= {"text/plain", "text/html"}
    assert site.table("deliveries")["ok"].tolist() == [True]
    assert secret not in caplog.text


def test_mail_login_refused_or_certificate_untrusted_is_a_reason_never_the_password(
    tmp_path, server_cert, monkeypatch, caplog
):
    ca, cert, key = server_cert
    monkeypatch.setenv("HFPANEL_TEST_SMTP_PASSWORD", "the-wrong-one")
    caplog.set_level("DEBUG")
    with SmtpSink(tls=("starttls", cert, key), login=("hfpanel", "the-right-one")) as smtp:
        wrong = _secure_mail(smtp.port, "starttls", ca, password_env="HFPANEL_TEST_SMTP_PASSWORD")
        site = EventSite(tmp_path / "a", {"ce": "availability"}, notifications=wrong)
        site.run({})
        site.run(critical(["ce"]))
        untrusted = _secure_mail(smtp.port, "starttls", None, password_env="HFPANEL_TEST_SMTP_PASSWORD")
        other = EventSite(tmp_path / "b", {"ce": "availability"}, notifications=untrusted)
        other.run({})
        other.run(critical(["ce"]))
        assert smtp.messages == []
    assert site.table("deliveries")["error"].tolist() == [f"SMTP 127.0.0.1:{smtp.port}: login refused (535)"]
    error = other.table("deliveries")["error"].iloc[0]
    assert error.startswith(f"SMTP 127.0.0.1:{smtp.port}: ") and "CERTIFICATE_VERIFY_FAILED" in error, error
    assert "the-wrong-one" not in caplog.text and "the-right-one" not in caplog.text


def test_a_webhook_over_https_trusts_the_configured_ca_only(tmp_path, server_cert):
    ca, cert, key = server_cert
    with WebhookSink(tls=(cert, key)) as hook:
        trusting = notifying(hook_url=hook.url)
        trusting["receivers"][0]["webhook"]["ca"] = str(ca)
        site = EventSite(tmp_path / "a", {"ce": "availability"}, notifications=trusting)
        site.run({})
        site.run(critical(["ce"]))
        other = EventSite(tmp_path / "b", {"ce": "availability"}, notifications=notifying(hook_url=hook.url))
        other.run({})
        other.run(critical(["ce"]))
        assert [b["status"] for b in hook.bodies] == ["firing"]  # only the receiver that trusts the CA
    assert site.table("deliveries")["ok"].tolist() == [True]
    error = other.table("deliveries")["error"].iloc[0]
    assert error.startswith(f"webhook {hook.url}: ") and "CERTIFICATE_VERIFY_FAILED" in error, error


def test_two_silences_set_in_the_same_instant_are_both_kept(tmp_path):
    """Two shifters (or a script) silencing at the same microsecond get two silences, not one."""
    from hfpanel.acks import add_silence
    from hfpanel.queries.events import silences
    from hfpanel.store import Store, StoreWriter

    now, end = pd.Timestamp("2026-11-20 00:00"), pd.Timestamp("2026-11-20 03:00")
    with StoreWriter(tmp_path / "store") as writer:
        for who, module in (("carol", "ce"), ("dave", "se")):
            add_silence(writer, {"module": [module]}, who, "maintenance", now, end, now=now)
    with Store(tmp_path / "store") as store:
        kept = silences(store, at=now)
    assert sorted(kept["author"]) == ["carol", "dave"]
