"""X.509 sign-in through a real reverse proxy (Debian's nginx, started here with a throwaway CA,
``ssl_verify_client on``, forwarding the verified DN): the right certificate gets in and sees what
its DN's groups open; no certificate, or one from another CA, does not get past nginx; and a DN
header sent straight to the app from an address that is not the proxy's is ignored."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import ssl
import subprocess
import textwrap
import time

import pytest
from browser_support import free_port
from secured_site import served_secured
from throwaway_ca import CA

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ALICE_DN = "O=hfpanel tests,CN=Alice"  # RFC 4514 order, as nginx's $ssl_client_s_dn writes it

CONF = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {server_cert}; ssl_certificate_key {server_key};
        ssl_client_certificate {ca}; ssl_verify_client on; ssl_verify_depth 2;
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $host;
            proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;
            proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(tmp, app_port: int, ca: CA):
    if not shutil.which(NGINX):
        pytest.fail("nginx is missing: .ci/system-deps installs Debian's nginx")
    server_key, server_cert = ca.issue("server", "127.0.0.1", server=True)
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(
        textwrap.dedent(CONF).format(
            tmp=tmp, port=port, app_port=app_port, server_cert=server_cert, server_key=server_key, ca=ca.cert_path
        )
    )
    process = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(tmp / "error.log")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stderr.read().decode()) from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def get(port: int, path: str, ca: CA, cert=None, source: str | None = None, headers=None, tls: bool = True):
    if tls:
        context = ssl.create_default_context(cafile=str(ca.cert_path))
        if cert:
            context.load_cert_chain(str(cert[1]), str(cert[0]))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    connection.request("GET", path, headers=headers or {})
    answer = connection.getresponse()
    return answer.status, answer.read().decode(errors="replace")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    ca, rogue = CA(tmp / "ca"), CA(tmp / "rogue", "Rogue CA")
    auth = {
        "mode": "x509",
        "users_file": None,
        "x509": {"trusted_proxies": ["127.0.0.1"], "groups": {ALICE_DN: ["storage"]}},
    }
    app_port = free_port()
    with served_secured(tmp / "store", auth, port=app_port) as (url, _, _):
        with nginx(tmp, app_port, ca) as port:
            yield port, app_port, ca, rogue


def test_the_right_certificate_gets_in_with_its_groups(proxied):
    port, _, ca, _ = proxied
    alice = ca.issue("alice", "Alice")
    status, body = get(port, "/api/v1/modules", ca, alice)
    assert status == 200, body[:300]
    assert "dcache_pools" in {m["module"] for m in json.loads(body)["rows"]}  # the DN's group opens storage
    page, html = get(port, "/", ca, alice)
    assert page == 200 and "<html" in html.lower()
    carol = ca.issue("carol", "Carol")  # a valid certificate without groups: open parts only
    status, body = get(port, "/api/v1/modules", ca, carol)
    assert status == 200 and "dcache_pools" not in {m["module"] for m in json.loads(body)["rows"]}


def test_no_certificate_or_another_ca_does_not_get_past_the_proxy(proxied):
    port, _, ca, rogue = proxied
    status, body = get(port, "/api/v1/status", ca)
    assert status == 400 and "No required SSL certificate" in body
    mallory = rogue.issue("mallory", "Alice")  # the same name, from a CA nginx does not trust
    status, body = get(port, "/api/v1/status", ca, mallory)
    assert status == 400 and "SSL certificate error" in body


def test_a_dn_header_sent_straight_to_the_app_is_ignored(proxied):
    _, app_port, ca, _ = proxied
    forged = {"X-SSL-Client-S-DN": ALICE_DN, "X-SSL-Client-Verify": "SUCCESS"}
    status, _ = get(app_port, "/api/v1/status", ca, source="127.0.0.2", headers=forged, tls=False)
    assert status == 401  # 127.0.0.2 is not the proxy: the header is anyone's to write
    page, _ = get(app_port, "/", ca, source="127.0.0.2", headers=forged, tls=False)
    assert page == 302
