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

import param

from hfpanel import opensearch
from hfpanel.collector import Collector, ParseResult
from hfpanel.process import first_line, load_payload, run
from hfpanel.tabular import TableSelection, check_path, json_table, load_json

EXIT_CODE_RATING = {"type": "map", "metric": "exit_code", "map": {0: 1.0, 1: 0.5, 2: 0.0, 3: -1}, "default": -1}


class CommandCollector(Collector, TableSelection):
    """Run a command; read JSON from its stdout, or rate its exit code like Nagios does."""

    payload_suffix = "json"
    metric_paths = True

    argv = param.List(
        default=[],
        item_type=str,
        doc=("Program and arguments, e.g. ['/usr/lib64/nagios/plugins/check_disk', '-w', '10%']; no shell."),
    )
    output = param.Selector(
        default="json",
        objects=["json", "exit_code"],
        doc=("How to read the result: 'json' (stdout is JSON) or 'exit_code' (Nagios plugin convention)."),
    )
    env = param.Dict(default={}, doc="Environment variables added to hfpanel's own environment.")
    cwd = param.String(default=None, allow_None=True, doc="Working directory (default: hfpanel's).")
    rows = param.String(
        default=None,
        allow_None=True,
        doc=("output json: path to the records in stdout, as for http_json ('.' for a top-level list)."),
    )

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
        check_path(self.rows, "rows")

    def fetch(self) -> bytes:
        # process handling (no shell, timeout kills the process group, output caps) lives in hfpanel.process
        return run(self.argv, timeout=self.timeout, max_bytes=self.max_bytes, env=self.env, cwd=self.cwd).to_payload()

    def parse(self, payload: bytes) -> ParseResult:
        record = load_payload(payload)
        if self.output == "exit_code":
            message = first_line(record.stdout).partition("|")[0].strip()  # drop Nagios perfdata
            return ParseResult(
                metrics={"exit_code": float(record.returncode)},
                message=message or f"no output (exit code {record.returncode})",
            )
        doc = load_json(record.checked_stdout(self.max_bytes).encode("utf-8"))
        missing, expected = opensearch.answer_gaps(doc)  # a search answer printed by a script
        return self.finish(json_table(doc, self.rows), doc, missing=missing, expected=expected)
