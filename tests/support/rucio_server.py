"""A real Rucio server on 127.0.0.1 for the tests: PyPI's ``rucio`` 41.5.1, SQLite, userpass auth.

Usage (one server for a test module or session)::

    from rucio_server import RucioServer
    with RucioServer(tmp_path) as server:         # ≈4–7 s once the server venv exists
        server.url, server.account, server.password, server.seeded

or the pytest fixture generator :func:`rucio_server` (``@pytest.fixture(scope=...)`` around it).

What it does (the measured facts and pitfalls are in shared/notes/rucio-server.md):

1. ``scripts/rucio-server-venv`` makes the server's own virtualenv if it is missing (≈30–45 s, PyPI):
   the server package ``rucio`` and ``rucio-clients`` both install the import package ``rucio``,
   so the server never shares the project's ``.venv``. ``HFPANEL_RUCIO_SERVER_VENV`` overrides
   where it lives (default ``<repo>/.venv-rucio-server``).
2. Writes ``rucio.cfg``, ``alembic.ini`` and a local policy package (CMS names: ``T2_DE_DESY``,
   ``/Prim/Proc/TIER#block``, CMS activities) into a work dir; the SQLite DB lives there too. No
   ``multi_vo`` option (``bool('False')`` is True in the bootstrap), ``mailtemplatedir`` for
   approval mails, a memcached URL nothing listens on, ``TMPDIR`` of the work dir for tokens.
3. One server process bootstraps the DB (schema, alembic stamp, VO 'def', root account) and
   serves the Flask app with werkzeug *unthreaded* (SQLite: one request at a time) on a socket
   the harness bound to a free port first (no port race), then ``/ping`` is polled.
4. ``seed.py`` (in the server venv) creates RSEs, accounts, a scope, blocks with files at the T1
   and rules in every state through the REST API, then edits what the API cannot set (lock
   counters of stuck rules, ``error``, an old ``created_at``) with SQLAlchemy in the DB file.
5. Teardown: SIGTERM to the server's PID, then ``wait()`` on the Popen (no zombie left).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "rucio-server-venv"
SERVER_VENV = Path(os.environ.get("HFPANEL_RUCIO_SERVER_VENV") or REPO / ".venv-rucio-server")
#: the identity the collector authenticates with
ACCOUNT, USERNAME = "dashboard", "dashboard-monitor"

#: the rules seed.py creates: (key, owner, rse, activity, did kind, state); counts per state follow
RULES = [
    ("ok_block", "wma_prod", "T1_DE_KIT_Disk", "Production Output", "block", "OK"),
    ("ok_container", "transfer_ops", "T1_DE_KIT_Disk", "Data rebalancing", "container", "OK"),
    ("replicating", "transfer_ops", "T2_DE_DESY", "Data rebalancing", "block", "REPLICATING"),
    ("replicating_old", "wma_prod", "T2_US_Nebraska", "Production Output", "block", "REPLICATING"),
    ("stuck_desy", "wma_prod", "T2_DE_DESY", "Production Output", "block", "STUCK"),
    ("stuck_nebraska", "transfer_ops", "T2_US_Nebraska", "Data rebalancing", "block", "STUCK"),
    ("suspended", "transfer_ops", "T2_US_Nebraska", "User AutoApprove", "block", "SUSPENDED"),
    ("waiting", "transfer_ops", "T2_DE_DESY", "User AutoApprove", "block", "WAITING_APPROVAL"),
    ("inject", "wma_prod", "T2_US_Nebraska", "T0 Tape", "block", "INJECT"),
]
STUCK_ERRORS = {
    "stuck_desy": "DESTINATION [13] Permission denied on srm://dcache-se-cms.desy.de/pnfs/<store>/ <script>",
    "stuck_nebraska": "TRANSFER [70] checksum mismatch (source adler32 0a1b2c3d, destination 00000000)",
    "suspended": "Rule suspended by operator: destination in downtime",
}


class RucioServerError(RuntimeError):
    """The server could not be made, started or seeded; the message says which step and why."""


def ensure_server_venv(venv: Path = SERVER_VENV, timeout: float = 600) -> Path:
    """Create the server virtualenv with ``scripts/rucio-server-venv`` unless it is already there."""
    started = time.monotonic()
    try:
        result = subprocess.run(["sh", str(SCRIPT), str(venv)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RucioServerError(f"creating the Rucio server venv {venv} took longer than {timeout:.0f}s") from None
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise RucioServerError(
            f"could not create the Rucio server venv {venv} with {SCRIPT.relative_to(REPO)} "
            f"(needs python3 -m venv and PyPI: pip install rucio==41.5.1 gunicorn); last output:\n{output}"
        )
    ensure_server_venv.seconds = time.monotonic() - started
    return venv


ensure_server_venv.seconds = 0.0

# -- files written into the work dir -----------------------------------------------------------------
RUCIO_CFG = """\
[common]
logdir = {work}/log
loglevel = WARNING
mailtemplatedir = {venv}/rucio/etc/mail_templates

