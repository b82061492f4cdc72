"""HTCondor's ``condor_q -json`` (job ClassAds of the three CEs' schedds) and ``condor_status -json``
(partitionable and dynamic slots of the worker nodes), including condor's own JSON layout.
"""

from __future__ import annotations

import json
import random
from datetime import datetime

from .common import CE_FAILURE, DOMAIN, FAILING_CE, diurnal, epoch, fqdn, from_epoch, poisson, rng


class Expr(str):
    """A ClassAd expression: serialized by condor as the string ``"\\/Expr(...)\\/"``."""


SCHEDDS = (("ce01", 0.4), ("ce02", 0.4), ("arc01", 0.2))
WORKERS = [f"wn-a{rack:02d}-{n:02d}" for rack in (1, 2) for n in range(1, 11)]
DRAINED_WN = "wn-a02-07"
_ROBOT = "/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN={}/CN=Robot: {}"
#: owner, accounting group, VO, cpus, memory MB, share, runtime hours (min, max), proxy subject
PROFILES = (
    ("cmspilot", "group_cms.pilot", "cms", 8, 16000, 0.72, (2, 20), _ROBOT.format("cmspilot", "CMS pilot")),
    ("atlasprd", "group_atlas.prod", "atlas", 8, 16000, 0.16, (1, 12), _ROBOT.format("atlasprd", "ATLAS pilot")),
    ("cmssgm", "group_cms.sam", "cms", 1, 2000, 0.12, (0.05, 0.25), _ROBOT.format("cmssam", "CMS SAM")),
)
REQUIREMENTS = Expr(
    '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) '
    "&& (TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus)"
)
SLOT_S, QUEUE_WINDOW_S, PILOTS_PER_SLOT = 300, 26 * 3600, 1.3
SPOOL_FULL = (
    "Error from {schedd}: Failed to transfer input files for job {job}: cannot write "
    "/var/lib/condor-ce/spool/{job}/glidein_startup.sh: No space left on device (errno 28)"
)
MEMORY_HOLD = (
    "Error from slot1_{slot}@{wn}: Job has gone over cgroup memory limit of {limit} megabytes. "
    "Last measured usage: {used} megabytes.  Consider resubmitting with a higher request_memory."
)


def _job(w, slot: int, i: int, resubmitted: bool) -> dict:
    """Life of one job: its times and fate, independent of when it is looked at. ``resubmitted``:
    an extra pilot the factory sends to the failing CE during the incident."""
    r = rng(w.seed, "job", slot, i)
    qdate = slot * SLOT_S + r.randrange(SLOT_S)
    if resubmitted:
        schedd, profile = FAILING_CE, PROFILES[0]
    else:
        schedd = r.choices([s for s, _ in SCHEDDS], [share for _, share in SCHEDDS])[0]
        profile = r.choices(PROFILES, [p[5] for p in PROFILES])[0]
    lo, hi = profile[6]
    job = {
        "r": r,
        "slot": slot,
        "i": i,
        "schedd": schedd,
        "profile": profile,
        "qdate": qdate,
        "start": qdate + int(r.expovariate(1 / 2700)) + 30,
        "hold": None,
    }
    job["end"] = job["start"] + int(r.uniform(lo, hi) * 3600)
    if schedd == FAILING_CE and w.active(CE_FAILURE, from_epoch(qdate)):
        incident = w.incident(CE_FAILURE)
        job["hold"] = (qdate + r.randrange(30, 300), epoch(incident.ends) + 2700, 13)
    elif profile[3] > 1 and r.random() < 0.15:  # pilot never matched: removed by the factory
        job["start"] = job["end"] = None
        job["removed"] = qdate + r.randrange(3600, 4 * 3600)
    elif profile[3] > 1 and r.random() < 0.015:  # over its memory: held, then periodic remove
        held_at = job["start"] + int((job["end"] - job["start"]) * r.random())
        job["hold"] = (held_at, held_at + 4 * 3600, 34)
    return job


