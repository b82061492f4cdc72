"""Running a local program as a source: the one place that starts processes for collectors.

Batch system clients (``condor_q -json``), Nagios plugins and site scripts are sources too. They
fail in their own ways: not installed, not executable, hanging on a dead schedd, printing a
runaway document, exiting non-zero with the reason on stderr. :func:`run` handles each once, so
the ``command`` collector and source-specific ones (HTCondor) give the same one-line reasons:

* no shell: ``argv`` is a list, so nothing in the configuration is interpreted by a shell;
* the timeout kills the whole process group (``condor_q`` wrappers that fork, ``ssh`` chains);
* stdout is capped at ``max_bytes`` (``truncated`` says so), stderr at 100 kB; both are spooled
  to temporary files, so a chatty program never blocks on a full pipe.

:class:`Completed` is what happened; it round-trips through JSON (:meth:`Completed.to_payload`,
:func:`load_payload`) so a failure can be archived and re-read like any other payload.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import tempfile

from hfpanel.collector import SourceError
from hfpanel.units import format_bytes

__all__ = ["Completed", "first_line", "load_payload", "run"]

STDERR_CAP = 100_000


def first_line(text: str) -> str:
    """The first non-blank line, stripped (the reason a failing program gives)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclasses.dataclass
class Completed:
    """A finished command: exit code (negative: killed by that signal) and its decoded output."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    truncated: bool = False

    def to_payload(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False).encode("utf-8")

    def checked_stdout(self, max_bytes: int) -> str:
        """stdout of a successful run; ``SourceError`` with the program's own reason otherwise."""
        if self.returncode < 0:
            raise SourceError(f"command killed by signal {-self.returncode}")
        if self.returncode != 0:
            why = first_line(self.stderr) or first_line(self.stdout) or "no output"
            raise SourceError(f"command exited {self.returncode}: {why}")
        if self.truncated:
            raise SourceError(f"command output larger than the {format_bytes(max_bytes)} limit")
        return self.stdout


def load_payload(payload: bytes) -> Completed:
    """The :class:`Completed` archived by :meth:`Completed.to_payload`."""
    try:
        record = json.loads(payload)
        return Completed(
            list(record.get("argv") or []),
            int(record["returncode"]),
            str(record["stdout"]),
            str(record["stderr"]),
            bool(record.get("truncated")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SourceError("not a command payload (expected the JSON written by fetch())") from None


def _read(handle, limit: int) -> tuple[str, bool]:
    handle.seek(0)
    data = handle.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) > limit


def run(
    argv: list[str], *, timeout: float, max_bytes: int, env: dict | None = None, cwd: str | None = None
) -> Completed:
    """Run ``argv`` (no shell, stdin closed) with ``env`` added to ours; ``SourceError`` when it
    cannot start or outlives ``timeout`` (then its whole process group is killed)."""
    if not argv:
        raise SourceError("no command configured (argv is empty)")
    program = argv[0]
    if cwd and not os.path.isdir(cwd):
        raise SourceError(f"working directory not found: {cwd}")
    environment = {**os.environ, **{str(k): str(v) for k, v in (env or {}).items()}}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=environment,
                cwd=cwd or None,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise SourceError(f"command not found: {program}") from None
        except PermissionError:
            raise SourceError(f"command not executable: {program}") from None
        except OSError as exc:
            raise SourceError(f"cannot run {program}: {exc.strerror or exc}") from None
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # its children too
            except ProcessLookupError:
                pass
            process.wait()
            raise SourceError(f"command timed out after {timeout:g}s: {program}") from None
        stdout, truncated = _read(out, max_bytes)
        stderr, _ = _read(err, min(max_bytes, STDERR_CAP))
    return Completed(list(argv), returncode, stdout, stderr, truncated)
