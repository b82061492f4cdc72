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

from hfpanel.collector import Missing, ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.process import run
from hfpanel.tabular import kind_of, load_json

STATUS = {1: "Idle", 2: "Running", 3: "Removed", 4: "Completed", 5: "Held", 6: "Transferring Output", 7: "Suspended"}
#: the metric of each JobStatus; Removed and Completed jobs are leaving the queue, the rest are in it
STATUS_METRICS = {
    1: "idle",
    2: "running",
    3: "removed",
    4: "completed",
    5: "held",
    6: "transferring_output",
    7: "suspended",
}
LEAVING = (3, 4)
_INT, _NUMBER = (int,), (int, float)
JOB_CHECKS = (
    ("ClusterId", _INT, True),
    ("ProcId", _INT, True),
    ("JobStatus", _INT, True),
    ("EnteredCurrentStatus", _NUMBER, False),
    ("HoldReasonCode", _INT, False),
    ("HoldReasonSubCode", _INT, False),
)
SLOT_CHECKS = (
    ("Name", (str,), True),
    ("Cpus", _NUMBER, False),
    ("TotalSlotCpus", _NUMBER, False),
    ("TotalCpus", _NUMBER, False),
    ("DetectedCpus", _NUMBER, False),
    ("Memory", _NUMBER, False),
)
#: where a partitionable slot's own core count is read, best first (Cpus is what is LEFT of it)
PSLOT_TOTALS = ("TotalSlotCpus", "TotalCpus", "DetectedCpus")


def read_ads(payload: bytes, what: str) -> list:
    """The ClassAds of a ``-json`` listing (each checked by :func:`usable`); an empty output is an empty list."""
    if not payload or payload.isspace():  # no copy of a 100 MB listing
        return []
    doc = load_json(payload)
    if not isinstance(doc, list):
        raise SourceError(f"expected a JSON list of {what} ClassAds, got {kind_of(doc)}")
    return doc


def _problem(ad, checks) -> str | None:
    """What is wrong with one ad, as "has no X (...)" or "X is ..., expected ...", or None."""
    if not isinstance(ad, dict):
        return f"is {kind_of(ad)}, not an object"
    for key, types, required in checks:
        value = ad.get(key)
        if value is None:
            if required:
                return f"has no {key} (left out by -attributes?)"
        elif type(value) not in types:
            return f"{key} is {kind_of(value)}, expected {'text' if types == (str,) else 'a number'}"
    return None


