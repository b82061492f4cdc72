"""`hfpanel ingest` over STOMP+TLS with a client certificate, against a real ActiveMQ whose
``stomp+ssl`` connector requires one (``needClientAuth=true``). A throwaway CA, server and client
certificates are made with openssl (and a second CA nobody trusts), the broker's PKCS12 stores with
openssl and keytool, all in a tmp dir."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import stomp
from activemq_broker import ActiveMQ, TLSStores, available, free_port

from hfpanel.store import Store
from hfpanel.transfers import generate

STORE_PASS = "store-pass-4-test"
KEY_PASS = "Key-Passphrase-never-logged"
SECRET = "s3cr3t-Passw0rd-never-logged"


def _keytool() -> str | None:
    java = shutil.which("java")
    beside = Path(os.path.realpath(java)).parent / "keytool" if java else None
    return str(beside) if beside and beside.exists() else shutil.which("keytool")


def _missing() -> str | None:
    if not shutil.which("openssl"):
        return "openssl is not installed (apt-get install openssl)"
    if not _keytool():
        return "keytool is not installed (it comes with the Java runtime: apt-get install default-jre-headless)"
    return available()


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def _run(*command, cwd):
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=120)


def _ca(d: Path, name: str) -> None:
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-subj",
        f"/CN=hfpanel test {name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )


def _signed(d: Path, name: str, ca: str, cn: str, extensions: str) -> None:
    _run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={cn}",
        cwd=d,
    )
    (d / f"{name}.ext").write_text(extensions)
    _run(
        "openssl",
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.pem",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-extfile",
        f"{name}.ext",
        cwd=d,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "rogue-ca")
    _signed(d, "server", "ca", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _signed(d, "client", "ca", "hfpanel-ingest", "extendedKeyUsage=clientAuth\n")
    _signed(d, "rogue-client", "rogue-ca", "hfpanel-ingest", "extendedKeyUsage=clientAuth\n")
    _run(
        "openssl",
        "pkey",
        "-in",
        "client.key",
        "-aes256",
        "-passout",
        f"pass:{KEY_PASS}",
        "-out",
        "client-enc.key",
        cwd=d,
    )
    # the broker: its key + certificate (PKCS12 by openssl), the CA it trusts for clients (keytool marks it trusted)
    _run(
        "openssl",
        "pkcs12",
        "-export",
        "-in",
        "server.pem",
        "-inkey",
        "server.key",
        "-certfile",
        "ca.pem",
        "-name",
        "broker",
        "-out",
        "broker.p12",
        "-passout",
        f"pass:{STORE_PASS}",
        cwd=d,
    )
    _run(
        _keytool(),
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.pem",
        "-keystore",
        "trust.p12",
        "-storetype",
        "PKCS12",
        "-storepass",
        STORE_PASS,
        cwd=d,
    )
    return d


@pytest.fixture(scope="module")
def broker(tmp_path_factory, pki):
    stores = TLSStores(pki / "broker.p12", pki / "trust.p12", STORE_PASS)
    with ActiveMQ(tmp_path_factory.mktemp("activemq-tls"), tls=stores) as instance:
        yield instance


def site(tmp_path, hosts, queue, **entry) -> Path:
    lines = "".join(f"      {k}: {v}\n" for k, v in entry.items())
    (tmp_path / "site.yaml").write_text(f"""store: store
transfers:
  brokers:
    mb:
      hosts: {json.dumps(hosts)}
{lines}  subscriptions:
    - {{broker: mb, destination: '{queue}', kind: fts_complete}}
  flush: {{messages: 500, seconds: 0.3}}