[client]
rucio_host = {url}
auth_host = {url}
auth_type = userpass
username = ddmlab
password = {root_password}
account = root
request_retries = 1

[database]
default = sqlite:///{work}/rucio.db

[bootstrap]
userpass_identity = ddmlab
userpass_pwd = {root_password}

[alembic]
cfg = {work}/alembic.ini

[policy]
package = rucio_test_policy

[cache]
url = 127.0.0.1:1

[monitor]
enable_metrics = False
"""

ALEMBIC_INI = """\
[alembic]
script_location = rucio:db/sqla/migrate_repo
sqlalchemy.url = sqlite:///{work}/rucio.db

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

POLICY_SCHEMA = '''\
"""CMS-like names for the test server: the generic schema with RSE (also in attachments), DID name
and activity relaxed."""
from rucio.common.schema.generic import *  # noqa: F401,F403
from rucio.common.schema.generic import SCHEMAS as _GENERIC

RSE = {"description": "RSE name", "type": "string", "pattern": "^[A-Za-z0-9]+([_-][A-Za-z0-9]+)*$"}
NAME = {"description": "Data Identifier name", "type": "string", "maxLength": 250,
        "pattern": r"^/?[A-Za-z0-9][A-Za-z0-9\\.\\-_/#]*$"}
ACTIVITY = {"description": "Activity name", "type": "string"}
ATTACHMENT = {**ATTACHMENT, "properties": {**ATTACHMENT["properties"], "rse": {**RSE, "type": ["string", "null"]}}}
SCHEMAS = {**_GENERIC, "rse": RSE, "name": NAME, "activity": ACTIVITY, "attachment": ATTACHMENT}
'''

SERVE_PY = '''\
"""Bootstrap the DB, then serve the Rucio REST API on the inherited socket, one request at a time."""
import sys
import time

started = time.monotonic()
from rucio.db.sqla.util import build_database, create_base_vo, create_root_account
build_database()
create_base_vo()  # the 'def' VO row: RSEs have a foreign key to it
create_root_account()
booted = time.monotonic()
from rucio.web.rest.flaskapi.v1.main import application
from werkzeug.serving import make_server

server = make_server("127.0.0.1", 0, application, threaded=False, fd=int(sys.argv[1]))
print(f"bootstrap {booted - started:.2f}s, app import {time.monotonic() - booted:.2f}s", file=sys.stderr, flush=True)
server.serve_forever()
'''

