"""Run ``hfpanel`` in a process that SIGKILLs itself at the one moment exactly-once is about: the
flusher's Nth batch is committed to the store, and its spool checkpoint is not yet moved.

``run(argv, n)`` waits for that process; ``start(argv, n, log)`` returns the ``Popen`` (stdout and
stderr into ``log``). The hook wraps ``Spool.commit`` (called right after the store commit) in the
child only: nothing in hfpanel itself knows about it.
"""

from __future__ import annotations

import os
import subprocess
import sys

HOOK = """
import os, signal, sys
from hfpanel.ingest.spool import Spool
from hfpanel.cli import main
calls, commit = [0], Spool.commit
def killing_commit(self, position, counts):
    calls[0] += 1
    if calls[0] == int(os.environ["HFPANEL_TEST_KILL_AT_CHECKPOINT"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return commit(self, position, counts)
Spool.commit = killing_commit
sys.exit(main(sys.argv[1:]))
"""


def _command(argv, n):
    return [sys.executable, "-c", HOOK, *map(str, argv)], {**os.environ, "HFPANEL_TEST_KILL_AT_CHECKPOINT": str(n)}


def run(argv, n: int, timeout: float = 120) -> subprocess.CompletedProcess:
    command, env = _command(argv, n)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def start(argv, n: int, log) -> subprocess.Popen:
    command, env = _command(argv, n)
    with open(log, "w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