""")
    return tmp_path / "site.yaml"


def ingest(config, *args, timeout=90):
    """`hfpanel -vv ingest` (stomp.py's DEBUG frame dumps included): (exit code, output, seconds)."""
    log = Path(config).parent / f"ingest-{uuid.uuid4().hex[:6]}.log"
    started = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.run(
            [sys.executable, "-m", "hfpanel.cli", "-vv", "ingest", "--config", str(config), "--quiet", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        ).returncode
    return code, log.read_text(), time.monotonic() - started


def publish_tls(broker, pki, queue, bodies):
    """Published over the TLS connector, with the client certificate."""
    host = ("127.0.0.1", broker.tls_port)
    conn = stomp.Connection([host])
    conn.set_ssl(
        for_hosts=[host],
        cert_file=str(pki / "client.pem"),
        key_file=str(pki / "client.key"),
        ca_certs=str(pki / "ca.pem"),
    )
    conn.connect(wait=True)
    for body in bodies:
        conn.send(queue, body, headers={"persistent": "true"})
    conn.disconnect(receipt=str(uuid.uuid4()))  # the receipt drains every send first


def keys(store_root) -> list[str]:
    if not (store_root / "_manifest.json").exists():
        return []
    with Store(store_root) as store:
        if not store.has_table("fts_complete"):
            return []
        return list(store.sql("SELECT key FROM fts_complete")["key"])


def key_material(pki, name) -> list[str]:
    """The base64 lines of a PEM private key (any of them in a log would be a leak)."""
    return [line for line in (pki / name).read_text().splitlines() if line and not line.startswith("-----")]


def test_client_certificate_over_tls_stores_exactly_the_published_messages(tmp_path, broker, pki):
    queue = f"/queue/hfpanel.tls.{uuid.uuid4().hex[:6]}"
    bodies = generate.fts_complete_bodies(40, seed=5)
    publish_tls(broker, pki, queue, bodies)
    expected = sorted(
        "|".join(str(m[k]) for k in ("endpnt", "job_id", "file_id", "tr_timestamp_start"))
        for m in map(json.loads, bodies)
    )
    # the alias's first host is down: the TLS settings apply to every host, and 'localhost' is checked
    # against the server certificate's DNS name
    hosts = [f"127.0.0.1:{free_port()}", f"localhost:{broker.tls_port}"]
    config = site(tmp_path, hosts, queue, cert=pki / "client.pem", key=pki / "client.key", ca=pki / "ca.pem")
    code, output, _ = ingest(config, "--until-idle", "3")
    assert code == 0, output[-3000:]
    assert f"connected to localhost:{broker.tls_port}" in output
    assert sorted(keys(tmp_path / "store")) == expected and len(expected) == 40
    assert not any(line in output for line in key_material(pki, "client.key"))
    # a second run: nothing left on the queue, nothing doubled
    code, output, _ = ingest(config, "--until-idle", "1")
    assert code == 0 and len(keys(tmp_path / "store")) == 40


@pytest.mark.parametrize(
    "case", ["no client certificate", "client certificate of another CA", "broker certificate of an untrusted CA"]
)
def test_refused_tls_connection_logs_retries_stores_nothing_and_stops(tmp_path, broker, pki, case):
    queue = f"/queue/hfpanel.refused.{uuid.uuid4().hex[:6]}"
    publish_tls(broker, pki, queue, generate.fts_complete_bodies(5, seed=9))
    (tmp_path / "mb.pass").write_text(SECRET + "\n")
    entry = {
        "no client certificate": dict(ca=pki / "ca.pem", username="hfpanel", password_file=tmp_path / "mb.pass"),
        "client certificate of another CA": dict(
            cert=pki / "rogue-client.pem", key=pki / "rogue-client.key", ca=pki / "ca.pem"
        ),
        "broker certificate of an untrusted CA": dict(
            cert=pki / "client.pem", key=pki / "client.key", ca=pki / "rogue-ca.pem"
        ),
    }[case]
    config = site(tmp_path, [f"127.0.0.1:{broker.tls_port}"], queue, **entry)
    code, output, seconds = ingest(config, "--until-idle", "3")
    assert code == 0, output[-3000:]
    assert f"broker mb (127.0.0.1:{broker.tls_port}): cannot connect" in output and "retrying in" in output
    assert "connected to" not in output and "Traceback" not in output
    assert "wrapping SSL socket" in output  # stomp.py's DEBUG line: TLS was attempted (a `ca` alone means TLS)
    if case == "broker certificate of an untrusted CA":
        assert "CERTIFICATE_VERIFY_FAILED" in output
    assert seconds < 40  # at most one bounded CONNECT wait (10 s) past --until-idle
    assert keys(tmp_path / "store") == []
    assert SECRET not in output
    for name in ("client.key", "rogue-client.key"):
        assert not any(line in output for line in key_material(pki, name))
    # the refused client consumed nothing: the messages wait for a client the broker accepts
    good = site(
        tmp_path,
        [f"127.0.0.1:{broker.tls_port}"],
        queue,
        cert=pki / "client.pem",
        key=pki / "client.key",
        ca=pki / "ca.pem",
    )
    assert ingest(good, "--until-idle", "2")[0] == 0 and len(keys(tmp_path / "store")) == 5


def test_missing_or_passphrase_protected_key_is_a_config_error(tmp_path, pki):
    for key, problem in (
        (tmp_path / "absent.key", f"file not found: {tmp_path / 'absent.key'}"),
        (pki / "client-enc.key", "is passphrase-protected"),
    ):
        config = site(tmp_path, ["127.0.0.1:61614"], "/queue/x", cert=pki / "client.pem", key=key, ca=pki / "ca.pem")
        expected = f"{config}: section 'transfers': key 'brokers.mb.key': "
        result = subprocess.run(
            [sys.executable, "-m", "hfpanel.cli", "ingest", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 2 and expected in result.stderr and problem in result.stderr, result.stderr
        assert "pass phrase" not in result.stderr + result.stdout  # OpenSSL never got to prompt
        check = subprocess.run(
            [sys.executable, "-m", "hfpanel.cli", "config", "check", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (
            check.returncode == 2 and expected in check.stdout + check.stderr and problem in check.stdout + check.stderr
        )
        for text in (result.stdout, result.stderr, check.stdout, check.stderr):
            assert KEY_PASS not in text
            assert not any(line in text for line in key_material(pki, "client-enc.key"))
