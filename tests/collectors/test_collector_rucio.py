"""``rucio_rules``: the parser on recorded payloads, the view over a store, and the whole module
against a REAL Rucio server (PyPI ``rucio`` 41.5.1 on 127.0.0.1, SQLite; see ``rucio_server.py``).

The server is started once for this module (≈4–7 s; the first run on a machine also creates its
virtualenv, ≈30–45 s) and seeded with rules in every state through its REST API; the collector
reaches it through the real ``rucio-clients`` of the project's venv.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
import requests
from fault_server import FaultServer, refused_url
from rucio_server import ACCOUNT, USERNAME, RucioServer, rucio_server

from collectors.rucio_rules import STATES, RucioRulesCollector
from hfpanel.clock import utcnow
from hfpanel.collector import SourceError
from hfpanel.components.rucio_rules import RucioRulesView
from hfpanel.config import ConfigError, parse_config
from hfpanel.queries import loaders
from hfpanel.rating import rate
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rucio"
NDJSON = (FIXTURES / "rucio_rules.ndjson").read_bytes()
ALL_STATES = list(STATES)
STUCK_ID = "6c12ace8ae340454cac5b68c28f49481"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def recorded(**params) -> RucioRulesCollector:
    return RucioRulesCollector(url=(FIXTURES / "rucio_rules.ndjson").as_uri(), **params)


def config(store: Path, params: dict, name: str = "rucio_rules") -> dict:
    return {
        "site": "T2_TEST",
        "store": str(store),
        "categories": [{"name": "data_management", "title": "Data management"}],
        "modules": [
            {
                "name": name,
                "title": "Rucio rules to the site",
                "category": "data_management",
                "collector": "rucio_rules",
                "params": params,
            }
        ],
    }


def run_into_store(root: Path, params: dict, now="2026-03-10 08:00") -> Store:
    site = parse_config(config(root, params))
    with StoreWriter(root) as writer:
        Runner(site).run_once(writer, now=pd.Timestamp(now), force=True)
    loaders.clear_cache()
    return Store(root)


# -- parse: recorded payloads -------------------------------------------------------------------------
def test_parse_counts_every_state_with_zeros_and_the_rules_table():
    result = recorded().parse(fixture("rucio_account_rules_transfer_ops.ndjson"))
    states = result.tables["states"]
    assert list(states["state"]) == ALL_STATES, "all six states, always in the same order"
    assert dict(zip(states["state"], states["count"])) == {
        "OK": 2,
        "REPLICATING": 1,
        "STUCK": 0,
        "SUSPENDED": 1,
        "WAITING_APPROVAL": 0,
        "INJECT": 0,
    }
    assert {
        k: result.metrics[k] for k in ("ok", "replicating", "stuck", "suspended", "waiting_approval", "inject", "total")
    } == {"ok": 2, "replicating": 1, "stuck": 0, "suspended": 1, "waiting_approval": 0, "inject": 0, "total": 4}
    rules = result.tables["rules"]
    assert list(rules.columns) == [
        "rule_id",
        "did",
        "did_type",
        "rse_expression",
        "activity",
        "account",
        "state",
        "locks_ok",
        "locks_replicating",
        "locks_stuck",
        "error",
        "created_at",
        "updated_at",
        "stuck_at",
        "age_s",
        "bytes",
    ]
    row = rules.set_index("rule_id").loc["dc5c0eed8da0365bf89897b9405cacec"]
    assert row["did"].startswith("cms:/QCD-4Jets_HT-400to600")
    assert row["did"].endswith("#556677aa-bbcc-4dde-8eff-001122334455")
    assert (row["state"], row["locks_ok"], row["locks_stuck"]) == ("SUSPENDED", 40, 12)
    assert row["rse_expression"] == "T2_UK_London_IC"
    assert row["error"] == "Rule suspended by operator: destination in downtime"
    assert rules["created_at"].dtype == "datetime64[us]" and rules["locks_stuck"].dtype == "int64"


def test_age_is_measured_against_the_newest_update_in_the_payload_not_the_clock():
    result = recorded().parse(NDJSON)
    rules = result.tables["rules"]
    newest = rules["updated_at"].max()
    assert newest == pd.Timestamp("2026-03-10 07:58:00")
    expected = (newest - rules["created_at"]).dt.total_seconds()
    assert rules["age_s"].tolist() == expected.tolist()
    replicating = rules[rules["state"] == "REPLICATING"].set_index("rule_id")["age_s"]
    assert (replicating > 86400).sum() == result.metrics["replicating_too_long"] == 1
    assert recorded(replicating_limit="30d").parse(NDJSON).metrics["replicating_too_long"] == 0
    assert recorded(replicating_limit=3600).parse(NDJSON).metrics["replicating_too_long"] == 2
    assert recorded().parse(NDJSON).metrics == recorded().parse(NDJSON).metrics, "parse is pure"


def test_json_array_stream_and_single_rule_give_the_same_rows():
    stream, array = recorded().parse(NDJSON), recorded().parse(fixture("rucio_rules.json"))
    pd.testing.assert_frame_equal(stream.tables["rules"], array.tables["rules"])
    assert stream.metrics == array.metrics
    single = recorded().parse(fixture("rucio_rule_get.json"))  # GET /rules/<id>: one object, no bytes
    assert single.metrics["stuck"] == 1 and single.metrics["total"] == 1
    assert single.tables["rules"]["bytes"].isna().all()
    # the Python client's dicts dumped with default=str carry ISO times instead of RFC-1123
    iso = "\n".join(
        json.dumps({**json.loads(line), "created_at": "2026-03-01 08:00:00"}) for line in NDJSON.decode().splitlines()
    )
    assert (recorded().parse(iso.encode()).tables["rules"]["created_at"] == pd.Timestamp("2026-03-01 08:00")).all()


def test_metrics_message_and_default_rating():
    result = recorded().parse(NDJSON)
    assert result.metrics["problems"] == 3  # 1 STUCK + 1 SUSPENDED + 1 REPLICATING for more than 24h
    assert result.metrics["locks_stuck"] == 29 and result.metrics["locks_replicating"] == 949
    assert result.message == "1 STUCK, 1 SUSPENDED, 1 REPLICATING > 24h of 8 rules"
    rating = rate(RucioRulesCollector.default_rating, result)
    assert rating.status == 0.5 and rating.message.startswith("problems = 3 (warning above 1)")


@pytest.mark.parametrize("payload", [b"", b"\n", b"[]", b"  \n\n"])
def test_no_rules_is_an_answer_not_an_error(payload):
    result = recorded().parse(payload)
    assert result.tables["rules"].empty and list(result.tables["states"]["count"]) == [0] * 6
    assert result.metrics["total"] == 0 and result.metrics["problems"] == 0
    assert result.message == "none stuck or suspended of 0 rules"
    assert rate(RucioRulesCollector.default_rating, result).status == 1.0


def _broken(change) -> bytes:
    rules = [json.loads(line) for line in NDJSON.decode().splitlines()]
    change(rules[2])
    return "".join(json.dumps(rule) + "\n" for rule in rules).encode()


@pytest.mark.parametrize(
    "change, key, why",
    [
        (lambda r: r.pop("state"), STUCK_ID, "state missing"),
        (lambda r: r.pop("id"), "#3", "id missing"),
        (lambda r: r.update(locks_stuck_cnt="fourteen"), STUCK_ID, "locks_stuck_cnt is not a number ('fourteen')"),
        (lambda r: r.update(created_at=1772611200), STUCK_ID, "created_at is not a time (1772611200)"),
        (lambda r: r.update(stuck_at="yesterday"), STUCK_ID, "stuck_at is not a time ('yesterday')"),
        (lambda r: r.update(state="BROKEN"), STUCK_ID, f"unknown rule state 'BROKEN' (known: {', '.join(STATES)})"),
        (lambda r: r.update(state=3), STUCK_ID, f"unknown rule state '3' (known: {', '.join(STATES)})"),
    ],
)
def test_one_malformed_rule_is_that_rule_missing_and_the_rest_counted(change, key, why):
    """It used to blank the module: one odd rule of a list cost the count of every other rule."""
    result = recorded().parse(_broken(change))
    assert [(m.what, m.key, m.reason) for m in result.missing] == [("rule", key, why)]
    assert result.expected == {"rule": 8} and result.metrics["total"] == 7 and result.metrics["stuck"] == 0
    rating = rate(RucioRulesCollector.default_rating, result)
    assert rating.message.startswith(f"1 of 8 rules missing: {key} ({why}); problems = 2") and rating.status == 0.5


@pytest.mark.parametrize(
    "payload, reason",
    [
        (
            fixture("rucio_error_rule_not_found.json"),
            "Rucio answered RuleNotFound: No replication rule found for rule_id 0123456789abcdef0123456789abcdef",
        ),
        (
            b'{"ExceptionClass": "CannotAuthenticate", "ExceptionMessage": "Cannot authenticate with given credentials"}',
            "Rucio answered CannotAuthenticate: Cannot authenticate with given credentials",
        ),
        (b'[{"id": "x", "state": "BROKEN"}]', "rule x: scope missing (not a Rucio rule list?)"),
        (
            b'["6c12ace8ae340454cac5b68c28f49481"]',
            "the rule list holds str '6c12ace8ae340454cac5b68c28f49481', not rule",
        ),
        (b'{"id": "x", "state": "OK"}', "rule x: scope missing"),
        (NDJSON[:-40], "malformed JSON (a line of the x-json-stream is broken or cut short)"),
        (b'[{"id": "x",', "malformed JSON (line 1 is broken or cut short)"),
        (
            b"<html><head><title>CERN Single Sign-On</title></head></html>",
            "got an HTML page (<title>CERN Single Sign-On",
        ),
        (b"\xff\xfe garbage", "rule list is not UTF-8 text"),
    ],
)
def test_malformed_payloads_name_what_is_wrong(payload, reason):
    with pytest.raises(SourceError) as caught:
        recorded().parse(payload)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_config_errors_are_reported_by_config_check(tmp_path):
    bad = [
        ({"url": "file:///x", "rucio_host": "http://h"}, "give exactly one of rucio_host"),
        ({}, "give exactly one of rucio_host"),
        ({"rucio_host": "http://h", "account": "a", "username": "u", "password_env": "P"}, "select rules by"),
        ({"rucio_host": "http://h", "account": "a", "states": ["STUCK"]}, "userpass needs username and password_env"),
        (
            {"rucio_host": "http://h", "account": "a", "auth_type": "oidc", "states": ["STUCK"]},
            "oidc needs token_file or token_env",
        ),
        ({"url": "file:///x", "states": ["STUCKED"]}, "states: unknown ['STUCKED']"),
        ({"url": "file:///x", "replicating_limit": "a day"}, "not a duration"),
        ({"url": "file:///x", "password": "secret"}, "key 'params.password': unknown parameter"),
        ({"url": "file:///x", "auth_type": "kerberos"}, "auth_type"),
    ]
    for params, reason in bad:
        with pytest.raises(ConfigError) as caught:
            parse_config(config(tmp_path, params))
        assert reason in str(caught.value), (params, str(caught.value))
    good = parse_config(
        config(
            tmp_path,
            {
                "rucio_host": "https://cms-rucio.cern.ch",
                "account": "hfpanel",
                "auth_type": "x509_proxy",
                "proxy": "$X509_USER_PROXY",
                "rse_expression": "T2_DE_DESY",
                "replicating_limit": "12h",
            },
        )
    )
    assert good.modules[0].make_collector().limit == 12 * 3600


# -- url mode: recorded payloads over file:// and HTTP --------------------------------------------------
def test_url_mode_reads_files_and_the_x_json_stream_with_a_token(monkeypatch):
    assert recorded().fetch() == NDJSON
    token = "eyJ-" + secrets.token_hex(8)
    monkeypatch.setenv("RUCIO_TEST_TOKEN", token)
    with FaultServer() as srv:
        srv.route("/rules/", body=NDJSON, content_type="application/x-json-stream")
        srv.route(
            "/expired/",
            status=401,
            content_type="application/json",
            body=b'{"ExceptionClass": "CannotAuthenticate", "ExceptionMessage": "Cannot authenticate"}',
        )
        collector = RucioRulesCollector(url=srv.url("/rules/"), token_env="RUCIO_TEST_TOKEN", timeout=5)
        assert collector.parse(collector.fetch()).metrics["total"] == 8
        assert srv.requests("/rules/")[0].headers["x-rucio-auth-token"] == token  # Rucio's own header
        assert srv.requests("/rules/")[0].headers["authorization"] == f"Bearer {token}"  # and the WLCG one
        expired = RucioRulesCollector(url=srv.url("/expired/"), token_env="RUCIO_TEST_TOKEN", timeout=5)
        with pytest.raises(SourceError, match=r"HTTP 401 .* \(token expired or rejected\?\)") as caught:
            expired.fetch()
        assert token not in str(caught.value)


def test_view_over_a_store_built_by_the_runner_in_url_mode(tmp_path):
    html = json.loads((FIXTURES / "rucio_rules.json").read_text())
    html[2]["error"] = "<script>alert(1)</script> DESTINATION [17]"
    (tmp_path / "rules.json").write_text(json.dumps(html))
    store = run_into_store(tmp_path / "store", {"url": (tmp_path / "rules.json").as_uri()})
    status = store.status_at().set_index("module").loc["rucio_rules"]
    assert (status["level"], status["status"]) == ("warning", 0.5)
    assert status["message"] == "problems = 3 (warning above 1); 1 STUCK, 1 SUSPENDED, 1 REPLICATING > 24h of 8 rules"

    view = RucioRulesView(store=store, module="rucio_rules")
    assert view.counts == {"OK": 2, "REPLICATING": 2, "STUCK": 1, "SUSPENDED": 1, "WAITING_APPROVAL": 1, "INJECT": 1}
    assert [b.label for b in view.buttons.values()] == [
        "OK  2",
        "REPLICATING  2",
        "STUCK  1",
        "SUSPENDED  1",
        "WAITING_APPROVAL  1",
        "INJECT  1",
        "ALL  8",
    ]
    assert list(view.data["rule_id"]) == ["6c12ace8ae340454cac5b68c28f49481"], "STUCK is shown first"
    view.buttons["REPLICATING"].clicks += 1
    assert view.state == "REPLICATING" and set(view.data["state"]) == {"REPLICATING"} and len(view.data) == 2
    view.buttons[None].clicks += 1
    assert len(view.data) == 8
    view.state = "STUCK"
    table = view._table
    assert table.value["error"].iloc[0].startswith("<script>"), "the cell holds the text as it came"
    assert table.formatters["error"] == {"type": "plaintext"} and table.formatters["did"] == {"type": "plaintext"}
    head = view._head.object
    assert "<script>" not in head and "1 STUCK rule listed" in head
    assert "#c5221f" in view.buttons["STUCK"].stylesheets[0] and "#188038" in view.buttons["OK"].stylesheets[0]
    assert "#f9ab00" in view.buttons["REPLICATING"].stylesheets[0]
    assert "#1a73e8" in view.buttons["INJECT"].stylesheets[0]


def test_view_before_the_first_run_and_without_a_store(tmp_path):
    store = run_into_store(tmp_path / "store", {"url": (tmp_path / "missing.json").as_uri()})
    view = RucioRulesView(store=store, module="rucio_rules")
    assert view.data.empty and set(view.counts.values()) == {0}
    assert "no rules stored" in view._head.object
    assert RucioRulesView().data.empty


# -- a real Rucio server ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from rucio_server(tmp_path_factory)


@pytest.fixture
def password(server, monkeypatch):
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_PASSWORD", server.password)
    return server.password


def live(server, **selection) -> RucioRulesCollector:
    params = {
        "rucio_host": server.url,
        "account": ACCOUNT,
        "username": USERNAME,
        "password_env": "HFPANEL_TEST_RUCIO_PASSWORD",
        "timeout": 10,
        **selection,
    }
    return RucioRulesCollector(**params)


def ids(result, state=None) -> set:
    rules = result.tables["rules"]
    return set(rules["rule_id"] if state is None else rules[rules["state"] == state]["rule_id"])


def seeded(server, **match) -> set:
    return {r["id"] for r in server.seeded.values() if all(r[k] == v for k, v in match.items())}


def test_server_every_state_counted_exactly_as_seeded(server, password):
    collector = live(server, states=ALL_STATES)
    payload = collector.fetch()
    result = collector.parse(payload)
    counts = dict(zip(result.tables["states"]["state"], result.tables["states"]["count"]))
    assert (
        counts
        == server.counts
        == {"OK": 2, "REPLICATING": 2, "STUCK": 2, "SUSPENDED": 1, "WAITING_APPROVAL": 1, "INJECT": 1}
    )
    assert {s: result.metrics[s.lower()] for s in STATES} == server.counts
    assert ids(result) == seeded(server)
    assert result.metrics["replicating_too_long"] == 1, "the REPLICATING rule created three days ago"
    assert result.metrics["problems"] == 2 + 1 + 1
    first = json.loads(payload.splitlines()[0])
    assert first["created_at"].endswith(" UTC") and len(first) == 34, "archived as the wire sends it"


def test_server_rules_table_has_did_activity_account_locks_and_error(server, password):
    rules = live(server, states=ALL_STATES).parse(live(server, states=ALL_STATES).fetch()).tables["rules"]
    rows = rules.set_index("rule_id")
    for key, rule in server.seeded.items():
        row = rows.loc[rule["id"]]
        assert (row["did"], row["activity"], row["account"], row["rse_expression"], row["state"]) == (
            rule["did"],
            rule["activity"],
            rule["account"],
            rule["rse_expression"],
            rule["state"],
        ), key
        if "locks_stuck_cnt" in rule:  # set in the DB like a judge would: one file done, two stuck
            assert (row["locks_ok"], row["locks_replicating"], row["locks_stuck"]) == (1, 0, 2)
            assert row["error"] == rule["error"]
    stuck = rows.loc[server.seeded["stuck_desy"]["id"]]
    assert stuck["error"].startswith("DESTINATION [13] Permission denied") and not pd.isna(stuck["stuck_at"])
    ok = rows.loc[server.seeded["ok_block"]["id"]]
    assert (ok["locks_ok"], ok["locks_replicating"], ok["did_type"], ok["bytes"]) == (3, 0, "DATASET", 3_000_000)
    replicating = rows.loc[server.seeded["replicating"]["id"]]
    assert (replicating["locks_ok"], replicating["locks_replicating"]) == (0, 3)
    assert rows.loc[server.seeded["ok_container"]["id"], "did_type"] == "CONTAINER"


@pytest.mark.parametrize(
    "selection, match",
    [
        ({"rules_account": "transfer_ops"}, {"account": "transfer_ops"}),  # list_account_rules
        ({"rules_account": "wma_prod", "states": ["STUCK"]}, {"account": "wma_prod", "state": "STUCK"}),
        ({"rse_expression": "T2_DE_DESY"}, {"rse_expression": "T2_DE_DESY"}),
        ({"activity": "Production Output"}, {"activity": "Production Output"}),
        ({"states": ["STUCK", "SUSPENDED"]}, {}),
        ({"states": ["waiting_approval"]}, {"state": "WAITING_APPROVAL"}),
        (
            {"rse_expression": "T2_US_Nebraska", "activity": "Data rebalancing"},
            {"rse_expression": "T2_US_Nebraska", "activity": "Data rebalancing"},
        ),
        ({"rules_account": "nobody"}, {"account": "nobody"}),
    ],
)
def test_server_filters(server, password, selection, match):
    result = live(server, **selection).parse(live(server, **selection).fetch())
    expected = seeded(server, **match)
    if selection.get("states") == ["STUCK", "SUSPENDED"]:
        expected = seeded(server, state="STUCK") | seeded(server, state="SUSPENDED")
    assert ids(result) == expected
    assert result.metrics["total"] == len(expected)


def test_server_wrong_password_is_no_information_and_never_logged(server, password, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    live(server, states=["STUCK"]).fetch()  # a good login logs its requests too
    wrong = "wrong-" + secrets.token_hex(8)
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_PASSWORD", wrong)
    with pytest.raises(SourceError) as caught:
        live(server, states=["STUCK"]).fetch()
    reason = str(caught.value)
    assert reason == (
        f"authentication to {server.url} failed for account {ACCOUNT} (token expired or wrong credentials?)"
    )
    assert caplog.records, "the client's own log lines were captured"
    for secret in (server.password, wrong):
        assert secret not in caplog.text and secret not in reason


def test_server_wrong_password_through_the_runner(server, password, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_PASSWORD", "not-" + server.password)
    store = run_into_store(
        tmp_path / "store",
        {
            "rucio_host": server.url,
            "account": ACCOUNT,
            "username": USERNAME,
            "password_env": "HFPANEL_TEST_RUCIO_PASSWORD",
            "states": ["STUCK"],
        },
    )
    row = store.status_at().set_index("module").loc["rucio_rules"]
    assert row["level"] == "noinfo" and "authentication to" in row["error"] and "wrong credentials" in row["error"]
    assert server.password not in caplog.text


def test_server_bearer_token_oidc(server, password, tmp_path, monkeypatch):
    answer = requests.get(
        f"{server.url}/auth/userpass",
        timeout=10,
        proxies={"http": None},
        headers={"X-Rucio-Account": ACCOUNT, "X-Rucio-Username": USERNAME, "X-Rucio-Password": server.password},
    )
    token = answer.headers["X-Rucio-Auth-Token"]
    (tmp_path / "token").write_text(token + "\n")
    monkeypatch.setenv("BEARER_TOKEN", "a-stale-token-from-the-environment")  # the configured one wins
    collector = RucioRulesCollector(
        rucio_host=server.url,
        account=ACCOUNT,
        auth_type="oidc",
        token_file=str(tmp_path / "token"),
        states=["STUCK"],
        timeout=10,
    )
    assert ids(collector.parse(collector.fetch())) == seeded(server, state="STUCK")
    monkeypatch.setenv("EXPIRED_TOKEN", "dashboard-expired-" + secrets.token_hex(16))
    expired = RucioRulesCollector(
        rucio_host=server.url,
        account=ACCOUNT,
        auth_type="oidc",
        token_env="EXPIRED_TOKEN",
        states=["STUCK"],
        timeout=10,
    )
    with pytest.raises(SourceError, match="token expired or wrong credentials"):
        expired.fetch()


def test_server_down_is_connection_refused(monkeypatch):
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_PASSWORD", "not-needed")
    collector = RucioRulesCollector(
        rucio_host=refused_url().rstrip("/"),
        account=ACCOUNT,
        username=USERNAME,
        password_env="HFPANEL_TEST_RUCIO_PASSWORD",
        states=["STUCK"],
        timeout=5,
    )
    with pytest.raises(SourceError, match=r"^connection refused \(127\.0\.0\.1:\d+\)$"):
        collector.fetch()


def test_stopped_rucio_server_is_one_line_of_hfpanels_log_and_no_information(tmp_path):
    """rucio-clients logs an ERROR per retry (three long lines a run while Rucio is down: cron
    mails them every time): a stopped server is one WARNING line of hfpanel's log, the module shows
    no information with the reason, and the client's own account is still there at -vv."""
    with RucioServer(tmp_path / "rucio") as stopped:  # a server of its own, seeded, then stopped
        url, password = stopped.url, stopped.password
    site = tmp_path / "site.yaml"
    site.write_text(
        json.dumps(
            config(
                tmp_path / "store",
                {
                    "rucio_host": url,
                    "account": ACCOUNT,
                    "username": USERNAME,
                    "password_env": "HFPANEL_TEST_RUCIO_PASSWORD",
                    "states": ["STUCK"],
                    "timeout": 5,
                },
            )
        )
    )
    env = {**os.environ, "HFPANEL_TEST_RUCIO_PASSWORD": password, "TMPDIR": str(tmp_path)}

    def collect(*verbosity):
        return subprocess.run(
            [sys.executable, "-m", "hfpanel.cli", *verbosity, "collect", "--config", str(site), "--force", "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    result = collect()
    assert result.returncode == 0 and result.stdout == "", result.stderr
    reason = f"connection refused (127.0.0.1:{urlsplit(url).port})"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(
        f" WARNING collectors.rucio_rules: Rucio rules from {url}: {reason}; the module has no information"
    )
    with Store(tmp_path / "store") as store:
        row = store.status_at().set_index("module").loc["rucio_rules"]
    assert (row["level"], row["error"]) == ("noinfo", reason)
    detail = collect("-vv").stderr
    assert "DEBUG collectors.rucio_rules.client: ConnectionError: " in detail and "Traceback" not in detail
    assert password not in detail


def test_slow_rucio_is_a_timeout_and_a_bare_5xx_a_rucio_error(monkeypatch):
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_PASSWORD", "not-needed")
    with FaultServer() as srv:
        srv.route("/auth/userpass", body=b"", delay=3.0)
        slow = RucioRulesCollector(
            rucio_host=srv.url("/").rstrip("/"),
            account=ACCOUNT,
            username=USERNAME,
            password_env="HFPANEL_TEST_RUCIO_PASSWORD",
            states=["STUCK"],
            timeout=1,
        )
        with pytest.raises(SourceError, match=r"^timed out after 1s \(http://127\.0\.0\.1:\d+\)$"):
            slow.fetch()
        assert slow.deadline() == 2.0, "the login and the listing share the one budget (+1 s for parsing)"
        srv.route("/auth/userpass", status=200, headers={"X-Rucio-Auth-Token": "t0ken"})
        srv.route("/rules/", status=500, body=b"Internal Server Error", content_type="text/plain")
        with pytest.raises(SourceError, match=r"^Rucio error RucioException: .*500"):
            slow.fetch()


def test_server_no_token_file_is_left_behind(server, password):
    from rucio.client.baseclient import BaseClient

    cache = Path(BaseClient.TOKEN_PATH_PREFIX + getpass.getuser()) / f"auth_token_for_account_{ACCOUNT}"
    cache.unlink(missing_ok=True)
    live(server, states=["OK"]).fetch()
    assert not cache.exists(), "the token stays in the collector's memory: no identity reuses another's"


def test_server_whole_module_through_the_runner_and_the_view(server, password, tmp_path):
    store = run_into_store(
        tmp_path / "store",
        {
            "rucio_host": server.url,
            "account": ACCOUNT,
            "username": USERNAME,
            "password_env": "HFPANEL_TEST_RUCIO_PASSWORD",
            "states": ALL_STATES,
        },
        now=utcnow(),
    )  # a live server: its rules age to now, not to the recorded payloads' time
    row = store.status_at().set_index("module").loc["rucio_rules"]
    assert (row["level"], row["status"]) == ("warning", 0.5), row["error"]
    assert row["message"] == "problems = 4 (warning above 1); 2 STUCK, 1 SUSPENDED, 1 REPLICATING > 24h of 9 rules"
    metrics = store.sql("SELECT metric, value FROM metrics WHERE module = 'rucio_rules'")
    assert dict(zip(metrics["metric"], metrics["value"]))["stuck"] == 2

    view = RucioRulesView(store=store, module="rucio_rules", state="OK")
    assert view.counts == server.counts
    view.buttons["STUCK"].clicks += 1  # what a click in the browser does
    assert view.state == "STUCK"
    assert set(view.data["rule_id"]) == seeded(server, state="STUCK")
    assert set(view.data["error"]) == {server.seeded["stuck_desy"]["error"], server.seeded["stuck_nebraska"]["error"]}
    assert "<script>" not in view._head.object and view._table.formatters["error"] == {"type": "plaintext"}
    view.buttons["SUSPENDED"].clicks += 1
    assert list(view.data["rule_id"]) == [server.seeded["suspended"]["id"]]


def test_server_fixture_timings(server):
    """Not a check of Rucio: a record of what the fixture cost (printed with -s)."""
    print(f"\nrucio server fixture: {json.dumps({k: round(v, 2) for k, v in server.timings.items()})}")
    assert server.timings["total"] - server.timings["venv"] < 60
    assert os.path.exists(server.work / "rucio.db")


def test_rules_waiting_for_approval_or_injection_for_days_are_problems_with_configurable_ages():
    """They used to count as no problem however old. The fixture's WAITING_APPROVAL rule was created
    58 min and its INJECT rule 0 min before the newest update (the payload's "now")."""
    fine = recorded().parse(NDJSON)
    assert (fine.metrics["waiting_approval_too_long"], fine.metrics["inject_too_long"]) == (0, 0)
    old = _waiting(days=9)
    result = recorded().parse(old)
    assert (result.metrics["waiting_approval_too_long"], result.metrics["inject_too_long"]) == (1, 1)
    assert result.metrics["problems"] == 5
    assert result.message == (
        "1 STUCK, 1 SUSPENDED, 1 REPLICATING > 24h, 1 WAITING_APPROVAL > 7d, 1 INJECT > 6h of 8 rules"
    )
    patient = recorded(waiting_approval_limit="14d", inject_limit=None).parse(old)
    assert (patient.metrics["waiting_approval_too_long"], patient.metrics["inject_too_long"]) == (0, 0)
    with pytest.raises(ValueError, match="inject_limit: "):
        recorded(inject_limit="soon")


def _waiting(days: int) -> bytes:
    """The fixture with its WAITING_APPROVAL and INJECT rules created ``days`` earlier."""
    rules = [json.loads(line) for line in NDJSON.decode().splitlines()]
    for rule in rules:
        if rule["state"] in ("WAITING_APPROVAL", "INJECT"):
            created = pd.Timestamp(rule["created_at"].removesuffix(" UTC")) - pd.Timedelta(days=days)
            rule["created_at"] = created.strftime("%a, %d %b %Y %H:%M:%S UTC")
    return "".join(json.dumps(rule) + "\n" for rule in rules).encode()