def condor_jobs(w, now: datetime) -> list[dict]:
    """Jobs in the queue at ``now``, each with ``status`` (condor JobStatus) and ``since``."""
    now_s = epoch(now)
    queue = []
    for slot in range((now_s - QUEUE_WINDOW_S) // SLOT_S, now_s // SLOT_S + 1):
        t = from_epoch(slot * SLOT_S)
        r = rng(w.seed, "slot", slot)
        count = poisson(r, PILOTS_PER_SLOT * diurnal(t, 0.25))
        extra = poisson(r, 0.5) if w.active(CE_FAILURE, t) else 0
        for i in range(count + extra):
            job = _job(w, slot, i, resubmitted=i >= count)
            if job["qdate"] > now_s:
                continue
            if job["hold"] and job["hold"][0] <= now_s:
                if now_s < job["hold"][1]:
                    queue.append({**job, "status": 5, "since": job["hold"][0]})
            elif job["start"] is None:
                if now_s < job["removed"]:
                    queue.append({**job, "status": 1, "since": job["qdate"]})
            elif now_s < job["start"]:
                queue.append({**job, "status": 1, "since": job["qdate"]})
            elif now_s < job["end"]:
                status = 6 if job["end"] - now_s < 90 else 2
                queue.append({**job, "status": status, "since": job["start"] if status == 2 else job["end"] - 90})
    _place(w, queue)
    return queue


def _place(w, queue: list[dict]) -> None:
    """Give running (and memory-held) jobs a worker node (fixed per job) and a dynamic slot number
    (counted up per node in order of start)."""
    workers = [wn for wn in WORKERS if wn != DRAINED_WN]
    used: dict[str, int] = {}
    for job in sorted(queue, key=lambda j: (j["start"] or 0, j["slot"], j["i"])):
        if job["status"] in (2, 6) or (job["status"] == 5 and job["hold"][2] == 34):
            wn = workers[rng(w.seed, "wn", job["slot"], job["i"]).randrange(len(workers))]
            used[wn] = used.get(wn, 0) + 1
            job["wn"], job["dslot"] = wn, used[wn]


def _job_ad(job: dict, now_s: int) -> dict:
    owner, group, vo, cpus, memory, _, _, subject = job["profile"]
    r = random.Random(job["r"].random())
    cluster = (job["slot"] * 8 + job["i"]) % 9_000_000 + 100_000
    host = fqdn(job["schedd"])
    ad = {
        "AcctGroup": group,
        "ClusterId": cluster,
        "Cmd": "glidein_startup.sh" if cpus > 1 else "CE-job-wrapper.sh",
        "EnteredCurrentStatus": job["since"],
        "GlobalJobId": f"{host}#{cluster}.0#{job['qdate']}",
        "JobPrio": 0,
        "JobStatus": job["status"],
        "JobUniverse": 5,
        "LastJobStatus": 0,
        "MemoryUsage": Expr("((ResidentSetSize + 1023) / 1024)"),
        "MyType": "Job",
        "Owner": owner,
        "ProcId": 0,
        "QDate": job["qdate"],
        "RequestCpus": cpus,
        "RequestDisk": 4_000_000 * cpus,
        "RequestMemory": memory,
        "Requirements": REQUIREMENTS,
        "ServerTime": now_s,
        "TargetType": "Machine",
        "User": f"{owner}@{DOMAIN}",
        "x509userproxysubject": subject,
        "x509UserProxyVOName": vo,
    }
    if job["schedd"] != "arc01":
        ad["RoutedFromJobId"] = f"{cluster // 7 % 100_000}.0"
    if job["status"] in (2, 6) or job.get("wn"):
        start = job["start"]
        wall = max(0, min(now_s, job["hold"][0] if job["hold"] else now_s) - start)
        efficiency = r.uniform(0.55, 0.95)
        ad.update(
            {
                "CPUsUsage": round(cpus * efficiency, 3),
                "JobCurrentStartDate": start,
                "JobStartDate": start,
                "LastJobStatus": 1,
                "NumJobStarts": 1,
                "RemoteHost": f"slot1_{job['dslot']}@{fqdn(job['wn'])}",
                "RemoteUserCpu": float(int(wall * cpus * efficiency)),
                "RemoteWallClockTime": float(wall),
                "ResidentSetSize": int(memory * 1024 * r.uniform(0.3, 0.8)),
            }
        )
    if job["status"] == 5:
        held_at, _, code = job["hold"]
        ad.update(
            {
                "HoldReasonCode": code,
                "HoldReasonSubCode": 28 if code == 13 else 0,
                "NumSystemHolds": 1,
                "LastJobStatus": 1 if code == 13 else 2,
            }
        )
        if code == 13:
            ad["HoldReason"] = SPOOL_FULL.format(schedd=host, job=f"{cluster}.0")
        else:
            limit = memory + 384
            ad["HoldReason"] = MEMORY_HOLD.format(
                slot=job["dslot"], wn=fqdn(job["wn"]), limit=limit, used=limit + r.randrange(10, 400)
            )
            ad["ResidentSetSize"] = (limit + 100) * 1024
        if "RemoteHost" in ad:  # a held job no longer runs anywhere
            ad["LastRemoteHost"] = ad.pop("RemoteHost")
    return ad


def classads_json(ads: list[dict]) -> str:
    """``condor_q -json`` text: ``[``, ads separated by ``\\n,\\n``, ``]``; keys sorted case-insensitively."""
    if not ads:
        return "[]\n"

    def value(v) -> str:
        if isinstance(v, Expr):
            return '"\\/Expr(' + json.dumps(str(v))[1:-1] + ')\\/"'
        return json.dumps(v)

    def one(ad: dict) -> str:
        return "{\n" + ",\n".join(f"  {json.dumps(k)}: {value(ad[k])}" for k in sorted(ad, key=str.lower)) + "\n}"

    return "[\n" + "\n,\n".join(one(ad) for ad in ads) + "\n]\n"


def condor_q(w, now: datetime) -> str:
    now_s = epoch(now)
    jobs = sorted(condor_jobs(w, now), key=lambda j: (j["schedd"], j["qdate"], j["i"]))
    return classads_json([_job_ad(job, now_s) for job in jobs])


CONDOR_VERSION = "$CondorVersion: 24.0.6 2025-03-27 BuildID: 787412 PackageID: 24.0.6-1 GitSHA: 5c4b2a1e $"


def condor_status(w, now: datetime) -> str:
    now_s = epoch(now)
    running = [j for j in condor_jobs(w, now) if j["status"] in (2, 6)]
    ads = []
    for n, wn in enumerate(WORKERS):
        host = fqdn(wn)
        r = rng(w.seed, "wn", wn, now_s // 900)
        mine = sorted((j for j in running if j.get("wn") == wn), key=lambda j: j["dslot"])
        cpus_used = sum(j["profile"][3] for j in mine)
        mem_used = sum(j["profile"][4] for j in mine)
        base = {
            "Arch": "X86_64",
            "CondorVersion": CONDOR_VERSION,
            "DetectedCpus": 64,
            "DetectedMemory": 257566,
            "LastHeardFrom": now_s - r.randrange(1, 60),
            "Machine": host,
            "MyAddress": f"<10.20.{12 + n // 10}.{40 + n % 10}:9618?addrs=10.20.{12 + n // 10}.{40 + n % 10}-9618"
            f"&alias={host}&noUDP&sock=startd_2211_a4c1>",
            "MyType": "Machine",
            "OpSys": "LINUX",
            "OpSysAndVer": "AlmaLinux9",
            "TotalCpus": 64.0,
            "TotalLoadAvg": round(cpus_used * r.uniform(0.7, 0.95), 2),
            "TotalMemory": 257566,
            "TotalSlotCpus": 64,
            "TotalSlotMemory": 257566,
        }
        drained = wn == DRAINED_WN
        ads.append(
            {
                **base,
                "Activity": "Idle",
                "Cpus": max(0, 64 - cpus_used),
                "Disk": 1_612_331_520 - sum(4_000_000 * j["profile"][3] for j in mine),
                "EnteredCurrentActivity": epoch(w.start) - 86400 * 3 if drained else now_s - r.randrange(60, 7200),
                "LoadAvg": 0.0,
                "Memory": max(0, 257566 - mem_used),
                "Name": f"slot1@{host}",
                "PartitionableSlot": True,
                "SlotType": "Partitionable",
                "Start": not drained,
                "State": "Drained" if drained else "Unclaimed",
            }
        )
        for job in mine:
            owner, _, _, cpus, memory = job["profile"][:5]
            cluster = (job["slot"] * 8 + job["i"]) % 9_000_000 + 100_000
            ads.append(
                {
                    **base,
                    "Activity": "Busy",
                    "Cpus": cpus,
                    "Disk": 4_000_000 * cpus,
                    "EnteredCurrentActivity": job["start"],
                    "JobId": f"{cluster}.0",
                    "LoadAvg": round(cpus * r.uniform(0.5, 0.98), 2),
                    "Memory": memory,
                    "Name": f"slot1_{job['dslot']}@{host}",
                    "PartitionableSlot": False,
                    "RemoteOwner": f"{owner}@{DOMAIN}",
                    "SlotType": "Dynamic",
                    "Start": True,
                    "State": "Claimed",
                }
            )
    return classads_json(ads)
