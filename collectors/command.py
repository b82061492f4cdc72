"""``command``: a local program as a source (Nagios plugins, ``condor_q -json``, site scripts).

Much of what a site knows is only reachable by running something: a Nagios/Icinga plugin, a batch
system client, a home-made check. The command runs without a shell (``argv`` is a list), with the
module's timeout (the whole process group is killed when it expires) and output capped at
``max_bytes``. ``fetch()`` archives what happened as JSON ``{"argv", "returncode", "stdout",
"stderr", "truncated"}``, so a failure can be re-read later like any other payload.

``output: json`` -- stdout is a JSON document, selected exactly like ``http_json`` (``rows``,
``where``, ``columns``, ``metrics``); a non-zero exit is a failure with the first stderr line.

``output: exit_code`` -- the Nagios plugin convention: metric ``exit_code`` (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN) rated by the default map, message = first stdout line without perfdata.

(The mode is called ``output``, not ``parse``: a param named ``parse`` would hide ``parse()``.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile

import param

from hfpanel.collector import Collector, ParseResult, SourceError
from hfpanel.http import format_bytes
from hfpanel.tabular import TableSelection, json_table, load_json

EXIT_CODE_RATING = {"type": "map", "metric": "exit_code", "map": {0: 1.0, 1: 0.5, 2: 0.0, 3: -1}, "default": -1}
_STDERR_CAP = 100_000


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _read(handle, limit: int) -> tuple[str, bool]:
    handle.seek(0)
    data = handle.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) > limit


class CommandCollector(Collector, TableSelection):
    """Run a command; read JSON from its stdout, or rate its exit code like Nagios does."""

    payload_suffix = "json"
    metric_paths = True

    argv = param.List(default=[], item_type=str, doc=(
        "Program and arguments, e.g. ['/usr/lib64/nagios/plugins/check_disk', '-w', '10%']; no shell."))
    output = param.Selector(default="json", objects=["json", "exit_code"], doc=(
        "How to read the result: 'json' (stdout is JSON) or 'exit_code' (Nagios plugin convention)."))
    env = param.Dict(default={}, doc="Environment variables added to hfpanel's own environment.")
    cwd = param.String(default=None, allow_None=True, doc="Working directory (default: hfpanel's).")
    rows = param.String(default=None, allow_None=True, doc=(
        "output json: path to the records in stdout, as for http_json ('.' for a top-level list)."))

    @property
    def default_rating(self) -> dict | None:
        return dict(EXIT_CODE_RATING) if self.output == "exit_code" else None

    def source_url(self) -> str | None:
        return None

    def has_rows(self) -> bool:
        return self.output == "json" and self.rows is not None

    def check_selection(self) -> None:
        if self.output == "exit_code" and (self.rows is not None or self.metrics):
            raise ValueError("rows, where, columns and metrics apply to output: json only")
        super().check_selection()

    def fetch(self) -> bytes:
        if not self.argv:
            raise SourceError("no command configured (argv is empty)")
        program = self.argv[0]
        if self.cwd and not os.path.isdir(self.cwd):
            raise SourceError(f"working directory not found: {self.cwd}")
        env = {**os.environ, **{str(k): str(v) for k, v in (self.env or {}).items()}}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                           env=env, cwd=self.cwd or None, start_new_session=True)
            except FileNotFoundError:
                raise SourceError(f"command not found: {program}") from None
            except PermissionError:
                raise SourceError(f"command not executable: {program}") from None
            except OSError as exc:
                raise SourceError(f"cannot run {program}: {exc.strerror or exc}") from None
            try:
                returncode = process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # its children too
                except ProcessLookupError:
                    pass
                process.wait()
                raise SourceError(f"command timed out after {self.timeout:g}s: {program}") from None
            stdout, truncated = _read(out, self.max_bytes)
            stderr, _ = _read(err, min(self.max_bytes, _STDERR_CAP))
        record = {"argv": list(self.argv), "returncode": returncode, "stdout": stdout, "stderr": stderr,
                  "truncated": truncated}
        return json.dumps(record, ensure_ascii=False).encode("utf-8")

    def parse(self, payload: bytes) -> ParseResult:
        try:
            record = json.loads(payload)
            returncode, stdout, stderr = int(record["returncode"]), record["stdout"], record["stderr"]
        except (ValueError, KeyError, TypeError):
            raise SourceError("not a command payload (expected the JSON written by fetch())") from None
        if self.output == "exit_code":
            message = _first_line(stdout).partition("|")[0].strip()  # drop Nagios perfdata
            return ParseResult(metrics={"exit_code": float(returncode)},
                               message=message or f"no output (exit code {returncode})")
        if returncode < 0:
            raise SourceError(f"command killed by signal {-returncode}")
        if returncode != 0:
            why = _first_line(stderr) or _first_line(stdout) or "no output"
            raise SourceError(f"command exited {returncode}: {why}")
        if record.get("truncated"):
            raise SourceError(f"command output larger than the {format_bytes(self.max_bytes)} limit")
        doc = load_json(stdout.encode("utf-8"))
        return self.finish(json_table(doc, self.rows), doc)
