"""``htcondor_jobs`` / ``htcondor_slots``: the batch system as a shifter sees it.

Held jobs show a CE's trouble first (a full spool disk, a broken proxy, memory limits), long before
SAM tests turn red; free and drained cores tell whether the farm can take work. Both read what
``condor_q -json`` / ``condor_status -json`` print, from exactly one source: ``argv`` runs the command
(no shell, killed at the timeout, see :mod:`hfpanel.process`; e.g. ``[condor_q, -allusers, -json,
-attributes, "ClusterId,ProcId,JobStatus,..."]``) or ``url`` reads a saved listing (http(s), ``file://``).
The archived payload is condor's JSON either way. Empty output and ``[]`` are an empty queue;
``"\\/Expr(...)\\/"`` expressions (a computed ``RequestMemory``) stay text. ``htcondor_slots`` has no
default rating: the right number of free cores depends on demand, and a full farm is the healthy case.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import param

from hfpanel.collector import ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.process import run
from hfpanel.tabular import kind_of, load_json

STATUS = {1: "Idle", 2: "Running", 3: "Removed", 4: "Completed", 5: "Held", 6: "Transferring Output", 7: "Suspended"}
_INT, _NUMBER = (int,), (int, float)


def read_ads(payload: bytes, what: str) -> list[dict]:
    """The ClassAds of a ``-json`` listing; an empty output is an empty list."""
    if not payload or payload.isspace():  # no copy of a 100 MB listing
        return []
    doc = load_json(payload)
    if not isinstance(doc, list):
        raise SourceError(f"expected a JSON list of {what} ClassAds, got {kind_of(doc)}")
    for number, ad in enumerate(doc, 1):
        if not isinstance(ad, dict):
            raise SourceError(f"{what} ClassAd #{number} is {kind_of(ad)}, not an object")
    return doc


def values(ads: list[dict], key: str, what: str, types: tuple = (), required: bool = False) -> list:
    """One attribute of every ad; a missing required one or a value of the wrong type is an error."""
    column = [ad.get(key) for ad in ads]
    if required or types:
        for number, value in enumerate(column, 1):
            if value is None and required:
                raise SourceError(f"{what} ClassAd #{number} has no {key} (left out by -attributes?)")
            if value is not None and types and (type(value) not in types):
                raise SourceError(f"{what} ClassAd #{number}: {key} is {kind_of(value)}, expected a number")
    return column


class _CondorCollector(HttpCollector):
    payload_suffix = "json"
    accept = "application/json"

    argv = param.List(
        default=[],
        item_type=str,
        doc=("Command printing the JSON, e.g. ['condor_q', '-allusers', '-json']; no shell. Give argv or url."),
    )

    def __init__(self, **params):
        super().__init__(**params)
        if bool(self.argv) == bool(self.url):
            raise ValueError("give exactly one source: argv (run the command) or url (the saved JSON)")

    def fetch(self) -> bytes:
        if not self.argv:
            return self.http_fetch()
        done = run(self.argv, timeout=self.timeout, max_bytes=self.max_bytes)
        return done.checked_stdout(self.max_bytes).encode("utf-8")


class CondorJobsCollector(_CondorCollector):
    """Jobs of ``condor_q -json``: tables ``jobs``, ``held``, ``hold_reasons``; held fraction rated."""

    default_instruction = (
        "Many held jobs: read the most common hold reason in the table (memory limit, input transfer, "
        "proxy); a site-side cause (full disk, broken worker node, CE problem) goes to the batch "
        "admins; release or remove the jobs once fixed."
    )

    default_rating = {"type": "threshold", "metric": "held_fraction", "warning": 0.05, "critical": 0.2}
    event_keys = {"hold_reasons": ["hold_code"]}  # a new hold reason is a new error

    def parse(self, payload: bytes) -> ParseResult:
        ads = read_ads(payload, "job")
        get = lambda key, types=(), required=False: values(ads, key, "job", types, required)  # noqa: E731
        cluster, proc = get("ClusterId", _INT, True), get("ProcId", _INT, True)
        codes = get("JobStatus", _INT, True)
        jobs = pd.DataFrame(
            {
                "job_id": [f"{c}.{p}" for c, p in zip(cluster, proc)],
                "schedd": [g.split("#", 1)[0] if isinstance(g, str) else None for g in get("GlobalJobId")],
                "owner": get("Owner"),
                "vo": get("x509UserProxyVOName"),
                "status": [STATUS.get(code, f"unknown ({code})") for code in codes],
                "since": pd.to_datetime(
                    pd.Series(get("EnteredCurrentStatus", _NUMBER), dtype="float64"), unit="s"
                ).astype("datetime64[us]"),  # naive UTC
                "hold_code": pd.array(get("HoldReasonCode", _INT), dtype="Int64"),
                "hold_subcode": pd.array(get("HoldReasonSubCode", _INT), dtype="Int64"),
                "hold_reason": get("HoldReason"),
                "request_cpus": get("RequestCpus"),
                "request_memory_mb": get("RequestMemory"),
                "remote_host": get("RemoteHost"),
            }
        )
        held = (
            jobs[jobs["status"] == "Held"]
            .drop(columns=["status", "request_cpus", "request_memory_mb", "remote_host"])
            .reset_index(drop=True)
        )
        reasons = (
            held.groupby("hold_code", dropna=False, sort=False)
            .agg(jobs=("job_id", "size"), reason=("hold_reason", "first"))
            .reset_index()
            .sort_values(["jobs", "hold_code"], ascending=[False, True], ignore_index=True)
        )
        count = Counter(codes)
        total, n_held = len(codes), count[5]
        metrics = {
            "idle": count[1],
            "running": count[2],
            "held": n_held,
            "total": total,
            "held_fraction": n_held / total if total else 0.0,
        }
        message = f"{n_held} of {total} jobs held"
        if n_held:
            top = reasons.iloc[0]
            code = "no code" if pd.isna(top["hold_code"]) else f"code {top['hold_code']}"
            message += f"; most often {code} ({top['jobs']}x): {str(top['reason'])[:120]}"
        return ParseResult(
            tables={"jobs": jobs, "held": held, "hold_reasons": reasons},
            metrics={k: float(v) for k, v in metrics.items()},
            message=message,
        )


class CondorSlotsCollector(_CondorCollector):
    """Slots of ``condor_status -json``: table ``slots``; cores total/used/free, drained and owner slots."""

    def parse(self, payload: bytes) -> ParseResult:
        ads = read_ads(payload, "slot")
        get = lambda key, types=(), required=False: values(ads, key, "slot", types, required)  # noqa: E731
        kinds = [
            kind or ("Partitionable" if p else "Static") for kind, p in zip(get("SlotType"), get("PartitionableSlot"))
        ]
        slots = pd.DataFrame(
            {
                "name": get("Name", required=True),
                "machine": get("Machine"),
                "state": get("State"),
                "activity": get("Activity"),
                "slot_type": kinds,
                "cpus": pd.array(get("Cpus", _NUMBER, True), dtype="Float64"),
                "total_slot_cpus": pd.array(get("TotalSlotCpus", _NUMBER), dtype="Float64"),
                "memory_mb": pd.array(get("Memory", _NUMBER), dtype="Float64"),
                "remote_owner": get("RemoteOwner"),
                "job_id": get("JobId"),
            }
        )
        kind, state, cpus = slots["slot_type"], slots["state"], slots["cpus"]
        pslot, dslot = kind == "Partitionable", kind == "Dynamic"
        static = ~pslot & ~dslot
        unclaimed = (state == "Unclaimed") & (pslot | static)
        total = slots["total_slot_cpus"].fillna(cpus)[pslot].sum() + cpus[static].sum()
        used = cpus[dslot].sum() + cpus[static & (state == "Claimed")].sum()
        free = cpus[unclaimed].sum()
        metrics = {
            "cores_total": total,
            "cores_used": used,
            "cores_free": free,
            "free_fraction": free / total if total else float("nan"),
            "slots_drained": (state == "Drained").sum(),
            "slots_owner": (state == "Owner").sum(),
        }
        metrics = {k: float(v) for k, v in metrics.items()}
        message = f"{used:g} of {total:g} cores used, {free:g} free"
        return ParseResult(tables={"slots": slots}, metrics=metrics, message=message)
