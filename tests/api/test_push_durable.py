"""A 202 means on disk: a server killed with SIGKILL right after answering has the results in its
spool, and the next run puts them in the store. Plus a property-based fuzzer over the push body:
whatever a client sends, the answer is a result list or a one-line refusal, never a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from browser_support import free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from push_site import push_site, send

from hfpanel import push

SERVER = textwrap.dedent(
    """
    import asyncio, sys, tornado.web
    from push_site import push_config
    from hfpanel.api.server import patterns
    store, port = sys.argv[1], int(sys.argv[2])
    async def main():
        tornado.web.Application(patterns(store, push_config(store))).listen(port, address="127.0.0.1")
        print("ready", flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


def test_an_accepted_push_survives_the_server_being_killed(tmp_path):
    site = push_site(tmp_path / "store")
    token = site.token()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(site.root), str(port)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert server.stdout.readline().strip() == b"ready"
        url = f"http://127.0.0.1:{port}"
        answers = [send(url, "wn_probe", token, {"outcome": "ok", "host": f"wn{i}"}) for i in range(5)]
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed remains
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
    assert [a.status_code for a in answers] == [202] * 5
    assert site.spooled() == 5
    status = site.collect()
    assert status.loc["wn_probe", "level"] == "ok" and "5 new" in status.loc["wn_probe", "message"]


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
results = st.fixed_dictionaries(
    {"outcome": st.sampled_from(["ok", "warning", "critical", "unknown", "fine", 3])},
    optional={
        "host": st.text(max_size=300),
        "value": st.none() | st.floats() | st.integers() | st.text(max_size=5),
        "duration_s": st.none() | st.floats() | st.integers(min_value=-5),
        "message": st.text(max_size=50),
        "time": st.text(max_size=45) | st.datetimes().map(lambda d: d.isoformat() + "Z"),
        "extra": values,
    },
)
bodies = results | st.fixed_dictionaries({"results": st.lists(results, max_size=4)}) | values


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_any_body_is_read_or_refused_in_one_line(body):
    raw = json.dumps(body, allow_nan=True).encode()
    try:
        read = push.read_body(raw, time.time())
    except push.PushRefused as refusal:
        assert refusal.status == 400 and refusal.message and "\n" not in refusal.message
        return
    assert read and all(r["outcome"] in push.OUTCOMES and isinstance(r["ran"], float) for r in read)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(raw):
    try:
        push.read_body(raw, time.time())
    except push.PushRefused as refusal:
        assert refusal.status == 400