def usable(ads: list, checks, what: str, name, extra=None) -> tuple[list[dict], list[Missing]]:
    """The ads whose attributes hold what condor's format says, and each other ad as missing (named
    by ``name(ad)``, else its position): one odd ad costs that ad, not the listing. ``extra(ad)``
    may name a further problem. No usable ad at all (of some) is the source failing, as before."""
    good, missing, first = [], [], None
    for number, ad in enumerate(ads, 1):
        problem = _problem(ad, checks) or (extra(ad) if extra else None)
        if problem is None:
            good.append(ad)
            continue
        label = f"{what} ClassAd #{number}"
        first = first or f"{label}{'' if problem.startswith(('has', 'is ')) else ':'} {problem}"
        key = name(ad) if isinstance(ad, dict) else None
        missing.append(Missing(what, key or f"ClassAd #{number}", problem))
    if ads and not good:
        raise SourceError(first + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return good, missing


def values(ads: list[dict], key: str) -> list:
    """One attribute of every (checked) ad; absent is None."""
    return [ad.get(key) for ad in ads]


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
        listing = read_ads(payload, "job")
        ads, missing = usable(listing, JOB_CHECKS, "job", _job_id, _known_status)
        get = lambda key: values(ads, key)  # noqa: E731
        codes = get("JobStatus")
        jobs = pd.DataFrame(
            {
                "job_id": [_job_id(ad) for ad in ads],
                "schedd": [g.split("#", 1)[0] if isinstance(g, str) else None for g in get("GlobalJobId")],
                "owner": get("Owner"),
                "vo": get("x509UserProxyVOName"),
                "status": [STATUS[code] for code in codes],
                "since": pd.to_datetime(pd.Series(get("EnteredCurrentStatus"), dtype="float64"), unit="s").astype(
                    "datetime64[us]"
                ),  # naive UTC
                "hold_code": pd.array(get("HoldReasonCode"), dtype="Int64"),
                "hold_subcode": pd.array(get("HoldReasonSubCode"), dtype="Int64"),
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
        in_queue = total - sum(count[code] for code in LEAVING)  # removed and completed jobs are leaving
        metrics = {
            **{name: count[code] for code, name in STATUS_METRICS.items()},
            "total": total,
            "in_queue": in_queue,
            "held_fraction": n_held / in_queue if in_queue else 0.0,
        }
        message = f"{n_held} of {in_queue} jobs held"
        if n_held:
            top = reasons.iloc[0]
            code = "no code" if pd.isna(top["hold_code"]) else f"code {top['hold_code']}"
            message += f"; most often {code} ({top['jobs']}x): {str(top['reason'])[:120]}"
        return ParseResult(
            tables={"jobs": jobs, "held": held, "hold_reasons": reasons},
            metrics={k: float(v) for k, v in metrics.items()},
            message=message,
            missing=missing,
            expected={"job": len(listing)} if missing else {},
            labels={"hold_code": [str(c) for c in reasons["hold_code"].dropna()]},  # why jobs are held now
        )


def _job_id(ad: dict) -> str | None:
    cluster, proc = ad.get("ClusterId"), ad.get("ProcId")
    return f"{cluster}.{proc}" if type(cluster) is int and type(proc) is int else None


def _known_status(ad: dict) -> str | None:
    code = ad["JobStatus"]
    return None if code in STATUS else f"JobStatus {code} is none of 1-7 (Idle … Suspended)"


class CondorSlotsCollector(_CondorCollector):
    """Slots of ``condor_status -json``: table ``slots``; cores total/used/free, drained and owner slots."""

    def parse(self, payload: bytes) -> ParseResult:
        listing = read_ads(payload, "slot")
        ads, missing = usable(listing, SLOT_CHECKS, "slot", lambda ad: ad.get("Name"), _core_count_known)
        get = lambda key: values(ads, key)  # noqa: E731
        kinds = [kind for kind in map(_slot_type, ads)]
        slots = pd.DataFrame(
            {
                "name": get("Name"),
                "machine": get("Machine"),
                "state": get("State"),
                "activity": get("Activity"),
                "slot_type": kinds,
                "cpus": pd.array(get("Cpus"), dtype="Float64"),
                "total_slot_cpus": pd.array([_pslot_total(ad) for ad in ads], dtype="Float64"),
                "memory_mb": pd.array(get("Memory"), dtype="Float64"),
                "remote_owner": get("RemoteOwner"),
                "job_id": get("JobId"),
            }
        )
        kind, state, cpus = slots["slot_type"], slots["state"], slots["cpus"]
        pslot, dslot = kind == "Partitionable", kind == "Dynamic"
        static = ~pslot & ~dslot
        unclaimed = (state == "Unclaimed") & (pslot | static)
        total = slots["total_slot_cpus"][pslot].sum() + cpus[static].sum()
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
        return ParseResult(
            tables={"slots": slots},
            metrics=metrics,
            message=message,
            missing=missing,
            expected={"slot": len(listing)} if missing else {},
        )


def _slot_type(ad: dict) -> str:
    return ad.get("SlotType") or ("Partitionable" if ad.get("PartitionableSlot") else "Static")


def _pslot_total(ad: dict) -> float | None:
    """A partitionable slot's own cores: TotalSlotCpus, else the machine's (TotalCpus, DetectedCpus)."""
    if _slot_type(ad) != "Partitionable":
        return ad.get("TotalSlotCpus")
    return next((ad[key] for key in PSLOT_TOTALS if ad.get(key) is not None), None)


def _core_count_known(ad: dict) -> str | None:
    """A slot whose cores cannot be counted is reported, not counted as 0: every slot needs Cpus (a
    partitionable one's cores left), a partitionable one also its own total."""
    if ad.get("Cpus") is None:
        return "has no Cpus: its cores are unknown"
    if _slot_type(ad) == "Partitionable" and _pslot_total(ad) is None:
        return f"partitionable slot without {', '.join(PSLOT_TOTALS)}: its cores are unknown"
    return None
