"""``hammercloud`` and ``hammercloud_monit``: HammerCloud functional-test jobs per site, as an efficiency.

HammerCloud sends each site real analysis jobs all day: the share that succeed is the site's health as
users feel it. ATLAS reads them from HammerCloud's ``xhr/json`` API, CMS from MONIT's condor records; both
give tables ``results`` and ``sites`` (job counts, efficiency = completed / (completed + failed)) and metrics
``efficiency``, ``efficiency_min`` (the worst site, which the default rating judges), ``completed``,
``failed``. Nothing finished is no information (NaN), not an error; killed jobs (HC at test end,
condor_rm, proxy expiry) are not the site's fault and do not count; nor does a job whose outcome is
unknown (``unknown``: a finished condor record with a null exit code, an odd ganga status). A test
that fails to answer, and a job record that cannot be read, are missing and named; the rest is rated
(``hfpanel.rating.partial``).
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import param

from hfpanel.collector import Missing, ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.monit import MonitCollector, any_of, msearch_hits, typed
from hfpanel.tabular import json_path, kind_of, load_json, records_to_frame
from hfpanel.units import plural

STATES = ("submitted", "running", "completed", "failed", "killed", "unknown")
GANGA = {"s": "submitted", "r": "running", "c": "completed", "f": "failed", "k": "killed"}
RATING = {"type": "threshold", "metric": "efficiency_min", "warning": 0.8, "critical": 0.5}
_PY_LITERALS = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|\b(None|True|False)\b')  # a JSON string, or a Python literal
_JSON = {"None": "null", "True": "true", "False": "false"}
WORKFLOW = re.compile(r"^\d+_\d+:\w+_crab_HC-(\d+)-(T\d_[A-Z]{2}_\w+)-\d+-\d+$")
IGNORED_REMOVALS = ("condor_rm", "python-initiated action", "due to proxy expiration")
XHR_COLUMNS = ["id", "site", "ganga_status", "submit_time", "start_time", "stop_time", "backendID"]
CONDOR_FIELDS = (("GlobalJobId", str), ("Status", str), ("RecordTime", (int, float)))
CONDOR = {"Idle": "submitted", "Held": "submitted", "Running": "running", "Transferring Output": "running"}


def exit_code(data: dict, where: str) -> float | None:
    """The job's exit code: CRAB's own (``Chirp_CRAB3_Job_ExitCode``), else condor's ``ExitCode`` --
    the first that is not null, as eval_hc.py scores. None when neither is known: such a job is
    neither a success nor a failure (``unknown``). A code that is not a number names itself."""
    for key in ("Chirp_CRAB3_Job_ExitCode", "ExitCode"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SourceError(f"{where}.{key}: {kind_of(value)}, expected a number")
        return value
    return None


def json_literals(text: str) -> str:
    """Python-repr ``None``/``True``/``False`` outside strings become JSON (same length: error positions hold)."""
    if not re.search(r"\b(?:None|True|False)\b", text):
        return text  # the usual case: plain JSON
    return _PY_LITERALS.sub(lambda m: m.group(1) or _JSON[m.group(2)], text)


def summarise(results: pd.DataFrame) -> ParseResult:
    """The ``sites`` table, the metrics and a message from a ``results`` table with ``site`` and ``status``."""
    state = results["status"].where(results["status"].isin(STATES), "unknown")  # "unknown (x)": an odd ganga status
    sites = results.groupby([results["site"], state]).size().unstack(fill_value=0)
    sites = sites.reindex(columns=list(STATES), fill_value=0)
    sites["efficiency"] = sites["completed"] / (sites["completed"] + sites["failed"]).replace(0, math.nan)
    sites = sites.rename_axis(columns=None).reset_index().sort_values(["efficiency", "site"], ignore_index=True)
    metrics = {state: float(sites[state].sum()) for state in STATES}
    done = metrics["completed"] + metrics["failed"]
    metrics["efficiency"] = metrics["completed"] / done if done else math.nan
    metrics["efficiency_min"] = float(sites["efficiency"].min()) if done else math.nan
    w = sites.iloc[0] if done else None  # the worst site: sorted by efficiency
    message = (
        f"worst site {w.site}: {w.completed} of {w.completed + w.failed} finished jobs succeeded"
        if done
        else f"no finished jobs ({len(results)} in the answer)"
    )
    failing = sites["site"][sites["failed"] > 0]  # what rules can match: the sites with failed jobs
    return ParseResult(
        tables={"results": results, "sites": sites}, metrics=metrics, message=message, labels={"hc_site": list(failing)}
    )


class HammerCloudCollector(HttpCollector):
    """Sub-jobs of HammerCloud tests from ``<url>/hc/app/<app>/xhr/json/?action=results&test=<id>``."""

    default_instruction = (
        "HammerCloud jobs failing at a site mean user analysis fails there too: look at the failed "
        "jobs' logs in HammerCloud, compare with the SAM and storage modules, and open a GGUS ticket "
        "to the site if the fault is the site's and no downtime is declared."
    )

    payload_suffix, accept, default_rating = "json", "application/json", RATING
    url = param.String(default="", doc="HammerCloud base URL, e.g. https://hammercloud.cern.ch")
    app = param.String(default="cms", regex=r"^[a-z]+$", doc="HammerCloud application: atlas, cms, ...")
    tests = param.List(default=[], doc="HammerCloud test ids, e.g. [20451137].")
    sites = param.List(default=[], item_type=str, doc="Only these sites (HC site or PanDA queue names).")

    def __init__(self, **params):
        super().__init__(**params)
        if not self.tests or not all(str(t).isdigit() for t in self.tests):
            raise ValueError(f"tests: give one or more numeric HammerCloud test ids, got {self.tests!r}")

    def fetch(self) -> bytes:
        """One payload: a JSON list of ``{"test", "body"}`` with each raw answer (quirks and all) as
        text; a test whose request fails is ``{"test", "error"}`` (that test is missing, the others
        are rated) -- except a refused credential, which fails the module."""
        answers = []
        for test in self.tests:
            url = f"{self.url.rstrip('/')}/hc/app/{self.app}/xhr/json/?action=results&test={test}" if self.url else ""
            with self.param.update(url=url, method="GET", body=None):
                try:
                    answers.append({"test": str(test), "body": self.http_fetch().decode("utf-8", "replace")})
                except SourceError as error:
                    if not url or str(error).startswith(("HTTP 401", "HTTP 403")):
                        raise SourceError(f"test {test}: {error}") from None
                    answers.append({"test": str(test), "error": str(error).replace(f" from {url}", "")})
        return json.dumps(answers).encode()

    def parse(self, payload: bytes) -> ParseResult:
        """Accepts fetch()'s list or one raw xhr/json answer (e.g. a fixture). A test that failed or
        answered with an error, and a job record that cannot be read, are missing and named; the rest
        is rated. Nothing readable at all is the source failing."""
        envelope = payload.lstrip()[:1] == b"["
        answers = load_json(payload) if envelope else [{"test": None, "body": payload.decode("utf-8", "replace")}]
        if not all(isinstance(a, dict) and isinstance(a.get("body", a.get("error")), str) for a in answers):
            raise SourceError("expected HammerCloud answers (an object keyed by test id), got a list")
        frames, missing, jobs, failures = [], [], 0, []
        for answer in answers:
            try:
                if "body" not in answer:
                    raise SourceError(answer["error"])
                doc = load_json(json_literals(answer["body"]).encode())
                if not isinstance(doc, dict) or "error" in doc:
                    raise SourceError(f"HammerCloud: {doc.get('error') if isinstance(doc, dict) else 'not an object'}")
                for test in doc:
                    if not test.isdigit():
                        raise SourceError(f"unexpected key {test[:40]!r} (expected HammerCloud test ids)")
                    records = json_path(doc, f"{test}.results")
                    frame, gaps = self._frame(test, records)
                    frames.append(frame)
                    missing += gaps
                    jobs += len(records)
            except SourceError as error:
                if answer["test"] is None:
                    raise
                failures.append(f"test {answer['test']}: {error}")
                missing.append(Missing("test", answer["test"], str(error)))
        if failures and len(failures) == len(answers):
            more = (
                f" (and {len(failures) - 1} more {plural(len(failures) - 1, 'test')} failed)"
                if len(failures) > 1
                else ""
            )
            raise SourceError(failures[0] + more)
        if jobs and not any(len(frame) for frame in frames):  # every job record unreadable: not an answer
            raise SourceError(next(m for m in missing if m.what == "job").reason)
        results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site", "status"])
        result = summarise(results[results["site"].isin(self.sites)] if self.sites else results)
        expected = {"job": jobs} | ({"test": len(answers)} if envelope else {})
        return result.with_missing(missing, {k: v for k, v in expected.items() if v})

    @staticmethod
    def _frame(test: str, records) -> tuple[pd.DataFrame, list[Missing]]:
        """The readable job records of one test, and the unreadable ones (named by their path)."""
        if not isinstance(records, list):
            records_to_frame(records, f"{test}.results")  # raises, naming what the path holds
        good, missing = [], []
        for i, record in enumerate(records):
            where = f"{test}.results.{i}"
            try:
                if not isinstance(record, dict):
                    raise SourceError(f"{where}: {kind_of(record)}, expected an object")
                for key, kind in (("id", int), ("site", str), ("ganga_status", str)):
                    typed(record, key, kind, where)
                for key in ("submit_time", "start_time", "stop_time"):
                    value = record.get(key)
                    if value is not None and (
                        not isinstance(value, str | int | float)
                        or pd.isna(pd.to_datetime(value, errors="coerce", format="ISO8601"))
                    ):
                        raise SourceError(f"{where}.{key}: not a time: {value!r}")
            except SourceError as error:
                missing.append(Missing("job", where, str(error).removeprefix(f"{where}.").removeprefix(f"{where}: ")))
            else:
                good.append(record)
        frame = records_to_frame(good, f"{test}.results").reindex(columns=XHR_COLUMNS)  # absent: NaN
        out = pd.DataFrame(
            {
                "test_id": int(test),
                "id": frame["id"],
                "site": frame["site"],
                "status": frame["ganga_status"].map(lambda s: GANGA.get(s, f"unknown ({s})")),
            }
        )
        for key in ("submit_time", "start_time", "stop_time"):
            out[key] = pd.to_datetime(frame[key], errors="coerce", format="ISO8601")
        out["backend_id"] = frame["backendID"].astype("string")
        out["duration"] = (out["stop_time"] - out["start_time"]).dt.total_seconds()
        return out, missing


class HammerCloudMonitCollector(MonitCollector):
    """CMS: HammerCloud CRAB jobs in MONIT's condor records (``CRAB_Workflow`` names template and site)."""

    default_instruction = HammerCloudCollector.default_instruction
    default_rating, time_field = RATING, "data.RecordTime"
    sort = [{"data.RecordTime": "asc"}, {"data.GlobalJobId": {"order": "asc", "unmapped_type": "keyword"}}]
    source_fields = [
        f"data.{f}"
        for f in (
            "GlobalJobId",
            "Status",
            "RecordTime",
            "CRAB_Workflow",
            "RemoveReason",
            "Chirp_CRAB3_Job_ExitCode",
            "ExitCode",
        )
    ]  # condor records hold hundreds
    datasource_id, index, window = (
        8787,
        "monit_prod_condor_raw_metric*",
        "4h",
    )  # new defaults of MonitCollector's params
    templates = param.List(default=[], doc="Only these HammerCloud template ids, e.g. [98].")
    sites = param.List(default=[], item_type=str, doc="Only these CMS sites, e.g. [T2_DE_DESY].")

    def query_string(self) -> str:
        ids = [f"{int(t)}\\-" for t in self.templates] or [""]  # '-' is an operator in query_string
        terms = ["(" + " OR ".join("data.CRAB_Workflow:*_crab_HC\\-" + t + "*" for t in ids) + ")"]
        return " AND ".join(terms + ([any_of("data.Site", self.sites)] if self.sites else []))

    def parse(self, payload: bytes) -> ParseResult:
        """The latest record of every HammerCloud job; an unreadable record is that record missing
        (named by its path), failed shards and a server-side timeout are missing too."""
        rows, missing, found = [], [], msearch_hits(payload)
        for where, hits in found:
            for i, hit in enumerate(hits):
                try:
                    row = self._row(hit, f"{where}.{i}")
                except SourceError as error:
                    missing.append(Missing("record", f"{where}.{i}", str(error).removeprefix(f"{where}.{i}.")))
                    continue
                if row is not None:
                    rows.append(row)
        if missing and not rows:
            raise SourceError(f"{missing[0].key}.{missing[0].reason}")
        results = pd.DataFrame.from_records(
            rows, columns=["template", "job", "site", "status", "exit_code", "remove_reason", "time", "workflow"]
        )
        keep = results["site"].isin(self.sites or results["site"])  # an empty filter keeps all
        results = results[keep & results["template"].isin([int(t) for t in self.templates] or results["template"])]
        results = results.sort_values("time", kind="stable").drop_duplicates("job", keep="last")  # latest record
        result = summarise(results.assign(time=pd.to_datetime(results["time"], unit="s")).reset_index(drop=True))
        total = sum(len(hits) for _, hits in found)
        return result.with_missing(
            [*found.missing, *missing], {**found.expected, **({"record": total} if total else {})}
        )

    @staticmethod
    def _row(hit, where: str) -> tuple | None:
        """One condor record as a results row (None: not a HammerCloud job); SourceError names what is wrong."""
        data = typed(typed(hit, "_source", dict, where), "data", dict, f"{where}._source")
        workflow = data.get("CRAB_Workflow")  # text when present: a mistyped one is an error, not skipped
        at = f"{where}._source.data"
        if not (match := workflow is not None and WORKFLOW.match(typed(data, "CRAB_Workflow", str, at))):
            return None  # not a HammerCloud job
        job, state, when = (typed(data, key, kind, at) for key, kind in CONDOR_FIELDS)
        code = exit_code(data, at)
        reason = str(data.get("RemoveReason") or "")
        status = (
            ("unknown" if code is None else "completed" if code == 0 else "failed")
            if state == "Completed"
            else ("killed" if any(w in reason for w in IGNORED_REMOVALS) else "failed")
            if state == "Removed"
            else CONDOR.get(state, "submitted")
        )
        return (int(match.group(1)), job, match.group(2), status, code, reason, when, workflow)
