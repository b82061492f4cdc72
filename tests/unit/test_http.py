"""The shared HTTP layer against a real local server that misbehaves on purpose (tests/fault_server.py)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fault_server import FaultServer, Reply, refused_url

from hfpanel import __version__
from hfpanel.collector import SourceError
from hfpanel.http import HttpCollector, fetch_url, format_bytes, redact_url

FAST = {"timeout": 0.5, "retries": 0, "backoff": 0.01}
TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl"


@pytest.fixture
def srv():
    with FaultServer() as server:
        yield server


def reason(call, *args, **kwargs) -> str:
    with pytest.raises(SourceError) as info:
        call(*args, **kwargs)
    return str(info.value)


# -- success --------------------------------------------------------------------------------
def test_returns_the_body_and_identifies_itself(srv):
    url = srv.route("/doc", body=b'{"ok": true}', content_type="application/json")
    assert fetch_url(url, headers={"X-Site": "EXAMPLE-T2"}, **FAST) == b'{"ok": true}'
    sent = srv.requests("/doc")[0]
    assert sent.headers["user-agent"] == f"hfpanel/{__version__}"
    assert sent.headers["x-site"] == "EXAMPLE-T2"
    assert "authorization" not in sent.headers


def test_collector_sends_configured_user_agent_post_body_and_content_type(srv):
    url = srv.route("/_msearch", body=b"{}")
    body = '{"index": ["monit_prod_sam3_enr_*"]}\n{"size": 500}\n'
    collector = HttpCollector(url=url, method="POST", body=body, user_agent="hfpanel-test/1.0", **FAST)
    assert collector.fetch() == b"{}"
    sent = srv.requests("/_msearch")[0]
    assert (sent.method, sent.body.decode()) == ("POST", body)
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["user-agent"] == "hfpanel-test/1.0"
    assert collector.source_url() == url


# -- transport faults -----------------------------------------------------------------------
def test_slow_server_times_out_with_the_limit_and_its_attempts(srv):
    url = srv.route("/slow", body=b"{}", delay=2.0)
    started = time.monotonic()
    assert reason(fetch_url, url, timeout=0.3, retries=0) == "timed out after 0.3s (1 attempt: read timeout)"
    assert time.monotonic() - started < 1.5


def test_server_stalling_mid_document_times_out(srv):
    url = srv.route("/stall", body=b"x" * 100, body_delay=2.0)
    assert reason(fetch_url, url, timeout=0.3, retries=0) == "timed out after 0.3s (1 attempt: read timeout)"


def test_refused_connection_names_host_and_port():
    url = refused_url("/api")
    port = url.split(":")[2].split("/")[0]
    assert reason(fetch_url, url, **FAST) == f"connection refused (127.0.0.1:{port})"


def test_document_cut_short_is_truncated_not_timed_out(srv):
    url = srv.route("/cut", body=b'{"a": [1, 2', declared_length=5000)
    assert reason(fetch_url, url, **FAST) == f"truncated after 11 bytes ({url})"


@pytest.mark.parametrize("omit_length", [False, True], ids=["content-length", "streamed"])
def test_document_larger_than_limit(srv, omit_length):
    url = srv.route("/big", body=b"x" * 1_000_001, omit_length=omit_length)
    assert reason(fetch_url, url, max_bytes=1_000_000, **FAST) == "document larger than the 1 MB limit"
    assert fetch_url(url, max_bytes=2_000_000, **FAST) == b"x" * 1_000_001


def test_unsupported_scheme():
    assert reason(fetch_url, "ftp://example.org/x") == (
        "unsupported URL scheme 'ftp' in ftp://example.org/x (expected http, https or file)"
    )


# -- HTTP status codes and retries ----------------------------------------------------------
def test_http_500_is_reported_and_not_retried(srv):
    url = srv.route("/err", body=b"boom", status=500)
    assert reason(fetch_url, url, timeout=0.5, retries=2, backoff=0.01) == f"HTTP 500 Internal Server Error from {url}"
    assert srv.hits("/err") == 1


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_are_not_retried(srv, status):
    url = srv.route("/nope", status=status)
    assert reason(fetch_url, url, timeout=0.5, retries=2, backoff=0.01).startswith(f"HTTP {status} ")
    assert srv.hits("/nope") == 1


def test_http_503_is_retried_then_reported(srv):
    url = srv.route("/down", status=503)
    assert reason(fetch_url, url, timeout=0.5, retries=2, backoff=0.01) == f"HTTP 503 Service Unavailable from {url}"
    assert srv.hits("/down") == 3


def test_retry_then_success_logs_each_retry(srv, caplog):
    url = srv.sequence("/flaky", [Reply(503), Reply(503), Reply(200, b'{"ok": 1}')])
    caplog.set_level(logging.WARNING, logger="hfpanel.http")
    assert fetch_url(url, timeout=0.5, retries=2, backoff=0.01) == b'{"ok": 1}'
    assert srv.hits("/flaky") == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "hfpanel.http"]
    assert len(retries) == 2
    assert retries[0].startswith("retry 1 of 2 in ") and "HTTP 503 Service Unavailable" in retries[0]


def test_refused_connection_is_retried(caplog):
    caplog.set_level(logging.WARNING, logger="hfpanel.http")
    reason(fetch_url, refused_url(), timeout=0.5, retries=1, backoff=0.01)
    assert any("connection refused" in r.getMessage() for r in caplog.records)


def test_retry_after_is_honoured_while_the_timeout_holds_it(srv):
    url = srv.sequence("/busy", [Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")])
    started = time.monotonic()
    assert fetch_url(url, timeout=3, retries=1, backoff=0.01) == b"ok"
    assert 0.95 < time.monotonic() - started < 3
    url = srv.sequence("/busier", [Reply(429, headers={"Retry-After": "30"}), Reply(200, b"ok")])
    started = time.monotonic()
    assert reason(fetch_url, url, timeout=0.4, retries=1, backoff=0.01) == (
        f"HTTP 429 Too Many Requests from {url} (asked to retry after 30s, beyond the 0.4s timeout)"
    )
    assert time.monotonic() - started < 0.4 and srv.hits("/busier") == 1, "no wait the budget cannot hold"


# -- credentials ----------------------------------------------------------------------------
def test_bearer_token_from_file_is_sent_but_never_logged(srv, tmp_path, caplog):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    url = srv.sequence("/api", [Reply(503), Reply(200, b"{}")])
    caplog.set_level(logging.DEBUG)
    collector = HttpCollector(url=url, bearer_token_file=str(token_file), retries=1, backoff=0.01, timeout=0.5)
    assert collector.fetch() == b"{}"
    assert [r.headers["authorization"] for r in srv.requests("/api")] == [f"Bearer {TOKEN}"] * 2
    assert caplog.records, "the retry should have been logged"
    assert TOKEN not in caplog.text and "Bearer" not in caplog.text


def test_bearer_token_from_env(srv, monkeypatch):
    monkeypatch.setenv("HFPANEL_TEST_TOKEN", TOKEN)
    url = srv.route("/api", body=b"{}")
    HttpCollector(url=url, bearer_token_env="HFPANEL_TEST_TOKEN", **FAST).fetch()
    assert srv.requests("/api")[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_rejected_token_hint_does_not_reveal_the_token(srv, monkeypatch, caplog):
    monkeypatch.setenv("HFPANEL_TEST_TOKEN", TOKEN)
    url = srv.route("/api", status=401)
    caplog.set_level(logging.DEBUG)
    text = reason(HttpCollector(url=url, bearer_token_env="HFPANEL_TEST_TOKEN", **FAST).fetch)
    assert text == f"HTTP 401 Unauthorized from {url} (token expired or rejected?)"
    assert TOKEN not in caplog.text


def test_missing_token_sources_are_named(srv, tmp_path, monkeypatch):
    url = srv.route("/api", body=b"{}")
    missing = tmp_path / "no-such-token"
    assert reason(HttpCollector(url=url, bearer_token_file=str(missing)).fetch) == (
        f"bearer token file not found: {missing}"
    )
    monkeypatch.delenv("HFPANEL_UNSET_TOKEN", raising=False)
    assert reason(HttpCollector(url=url, bearer_token_env="HFPANEL_UNSET_TOKEN").fetch) == (
        "bearer token environment variable HFPANEL_UNSET_TOKEN is not set"
    )
    assert srv.hits("/api") == 0


def test_missing_certificate_files_fail_before_connecting(srv, tmp_path):
    url = srv.route("/api", body=b"{}")
    proxy = tmp_path / "x509up_u1000"
    assert reason(HttpCollector(url=url, cert=str(proxy)).fetch) == f"client certificate not found: {proxy}"
    proxy.write_text("-----BEGIN CERTIFICATE-----\n")
    assert reason(HttpCollector(url=url, cert=str(proxy), key=str(tmp_path / "key.pem")).fetch) == (
        f"client key not found: {tmp_path / 'key.pem'}"
    )
    assert reason(HttpCollector(url=url, ca_dir=str(tmp_path / "certificates")).fetch) == (
        f"CA certificates not found: {tmp_path / 'certificates'}"
    )
    assert srv.hits("/api") == 0


def test_cert_key_and_ca_dir_reach_requests(tmp_path, monkeypatch):
    """A grid proxy (cert and key in one file) goes alone; a separate key makes a (cert, key) pair."""
    import hfpanel.http as http

    proxy, key, cadir = tmp_path / "proxy.pem", tmp_path / "key.pem", tmp_path / "certificates"
    proxy.write_text("pem"), key.write_text("pem"), cadir.mkdir()
    seen = []

    class Stop(Exception):
        pass

    class Session:
        def request(self, method, url, **kwargs):
            seen.append(kwargs)
            raise Stop

    monkeypatch.setattr(http, "_session", Session)
    for params in (
        {"cert": str(proxy)},
        {"cert": str(proxy), "key": str(key), "ca_dir": str(cadir)},
        {"verify": False, "ca_dir": str(cadir)},
    ):
        with pytest.raises(Stop):
            HttpCollector(url="https://dcache.example.org:3880/api/v1/pools", **params).fetch()
    assert [(s["cert"], s["verify"]) for s in seen] == [
        (str(proxy), True),
        ((str(proxy), str(key)), str(cadir)),
        (None, False),
    ]


def make_cert(directory, name: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (EC, one day), made with the openssl tool."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_server_trust_via_ca_dir(tmp_path):
    server_cert, server_key = make_cert(tmp_path, "server")
    with FaultServer(tls=(server_cert, server_key)) as srv:
        url = srv.route("/api", body=b"{}")
        port = srv.port
        text = reason(fetch_url, url, **FAST)
        assert text.startswith(f"server certificate of 127.0.0.1:{port} not trusted: ") and "(is ca_dir set?)" in text
        cadir = tmp_path / "certificates"  # like /etc/grid-security/certificates: hashed names
        cadir.mkdir()
        subject_hash = subprocess.run(
            ["openssl", "x509", "-hash", "-noout", "-in", server_cert], check=True, capture_output=True, text=True
        ).stdout.strip()
        shutil.copy(server_cert, cadir / f"{subject_hash}.0")
        assert HttpCollector(url=url, ca_dir=str(cadir), **FAST).fetch() == b"{}"
        assert HttpCollector(url=url, verify=False, **FAST).fetch() == b"{}"


def test_https_client_certificate_and_grid_proxy_file(tmp_path):
    server_cert, server_key = make_cert(tmp_path, "server")
    client_cert, client_key = make_cert(tmp_path, "client")
    proxy = tmp_path / "x509up_u1000"  # a grid proxy: certificate and key in one file
    proxy.write_text(Path(client_cert).read_text() + Path(client_key).read_text())
    with FaultServer(tls=(server_cert, server_key), client_ca=client_cert) as srv:
        url = srv.route("/api", body=b"{}")
        assert HttpCollector(url=url, ca_dir=server_cert, cert=client_cert, key=client_key, **FAST).fetch() == b"{}"
        assert HttpCollector(url=url, ca_dir=server_cert, cert=str(proxy), **FAST).fetch() == b"{}"
        assert "client certificate or proxy missing or rejected?" in reason(
            HttpCollector(url=url, ca_dir=server_cert, **FAST).fetch
        )
        assert srv.hits("/api") == 2


def test_secret_query_values_are_hidden_in_reasons(srv):
    url = srv.route("/api", status=500)
    text = reason(fetch_url, url + "?access_token=s3cr3t&site=T2_DE_DESY", **FAST)
    assert "s3cr3t" not in text and "site=T2_DE_DESY" in text
    assert redact_url("https://user:pw@host/x?apikey=1&a=2") == "https://***@host/x?apikey=***&a=2"


# -- file:// --------------------------------------------------------------------------------
def test_file_urls(tmp_path):
    doc = tmp_path / "status.json"
    doc.write_bytes(b'{"ok": true}')
    assert fetch_url(doc.as_uri()) == b'{"ok": true}'
    assert HttpCollector(url=doc.as_uri()).fetch() == b'{"ok": true}'
    assert reason(fetch_url, doc.as_uri(), max_bytes=5) == "document larger than the 5 B limit"
    assert reason(fetch_url, (tmp_path / "gone.json").as_uri()) == f"file not found: {tmp_path / 'gone.json'}"


def test_size_texts():
    assert [format_bytes(n) for n in (10_000_000, 1_500, 12)] == ["10 MB", "1.5 kB", "12 B"]
