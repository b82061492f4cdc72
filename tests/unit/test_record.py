"""``hfpanel record``: a module's answer saved as a fixture against a real local server, every secret
stripped from every file written, and ``hfpanel.testing`` checking the fixture as a site's CI would."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from fault_server import FaultServer, refused_url

from hfpanel.cli import main
from hfpanel.record import strip_secrets
from hfpanel.testing import check_fixture, load_fixture

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"
API_KEY = "k3y-0f-the-squid-admin"
QUERY_SECRET = "qs3cr3t-in-the-url"
RUCIO_TOKEN = "dashboard-monitor-7f3a9c1e2b"
RULES = (Path(__file__).parents[1] / "fixtures" / "rucio" / "rucio_rules.ndjson").read_text()


def squid_doc(echo: bool) -> bytes:
    """Three squids; a misconfigured server that also echoes the request's credentials back."""
    doc = {
        "squids": [
            {"host": "squid1.example.org", "state": "UP", "hit_ratio": 0.93},
            {"host": "squid2.example.org", "state": "DOWN", "hit_ratio": 0.0},
            {"host": "squid3.example.org", "state": "UP", "hit_ratio": 0.88},
        ],
        "next": f"https://squid.example.org/status?page=2&access_token={QUERY_SECRET}",
    }
    if echo:
        doc["debug"] = {"authorization": f"Bearer {TOKEN}", "x-api-key": API_KEY}
    return json.dumps(doc).encode()


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("HFPANEL_TEST_RUCIO_TOKEN", RUCIO_TOKEN)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "token").write_text(TOKEN + "\n")
    proxy = secrets / "x509up_u4242"
    proxy.write_text("-----BEGIN CERTIFICATE-----\n")
    with FaultServer() as srv:
        srv.route("/squid/status", squid_doc(echo=True), content_type="application/json")
        first, rest = RULES.split("\n", 1)  # a rule whose error text quotes the token the server was sent
        echoed = json.dumps({**json.loads(first), "error": f"token {RUCIO_TOKEN} has no permission"})
        srv.route("/rucio/rules/", f"{echoed}\n{rest}", content_type="application/x-json-stream")
        module = {
            "name": "squids",
            "category": "network",
            "collector": "http_json",
            "timeout": "5s",
            "params": {
                "url": srv.url(f"/squid/status?site=T2_XX&access_token={QUERY_SECRET}"),
                "rows": "squids",
                "metrics": {"down": {"count_where": {"state": "DOWN"}}},
                "bearer_token_file": str(secrets / "token"),
                "cert": str(proxy),
                "headers": {"X-Api-Key": API_KEY, "X-Site": "T2_XX"},
            },
            "rating": {
                "type": "weakest_link",
                "table": "rows",
                "column": "state",
                "label": "host",
                "map": {"UP": 1.0, "DOWN": 0.0},
            },
        }
        config = {
            "site": "T2_XX_Record",
            "store": str(tmp_path / "store"),
            "categories": [{"name": "network"}],
            "http": {"user_agent": "hfpanel-record-test"},
            "modules": [
                module,
                {**module, "name": "refused", "params": {"url": refused_url("/x"), "retries": 0}},
                {
                    "name": "rules",
                    "category": "network",
                    "collector": "rucio_rules",
                    "params": {"url": srv.url("/rucio/rules/"), "token_env": "HFPANEL_TEST_RUCIO_TOKEN"},
                },
            ],
        }
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(config))
        yield path, srv, secrets