SEED_PY = '''\
"""Seed the server through its REST API (rucio.client as root), then set what the API cannot."""
import datetime
import json
import sys

from rucio.client import Client

plan = json.loads(sys.argv[1])
c = Client()
for rse in ("T1_DE_KIT_Disk", "T2_DE_DESY", "T2_US_Nebraska"):
    c.add_rse(rse)
for account in ("wma_prod", "transfer_ops", plan["account"]):
    c.add_account(account, "USER", f"{account}@example.org")
    for rse in ("T1_DE_KIT_Disk", "T2_DE_DESY", "T2_US_Nebraska"):
        c.set_local_account_limit(account, rse, 10**15)
c.add_identity(plan["account"], plan["username"], "USERPASS", "dashboard@example.org", default=True,
               password=plan["password"])
c.add_scope("root", "cms")

container = "/GenericTTbar/HC-CMSSW_14_0_7-v1/GEN-SIM-RECO"
c.add_container("cms", container)
rules = {}
for number, (key, owner, rse, activity, kind, state) in enumerate(plan["rules"]):
    block = f"{container}#block-{number:02d}-{key}"
    c.add_dataset("cms", block)
    files = [{"scope": "cms", "name": f"/store/mc/HC/GenericTTbar/{number:02d}/file-{i}.root",
              "bytes": 1_000_000, "adler32": "0cc737eb"} for i in range(3)]
    c.add_files_to_dataset("cms", block, files, rse="T1_DE_KIT_Disk")
    c.close("cms", block)
    c.attach_dids("cms", container, [{"scope": "cms", "name": block}])
    did = {"scope": "cms", "name": container if kind == "container" else block}
    rule_id = c.add_replication_rule([did], 1, rse, account=owner, activity=activity,
                                     ask_approval=state == "WAITING_APPROVAL",
                                     asynchronous=state == "INJECT")[0]
    if state in ("STUCK", "SUSPENDED"):
        c.update_replication_rule(rule_id, {"state": state})
    rules[key] = {"id": rule_id, "did": f"cms:{did['name']}", "account": owner, "rse_expression": rse,
                  "activity": activity, "state": state}

# what the API cannot set: realistic lock counters and errors of stuck rules, an old REPLICATING rule
from rucio.db.sqla import models
from rucio.db.sqla.session import get_session

now = datetime.datetime.utcnow()
edits = {key: {"error": text} for key, text in plan["errors"].items()}
for key in ("stuck_desy", "stuck_nebraska", "suspended"):
    edits[key].update(locks_ok_cnt=1, locks_replicating_cnt=0, locks_stuck_cnt=2)
edits["replicating_old"] = {"created_at": now - datetime.timedelta(days=3)}
session = get_session()
for key, values in edits.items():
    session.query(models.ReplicationRule).filter(models.ReplicationRule.id == rules[key]["id"]).update(
        values, synchronize_session=False)
    rules[key].update({k: v for k, v in values.items() if k != "created_at"})
session.commit()
print(json.dumps(rules))
'''


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class RucioServer:
    """A seeded Rucio server in ``workdir``; ``start()``/``stop()`` or use it as a context manager.

    After ``start()``: ``url`` (http://127.0.0.1:<port>), ``account``/``username``/``password`` of
    the collector's identity, ``seeded`` (rule key -> id, did, account, rse_expression, activity,
    state, error…), ``counts`` (state -> number of rules) and ``timings`` (seconds per step).
    """

    def __init__(self, workdir, venv: Path = SERVER_VENV):
        self.work = Path(workdir).resolve()
        self.venv = Path(venv)
        self.account, self.username = ACCOUNT, USERNAME
        self.password = "pw-" + secrets.token_urlsafe(12)
        self.root_password = secrets.token_urlsafe(12)
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.seeded: dict[str, dict] = {}
        self.timings: dict[str, float] = {}

    @property
    def counts(self) -> dict[str, int]:
        states = ("OK", "REPLICATING", "STUCK", "SUSPENDED", "WAITING_APPROVAL", "INJECT")
        return {s: sum(1 for r in self.seeded.values() if r["state"] == s) for s in states}

    def env(self) -> dict:
        """Environment for processes of the server venv (config, policy package, token cache)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUCIO_", "BEARER_TOKEN", "X509_"))}
        env.update(
            RUCIO_CONFIG=str(self.work / "rucio.cfg"),
            PYTHONPATH=str(self.work / "policy"),
            TMPDIR=str(self.work / "tmp"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.pop("VIRTUAL_ENV", None)
        return env

    def log_tail(self, lines: int = 30) -> str:
        path = self.work / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def start(self) -> RucioServer:
        begin = time.monotonic()
        ensure_server_venv(self.venv)
        self.timings["venv"] = time.monotonic() - begin
        python = self.venv / "bin" / "python"
        listener = _free_socket()
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._write_files()
        step = time.monotonic()
        with open(self.work / "server.log", "wb") as log:
            self.process = subprocess.Popen(
                [str(python), str(self.work / "serve.py"), str(listener.fileno())],
                cwd=self.work,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
            )
        listener.close()  # the server holds its own copy; connections queue in the backlog meanwhile
        try:
            self._wait_for_ping(timeout=60)
            self.timings["bootstrap_and_start"] = time.monotonic() - step
            step = time.monotonic()
            self._seed()
            self.timings["seed"] = time.monotonic() - step
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - begin
        return self

    def _write_files(self) -> None:
        for folder in ("log", "tmp", "policy/rucio_test_policy"):
            (self.work / folder).mkdir(parents=True, exist_ok=True)
        values = dict(work=self.work, venv=self.venv, url=self.url, root_password=self.root_password)
        (self.work / "rucio.cfg").write_text(RUCIO_CFG.format(**values))
        (self.work / "alembic.ini").write_text(ALEMBIC_INI.replace("{work}", str(self.work)))
        package = self.work / "policy" / "rucio_test_policy"
        (package / "__init__.py").write_text('"""Policy package of the hfpanel test server."""\n')
        (package / "schema.py").write_text(POLICY_SCHEMA)
        (package / "permission.py").write_text("from rucio.core.permission.generic import *  # noqa: F401,F403\n")
        (self.work / "serve.py").write_text(SERVE_PY)
        (self.work / "seed.py").write_text(SEED_PY)

    def _wait_for_ping(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RucioServerError(
                    f"the Rucio server exited with {self.process.returncode} during start-up; "
                    f"server.log:\n{self.log_tail()}"
                )
            try:
                with opener.open(self.url + "/ping", timeout=2) as answer:
                    if answer.status == 200 and "version" in json.loads(answer.read()):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RucioServerError(
            f"the Rucio server did not answer /ping within {timeout:.0f}s; server.log:\n{self.log_tail()}"
        )

    def _seed(self) -> None:
        plan = {
            "account": self.account,
            "username": self.username,
            "password": self.password,
            "rules": RULES,
            "errors": STUCK_ERRORS,
        }
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), str(self.work / "seed.py"), json.dumps(plan)],
            cwd=self.work,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RucioServerError(
                f"seeding the Rucio server failed:\n{result.stderr[-3000:]}\nserver.log:\n{self.log_tail()}"
            )
        self.seeded = json.loads(result.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        """SIGTERM the server by its PID and reap it (a killed child left unwaited stays a zombie)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RucioServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def rucio_server(tmp_path_factory):
    """Pytest fixture body: ``rucio_server = pytest.fixture(scope="session")(rucio_server.rucio_server)``."""
    import pytest

    try:
        server = RucioServer(tmp_path_factory.mktemp("rucio-server")).start()
    except RucioServerError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # a server to poke at by hand: python tests/rucio_server.py [workdir]
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # SIGTERM stops the server too, like Ctrl-C
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hfpanel-rucio-server")
    shutil.rmtree(folder, ignore_errors=True)
    with RucioServer(folder) as running:
        print(
            json.dumps(
                {
                    "url": running.url,
                    "account": running.account,
                    "username": running.username,
                    "password": running.password,
                    "timings": running.timings,
                    "rules": running.seeded,
                },
                indent=1,
            )
        )
        print("Ctrl-C stops it", file=sys.stderr)
        try:
            while running.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
