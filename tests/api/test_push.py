"""Pushed test results (issue 14, the BES3 pattern): a job signs a result with its token, the
dashboard keeps it on disk before answering 202, and the next run rates the module from it —
exactly once in the store; a module whose results stop is no information, then critical. Every
kind of bad request is refused with one line and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests
from api_server import served_api
from jsonschema import Draft202012Validator
from push_site import push_site, send

from hfpanel.queries.loaders import shared_store

CLIENT = Path(__file__).parents[2] / "scripts" / "hfpanel-push"


@pytest.fixture
def pushing(tmp_path):
    site = push_site(tmp_path / "store")
    with served_api(site.root, site.config) as url:
        yield site, url


def results_in_store(site, module="wn_probe") -> pd.DataFrame:
    store = shared_store(site.root)
    name = f"detail__{module}__results"
    return store.sql(f"SELECT * FROM {name} ORDER BY push_id") if store.has_table(name) else pd.DataFrame()


def test_the_reference_client_pushes_and_the_next_run_rates_the_module(pushing):
    site, url = pushing
    token = site.token("push:wn_probe")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HFPANEL_TOKEN": token}
    for host, outcome in (("wn001.example.org", "ok"), ("wn002.example.org", "critical")):
        done = subprocess.run(
            [sys.executable, "-I", str(CLIENT), "--url", url, "--module", "wn_probe", "--outcome", outcome,
             "--host", host, "--value", "3.5", "--duration", "1.2", "--message", "cvmfs probe"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "accepted by wn_probe" in done.stderr
    status = site.collect()
    assert status.loc["wn_probe", "level"] == "critical"
    assert "wn002.example.org" in status.loc["wn_probe", "message"]
    assert status.loc["ce_probe", "level"] == "noinfo"
    assert "no result has arrived yet" in status.loc["ce_probe", "message"]
    stored = results_in_store(site)
    assert list(stored["host"]) == ["wn001.example.org", "wn002.example.org"]
    assert list(stored["value"]) == [3.5, 3.5] and list(stored["message"]) == ["cvmfs probe"] * 2


def test_each_result_lands_in_the_store_exactly_once(pushing):
    site, url = pushing
    token = site.token()
    assert send(url, "wn_probe", token, {"outcome": "ok", "host": "wn1"}).status_code == 202
    site.collect()
    assert len(results_in_store(site)) == 1
    site.collect()  # nothing new: the latest result still rates the module, the store gains no copy
    assert len(results_in_store(site)) == 1
    answer = send(url, "wn_probe", token, {"results": [{"outcome": "warning", "host": "wn1"}, {"outcome": "ok"}]})
    assert answer.status_code == 202 and answer.json()["accepted"] == 2
    status = site.collect()
    assert status.loc["wn_probe", "level"] == "warning"  # the latest per host: wn1 now warns
    stored = results_in_store(site)
    assert list(stored["push_id"]) == sorted(set(stored["push_id"])) and len(stored) == 3


def test_a_module_whose_results_stop_turns_noinfo_then_critical(pushing):
    site, url = pushing
    assert send(url, "ce_probe", site.token(), {"outcome": "ok", "host": "ce1"}).status_code == 202
    now = pd.Timestamp.now("UTC").tz_localize(None)
    assert site.collect(now).loc["ce_probe", "level"] == "ok"
    quiet = site.collect(now + pd.Timedelta(minutes=45)).loc["ce_probe"]
    assert quiet["level"] == "noinfo" and "no result for 45m" in quiet["message"]
    silent = site.collect(now + pd.Timedelta(hours=3)).loc["ce_probe"]
    assert silent["level"] == "critical" and "critical after 2h" in silent["message"]
    assert pd.Timestamp(silent["last_good"]) == now  # silence is not good data


def test_refusals_say_why_in_one_line_and_leave_nothing(pushing):
    site, url = pushing
    good, other = site.token("push:wn_probe"), site.token("push:ce_probe")
    revoked = site.token("push:*", name="old")
    site.tokens.revoke(revoked.split("_")[1])
    expired = site.token("push:*", name="short", expires=0.001)
    time.sleep(0.01)
    ok = {"outcome": "ok", "host": "wn1"}
    unsigned = requests.post(f"{url}/api/v1/push/wn_probe", json=ok, timeout=30)
    cases = [
        (unsigned, 401, "must be signed"),
        (send(url, "wn_probe", revoked, ok), 401, "revoked"),
        (send(url, "wn_probe", expired, ok), 401, "expired"),
        (send(url, "wn_probe", good, ok, ts=time.time() - 301), 401, "300 s window"),
        (send(url, "wn_probe", good, ok, ts=time.time() + 301), 401, "300 s window"),
        (send(url, "wn_probe", good, ok, tamper=lambda b: b.replace(b"ok", b"critical")), 401, "bad signature"),
        (send(url, "wn_probe", good, ok, path="/api/v1/push/ce_probe"), 401, "bad signature"),
        (send(url, "wn_probe", other, ok), 403, "may not push to 'wn_probe'"),
        (send(url, "sam_ce", good.replace(good, site.token("push:*")), ok), 404, "no push module"),
        (send(url, "wn_probe", good, {"outcome": "fine"}), 400, "body.outcome"),
        (send(url, "wn_probe", good, {"results": [ok, {"outcome": "ok", "colour": "red"}]}), 400, "results[1]"),
        (send(url, "wn_probe", good, b"{not json"), 400, "not JSON"),
        (send(url, "wn_probe", good, {"outcome": "ok", "time": "2099-01-01T00:00:00Z"}), 400, "in the future"),
        (send(url, "wn_probe", good, {"outcome": "ok", "message": "x" * 70_000}), 413, "larger than"),
        (requests.get(f"{url}/api/v1/push/wn_probe", timeout=30), 405, "not allowed"),
    ]
    for answer, code, words in cases:
        assert answer.status_code == code, (code, words, answer.text)
        message = answer.json()["error"]["message"]
        assert words in message and "\n" not in message, message
    assert site.spooled() == 0


def test_a_replayed_request_is_refused(pushing):
    site, url = pushing
    token = site.token()
    first = send(url, "wn_probe", token, {"outcome": "ok"}, nonce="ab" * 16)
    again = send(url, "wn_probe", token, {"outcome": "ok"}, nonce="ab" * 16)
    assert (first.status_code, again.status_code) == (202, 409)
    assert "replayed" in again.json()["error"]["message"]
    assert site.spooled() == 1


def test_a_token_that_pushes_too_fast_is_told_to_wait(tmp_path):
    site = push_site(tmp_path / "store", api={"push_rate": 3})
    with served_api(site.root, site.config) as url:
        token = site.token()
        codes = [send(url, "wn_probe", token, {"outcome": "ok"}) for _ in range(5)]
        others = send(url, "wn_probe", site.token(name="other"), {"outcome": "ok"})
    assert [c.status_code for c in codes] == [202, 202, 202, 429, 429]
    assert int(codes[-1].headers["Retry-After"]) >= 1
    assert others.status_code == 202  # the limit is per token
    assert site.spooled() == 4


def test_rotation_keeps_the_old_token_for_the_overlap(pushing):
    site, url = pushing
    old = site.token("push:wn_probe")
    old_id = old.split("_")[1]
    _, new, _ = site.tokens.rotate(old_id, overlap=60)
    assert send(url, "wn_probe", old, {"outcome": "ok"}).status_code == 202
    assert send(url, "wn_probe", new, {"outcome": "ok"}).status_code == 202
    site.tokens.rotate(site.tokens.bearer(new).id, overlap=0)
    assert send(url, "wn_probe", new, {"outcome": "ok"}).status_code == 401


def test_push_answers_follow_the_document(pushing):
    site, url = pushing
    document = requests.get(f"{url}/api/v1/openapi.json", timeout=30).json()
    operation = document["paths"]["/push/{module}"]["post"]
    assert operation["parameters"][0]["schema"]["enum"] == ["wn_probe", "ce_probe"]
    body = {"results": [{"outcome": "ok", "host": "wn1", "value": 1.0, "time": "2026-01-01T00:00:00Z"}]}
    assert not list(
        Draft202012Validator(operation["requestBody"]["content"]["application/json"]["schema"]).iter_errors(body)
    )
    token = site.token()
    for answer in (send(url, "wn_probe", token, body), send(url, "wn_probe", token, {"outcome": 1})):
        schema = operation["responses"][str(answer.status_code)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({"allOf": [schema], "components": document["components"]})
        assert not list(validator.iter_errors(answer.json()))