def test_record_writes_payload_and_sidecar_without_a_secret(site, tmp_path, capsys):
    path, srv, secrets = site
    out = tmp_path / "fixtures"
    started = time.time()
    assert main(["record", "--config", str(path), "--module", "squids", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"recorded squids: {out / 'squids.json'}") and "hidden: bearer_token_file, cert" in said
    sent = srv.requests("/squid/status")[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}", "the real request carried the credentials"
    written = sorted(out.iterdir())
    assert [p.name for p in written] == ["squids.json", "squids.meta.json"]
    for file in written:
        text = file.read_text()
        for secret in (TOKEN, API_KEY, QUERY_SECRET, str(secrets)):
            assert secret not in text, (file.name, secret)
    meta = json.loads((out / "squids.meta.json").read_text())
    assert meta["collector"] == "http_json" and meta["module"] == "squids" and meta["payload"] == "squids.json"
    assert meta["params"]["bearer_token_file"] == meta["params"]["cert"] == "***"
    assert meta["params"]["headers"] == {"X-Api-Key": "***", "X-Site": "T2_XX"}
    assert meta["params"]["user_agent"] == "hfpanel-record-test", "the site's http: settings are part of it"
    assert "access_token=***" in meta["params"]["url"] and "site=T2_XX" in meta["params"]["url"]
    assert started - 1 <= meta["run_time"] <= time.time() + 1
    assert meta["rating"]["type"] == "weakest_link"
    doc = json.loads((out / "squids.json").read_text())
    assert doc["squids"][1] == {"host": "squid2.example.org", "state": "DOWN", "hit_ratio": 0.0}, "data kept"
    assert doc["debug"] == {"authorization": "***", "x-api-key": "***"}


def test_a_token_from_the_environment_is_cut_from_the_payload(site, tmp_path):
    path, srv, _ = site
    out = tmp_path / "fixtures"
    assert main(["record", "--config", str(path), "--module", "rules", "--out", str(out)]) == 0
    assert srv.requests("/rucio/rules/")[0].headers["x-rucio-auth-token"] == RUCIO_TOKEN
    assert [p.name for p in sorted(out.iterdir())] == ["rules.meta.json", "rules.ndjson"]
    for file in out.iterdir():
        assert RUCIO_TOKEN not in file.read_text(), file.name
    assert json.loads((out / "rules.meta.json").read_text())["params"]["token_env"] == "***"
    checked = check_fixture(out / "rules.ndjson", expect_metrics={"total": 8, "stuck": 1})
    assert "token *** has no permission" in checked.result.tables["rules"]["error"].tolist()


def test_the_recorded_fixture_checks_with_hfpanel_testing(site, tmp_path):
    path, _, _ = site
    out = tmp_path / "fixtures"
    assert main(["record", "--config", str(path), "--module", "squids", "--out", str(out)]) == 0
    checked = check_fixture(
        out / "squids.json",
        expect_level="critical",
        expect_metrics={"down": 1, "rows": 3},
        expect_tables={"rows": {"rows": 3, "columns": ["host", "state"]}},
        expect_message="squid2.example.org",
    )
    assert checked.rating.status == 0.0
    with pytest.raises(AssertionError) as info:
        check_fixture(
            out / "squids.meta.json",
            expect_level="ok",
            expect_metrics={"down": 0, "gone": 1},
            expect_tables={"rows": 2},
        )
    text = str(info.value)
    assert "level critical (status 0: " in text and "expected ok" in text
    assert "metric 'down' = 1.0, expected 0" in text and "no metric 'gone'" in text
    assert "table 'rows' has 3 rows, expected 2" in text
    assert (
        load_fixture(out / "squids.json").collector().run_time
        == json.loads((out / "squids.meta.json").read_text())["run_time"]
    ), "parsed as of the time it was recorded"


def test_a_failing_source_records_nothing_and_says_why(site, tmp_path, capsys):
    path, _, _ = site
    out = tmp_path / "fixtures"
    assert main(["record", "--config", str(path), "--module", "refused", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "hfpanel record: module refused: the source failed, nothing recorded: connection refused (127.0.0.1:"
    )
    assert not out.exists()
    assert main(["record", "--config", str(path), "--module", "nope", "--out", str(out)]) == 2
    assert "no module 'nope'" in capsys.readouterr().err


def test_strip_secrets_keeps_ordinary_text():
    payload = b'{"note": "Bearer tokens are explained at https://example.org/doc?page=2", "n": 1}'
    assert strip_secrets(payload, []) == payload
    assert strip_secrets(b"Authorization: Basic dXNlcjpwYXNz\n", []) == b"Authorization: ***\n"
