"""Payload generators of the demo-site simulator, in the real wire formats of each source.

Every generator is a pure function of the *world* (seed, start, incident schedule; see
``hfpanel.demo.simulator.Simulator``) and a naive-UTC time, and returns the document as ``str``.
Randomness comes from :func:`rng`, a ``random.Random`` seeded with a BLAKE2 digest of the key (never
Python's salted ``hash()``), so the same seed and time give the same bytes: a backfill is
reproducible. The formats follow the research notes of the project (field names, types, units and
quirks of SAM/ETF via MONIT, HammerCloud xhr, dCache REST, ``condor_q -json``, GOCDB, Rucio, CRIC).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import random
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

# --- the site --------------------------------------------------------------------------------
SITE = "T2_XX_Demo"
GOCDB_SITE = "DEMO-T2"
DOMAIN = "demo-t2.example.org"


def fqdn(short: str) -> str:
    return f"{short}.{DOMAIN}"


CE_FLAVOURS = {"ce01": "HTCONDOR-CE", "ce02": "HTCONDOR-CE", "arc01": "ARC-CE"}
SE_HOST = fqdn("dcache-se")  # dCache head node: SRM and WebDAV doors
XROOTD_HOST = fqdn("xrootd")  # dCache XRootD door
FAILING_CE, SLOW_CE = "ce02", "arc01"
JOBSUBMIT = {"HTCONDOR-CE": "org.sam.CONDOR-JobSubmit-/cms-ce-token", "ARC-CE": "org.sam.ARC-JobSubmit-/cms-ce-token"}
WN_METRICS = ("org.cms.WN-99summary-/cms-ce-token", "org.cms.WN-cvmfs-/cms-ce-token")
SE_TESTS = (
    (SE_HOST, "SRM", "org.cms.SRM-VOPut-/cms/Role=production"),
    (SE_HOST, "SRM", "org.cms.SRM-VOGet-/cms/Role=production"),
    (SE_HOST, "WEBDAV", "org.cms.SE-WebDAV-99summary"),
    (XROOTD_HOST, "XROOTD", "org.cms.SE-XRootD-99summary"),
)

# incident names (the schedule itself lives in simulator.py)
CE_FAILURE = "ce_submission_failure"
HC_503 = "hammercloud_503"
HC_TIMEOUT = "hammercloud_timeout"
RUCIO_STUCK = "rucio_stuck_rules"
SE_DOWNTIME = "se_downtime"
POOL_TROUBLE = "dcache_pool_trouble"
SLOW_ARC = "arc_ce_slow_jobs"


# --- helpers ---------------------------------------------------------------------------------
def rng(seed, *key) -> random.Random:
    """A generator that depends only on (seed, key): stable across processes and runs."""
    digest = hashlib.blake2b(repr((seed,) + key).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def epoch(t: datetime) -> int:
    return calendar.timegm(t.timetuple())


def from_epoch(seconds: float) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)


def diurnal(t: datetime, amplitude: float = 0.3, peak_hour: float = 15.0) -> float:
    """1 ± amplitude, highest in the European afternoon."""
    hour = t.hour + t.minute / 60
    return 1.0 + amplitude * math.cos(2 * math.pi * (hour - peak_hour) / 24)


def poisson(r: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, r.random()
    while p > limit:
        k, p = k + 1, p * r.random()
    return k


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc1123(t: datetime | None) -> str | None:
    """Rucio's wire format for dates, independent of the locale."""
    if t is None:
        return None
    return f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t:%Y %H:%M:%S} UTC"


def _dumps(doc) -> str:
    return json.dumps(doc, indent=1) + "\n"


# --- SAM / ETF via MONIT Grafana _msearch ---------------------------------------------------
def sam_tests():
    """(host, flavour, metric, period in minutes) of every test run against the site."""
    for short, flavour in CE_FLAVOURS.items():
        yield fqdn(short), flavour, JOBSUBMIT[flavour], 60
        for metric in WN_METRICS:
            yield fqdn(short), flavour, metric, 60
    for host, flavour, metric in SE_TESTS:
        yield host, flavour, metric, 30


def _latest_run(w, key, period_s: int, now_s: int):
    """Time and ingestion time of the newest test run visible at ``now_s`` (both epoch seconds)."""
    phase = rng(w.seed, "phase", *key).randrange(period_s)
    k = (now_s - phase) // period_s
    for run in (k, k - 1):
        r = rng(w.seed, "run", *key, run)
        tested = phase + run * period_s + r.randrange(20, 100)
        ingested = tested + r.randrange(5, 40)
        if ingested <= now_s:
            return tested, ingested, r
    raise AssertionError("unreachable: the previous run is always visible")


def sam_result(w, host: str, flavour: str, metric: str, tested: datetime, r: random.Random):
    """(status, summary, details) of one test run."""
    short = host.split(".")[0]
    if host in (SE_HOST, XROOTD_HOST) and w.active(SE_DOWNTIME, tested):
        if flavour == "SRM":
            return ("CRITICAL", "CRITICAL: SRM ping failed",
                    f"CRITICAL: [SE][srmPing][] httpg://{host}:8443/srm/managerv2: Connection refused")
        if flavour == "WEBDAV":
            return ("CRITICAL", "CRITICAL: connection test failed",
                    f"[ERROR] connection: davs://{host}:2880/: Could not connect to server (Connection refused), "
                    "[SKIPPED] ssl, [SKIPPED] read, [SKIPPED] write, [SKIPPED] delete")
        return ("CRITICAL", "CRITICAL: connection test failed",
                f"[ERROR] connection: root://{host}:1094: [FATAL] Socket error: Connection refused, [SKIPPED] read")
    if short == FAILING_CE and w.active(CE_FAILURE, tested):
        if metric == JOBSUBMIT.get(flavour):
            return ("CRITICAL", "CRITICAL: job submission failed",
                    f"CRITICAL: Failed to submit job: Error from schedd at {host}: Failed to queue job: "
                    "cannot write to /var/lib/condor-ce/spool: No space left on device (errno 28)")
        return ("UNKNOWN", "UNKNOWN: no fresh result, the test job could not be submitted",
                f"UNKNOWN: last WN result is older than 2h; job submission to {host} fails")
    if short == SLOW_CE and metric == JOBSUBMIT.get(flavour) and w.active(SLOW_ARC, tested):
        minutes = 125 + r.randrange(40)
        return ("WARNING", f"WARNING: job completed after {minutes // 60}h{minutes % 60:02d}m",
                f"WARNING: job {r.randrange(10**9):09x} waited {minutes - 9} min in the ARC-CE queue "
                "(threshold 120 min)<br>>>> output retrieved, exit code 0")
    if metric == JOBSUBMIT.get(flavour):
        return ("OK", "OK: COMPLETED.",
                f"OK: COMPLETED.<br>>>> {host}: job {r.randrange(100000, 999999)}.0 completed in "
                f"{r.randrange(120, 900)} s")
    if metric.startswith("org.cms.WN-cvmfs"):
        if r.random() < 0.01:
            return ("WARNING", "WARNING: cvmfs cache 91% full",
                    "cms.cern.ch mounted, revision behind stratum-1 by 1, cache usage 91% (> 90%)")
        return "OK", "OK: cvmfs repositories mounted and up to date", "cms.cern.ch OK, oasis.opensciencegrid.org OK"
    if metric.startswith("org.cms.WN-99summary"):
        return ("OK", "OK: all 11 worker-node probes OK",
                "WN-basic OK, WN-cvmfs OK, WN-env OK, WN-frontier OK, WN-isolation OK, WN-mc OK, WN-squid OK, "
                "WN-xrootd-access OK, WN-xrootd-fallback OK, WN-analysis OK, WN-remotestageout OK")
    if flavour == "SRM":
        return ("OK", "OK: File was copied to SRM.",
                f"OK: srm://{host}:8443/srm/managerv2 VOPut/VOGet/VODel in {r.randrange(2, 9)} s")
    if flavour == "WEBDAV":
        return ("OK", "OK: all WebDAV tests succeeded",
                "[OK] connection, [OK] ssl, [OK] read, [OK] write, [OK] delete, [OK] tpc-pull")
    return "OK", "OK: all XRootD tests succeeded", "[OK] connection, [OK] version 5.7.3, [OK] read, [OK] contain"


def sam_msearch(w, now: datetime, queries: int = 1) -> str:
    """Grafana ``_msearch`` answer: the latest result of each host x flavour x metric."""
    now_s = epoch(now)
    hits = []
    for host, flavour, metric, period in sam_tests():
        tested, ingested, r = _latest_run(w, (host, metric), period * 60, now_s)
        status, summary, details = sam_result(w, host, flavour, metric, from_epoch(tested), r)
        doc_id = hashlib.md5(f"{host}|{metric}|{tested}".encode()).hexdigest()
        hits.append({
            "_index": f"monit_prod_sam3_enr_metric-{from_epoch(tested):%Y-%m-%d}", "_type": "_doc",
            "_id": doc_id, "_score": None,
            "_source": {
                "metadata": {"producer": "sam3", "type": "metric", "type_prefix": "raw",
                             "timestamp": tested * 1000, "kafka_timestamp": ingested * 1000 + r.randrange(1000),
                             "_id": doc_id, "topic": "sam3_raw_metric"},
                "data": {"vo": "cms", "dst_hostname": host, "service_flavour": flavour, "metric_name": metric,
                         "status": status, "summary": summary, "details": details, "timestamp": tested * 1000,
                         "gathered_at": "etf-cms-prod.cern.ch", "dst_experiment_site": SITE, "dst_site": GOCDB_SITE,
                         "dst_federation": "XX-Demo-Federation", "dst_country": "Exampleland", "dst_tier": 2},
            },
            "sort": [tested * 1000],
        })
    hits.sort(key=lambda h: (h["sort"][0], h["_id"]))
    took = rng(w.seed, "took", now_s).randrange(40, 400)
    response = {"took": took, "timed_out": False,
                "_shards": {"total": 24, "successful": 24, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": None, "hits": hits},
                "status": 200}
    return _dumps({"took": took + 1, "responses": [response] * max(1, queries)})


# --- HammerCloud xhr/json -----------------------------------------------------------------------
#: test id -> (template id, template description, uses local storage)
HC_TESTS = {
    20451137: (98, "CMS CRAB3 MiniAOD analysis (golden)", True),
    20451140: (101, "CMS CRAB3 NanoAOD remote read (AAA)", False),
    20451143: (107, "CMS CRAB3 MiniAOD lazy-download (XCache)", True),
}
HC_EVERY_S, HC_WINDOW_S = 600, 4 * 3600


def hammercloud_results(w, now: datetime, test: int) -> list[dict]:
    """Sub-jobs of one HC test submitted during the last 4 hours (one every 10 minutes)."""
    index = list(HC_TESTS).index(test)
    _, _, local = HC_TESTS[test]
    now_s, results = epoch(now), []
    first = (now_s - HC_WINDOW_S) // HC_EVERY_S + 1
    for slot in range(first, now_s // HC_EVERY_S + 1):
        r = rng(w.seed, "hc", test, slot)
        submit = slot * HC_EVERY_S + r.randrange(0, 60)
        start = submit + r.randrange(120, 1500)
        stop = start + r.randrange(900, 3600)
        if submit > now_s:
            continue
        running_at = from_epoch(start + 300)
        failed = r.random() < (0.95 if local and w.active(SE_DOWNTIME, running_at) else 0.015)
        if failed:
            stop = start + r.randrange(60, 600)
        if now_s < start:
            status, start_time, stop_time = "s", None, None
        elif now_s < stop:
            status, start_time, stop_time = "r", start, None
        else:
            status, start_time, stop_time = ("f" if failed else "c"), start, stop
        iso = lambda s: from_epoch(s).isoformat() if s is not None else None  # noqa: E731
        results.append({"id": 900_000_000 + (slot % 10_000_000) * 10 + index, "site": SITE,
                        "ganga_status": status, "start_time": iso(start_time), "submit_time": iso(submit),
                        "stop_time": iso(stop_time), "backendID": str(6_500_000_000 + (slot % 10**8) * 4 + index)})
    return results


def hammercloud(w, now: datetime, action: str, test: int) -> str:
    results = hammercloud_results(w, now, test)
    if action == "results_at_site":
        return _dumps({str(test): {"results_at_site": {SITE: results}}})
    return _dumps({str(test): {"results": results}})


# --- HTCondor condor_q -json / condor_status -json ----------------------------------------------
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
REQUIREMENTS = Expr('(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) '
                    '&& (TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus)')
SLOT_S, QUEUE_WINDOW_S, PILOTS_PER_SLOT = 300, 26 * 3600, 1.3
SPOOL_FULL = ("Error from {schedd}: Failed to transfer input files for job {job}: cannot write "
              "/var/lib/condor-ce/spool/{job}/glidein_startup.sh: No space left on device (errno 28)")
MEMORY_HOLD = ("Error from slot1_{slot}@{wn}: Job has gone over cgroup memory limit of {limit} megabytes. "
               "Last measured usage: {used} megabytes.  Consider resubmitting with a higher request_memory.")


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
    job = {"r": r, "slot": slot, "i": i, "schedd": schedd, "profile": profile, "qdate": qdate,
           "start": qdate + int(r.expovariate(1 / 2700)) + 30, "hold": None}
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
    ad = {"AcctGroup": group, "ClusterId": cluster, "Cmd": "glidein_startup.sh" if cpus > 1 else "CE-job-wrapper.sh",
          "EnteredCurrentStatus": job["since"], "GlobalJobId": f"{host}#{cluster}.0#{job['qdate']}", "JobPrio": 0,
          "JobStatus": job["status"], "JobUniverse": 5, "LastJobStatus": 0,
          "MemoryUsage": Expr("((ResidentSetSize + 1023) / 1024)"), "MyType": "Job", "Owner": owner, "ProcId": 0,
          "QDate": job["qdate"], "RequestCpus": cpus, "RequestDisk": 4_000_000 * cpus, "RequestMemory": memory,
          "Requirements": REQUIREMENTS, "ServerTime": now_s, "TargetType": "Machine", "User": f"{owner}@{DOMAIN}",
          "x509userproxysubject": subject, "x509UserProxyVOName": vo}
    if job["schedd"] != "arc01":
        ad["RoutedFromJobId"] = f"{cluster // 7 % 100_000}.0"
    if job["status"] in (2, 6) or job.get("wn"):
        start = job["start"]
        wall = max(0, min(now_s, job["hold"][0] if job["hold"] else now_s) - start)
        efficiency = r.uniform(0.55, 0.95)
        ad.update({"CPUsUsage": round(cpus * efficiency, 3), "JobCurrentStartDate": start, "JobStartDate": start,
                   "LastJobStatus": 1, "NumJobStarts": 1, "RemoteHost": f"slot1_{job['dslot']}@{fqdn(job['wn'])}",
                   "RemoteUserCpu": float(int(wall * cpus * efficiency)), "RemoteWallClockTime": float(wall),
                   "ResidentSetSize": int(memory * 1024 * r.uniform(0.3, 0.8))})
    if job["status"] == 5:
        held_at, _, code = job["hold"]
        ad.update({"HoldReasonCode": code, "HoldReasonSubCode": 28 if code == 13 else 0, "NumSystemHolds": 1,
                   "LastJobStatus": 1 if code == 13 else 2})
        if code == 13:
            ad["HoldReason"] = SPOOL_FULL.format(schedd=host, job=f"{cluster}.0")
        else:
            limit = memory + 384
            ad["HoldReason"] = MEMORY_HOLD.format(slot=job["dslot"], wn=fqdn(job["wn"]), limit=limit,
                                                  used=limit + r.randrange(10, 400))
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
        base = {"Arch": "X86_64", "CondorVersion": CONDOR_VERSION, "DetectedCpus": 64, "DetectedMemory": 257566,
                "LastHeardFrom": now_s - r.randrange(1, 60), "Machine": host,
                "MyAddress": f"<10.20.{12 + n // 10}.{40 + n % 10}:9618?addrs=10.20.{12 + n // 10}.{40 + n % 10}-9618"
                             f"&alias={host}&noUDP&sock=startd_2211_a4c1>",
                "MyType": "Machine", "OpSys": "LINUX", "OpSysAndVer": "AlmaLinux9", "TotalCpus": 64.0,
                "TotalLoadAvg": round(cpus_used * r.uniform(0.7, 0.95), 2), "TotalMemory": 257566,
                "TotalSlotCpus": 64, "TotalSlotMemory": 257566}
        drained = wn == DRAINED_WN
        ads.append({**base, "Activity": "Idle", "Cpus": max(0, 64 - cpus_used),
                    "Disk": 1_612_331_520 - sum(4_000_000 * j["profile"][3] for j in mine),
                    "EnteredCurrentActivity": epoch(w.start) - 86400 * 3 if drained else now_s - r.randrange(60, 7200),
                    "LoadAvg": 0.0, "Memory": max(0, 257566 - mem_used), "Name": f"slot1@{host}",
                    "PartitionableSlot": True, "SlotType": "Partitionable", "Start": not drained,
                    "State": "Drained" if drained else "Unclaimed"})
        for job in mine:
            owner, _, _, cpus, memory = job["profile"][:5]
            cluster = (job["slot"] * 8 + job["i"]) % 9_000_000 + 100_000
            ads.append({**base, "Activity": "Busy", "Cpus": cpus, "Disk": 4_000_000 * cpus,
                        "EnteredCurrentActivity": job["start"], "JobId": f"{cluster}.0",
                        "LoadAvg": round(cpus * r.uniform(0.5, 0.98), 2), "Memory": memory,
                        "Name": f"slot1_{job['dslot']}@{host}", "PartitionableSlot": False,
                        "RemoteOwner": f"{owner}@{DOMAIN}", "SlotType": "Dynamic", "Start": True, "State": "Claimed"})
    return classads_json(ads)


# --- dCache REST (frontend /api/v1) ---------------------------------------------------------------
POOL_GROUPS = {
    "cms-disk": [f"dcache-pool{n:02d}_{k}" for n in (1, 2, 3, 4) for k in (1, 2)],
    "cms-local": [f"dcache-pool{n:02d}_{k}" for n in (5, 6) for k in (1, 2)],
}
POOL_SIZE = {"cms-disk": 240 * 2**40, "cms-local": 100 * 2**40}
POOL_LINKS = {"cms-disk": ["cms-disk-link", "cms-webdav-read-link"], "cms-local": ["cms-local-link"]}
FULL_POOL, DISABLED_POOL = "dcache-pool03_1", "dcache-pool05_2"
DISABLED_MODE = "disabled(fetch,store,stage,p2p-client,p2p-server)"
DCACHE_VERSION = "10.2.7"


def pool_group(pool: str) -> str:
    return next(g for g, pools in POOL_GROUPS.items() if pool in pools)


def pool_fill(w, pool: str, t: datetime) -> float:
    """Used fraction of a pool: a per-pool base, a weekly deletion cycle, hourly noise, incidents."""
    group = pool_group(pool)
    base = (0.70 + 0.14 * rng(w.seed, "pool", pool).random()) if group == "cms-disk" \
        else (0.55 + 0.20 * rng(w.seed, "pool", pool).random())
    days = (t - w.start).total_seconds() / 86400
    noise = rng(w.seed, "fill", pool, epoch(t) // 3600).uniform(-0.002, 0.002)
    fill = base + 0.01 * math.sin(2 * math.pi * days / 7) + noise
    if pool == FULL_POOL:
        incident = w.incident(POOL_TROUBLE)
        ramp = incident.begins - timedelta(hours=10)
        if ramp <= t < incident.begins:
            fill += (0.975 - fill) * (t - ramp).total_seconds() / 36000
        elif w.active(POOL_TROUBLE, t):
            fill = 0.975 + 0.011 * (t - incident.begins) / (incident.ends - incident.begins)
        elif t >= incident.ends:
            fill -= 0.05  # files moved away by the admins
    return min(max(fill, 0.0), 0.995)


def pool_mode(w, pool: str, t: datetime) -> str:
    return DISABLED_MODE if pool == DISABLED_POOL and w.active(POOL_TROUBLE, t) else "enabled"


def _queue(name: str, active: int, max_active: int, queued: int, read_share: float = 0.85) -> dict:
    readers = round(active * read_share)
    return {"name": name, "active": active, "maxActive": max_active, "queued": queued,
            "readers": readers, "writers": active - readers}


def pool_cost(w, pool: str, t: datetime) -> dict:
    """``PoolCostData`` of one pool: mover/store/restore/p2p queues and space (bytes)."""
    group = pool_group(pool)
    total = POOL_SIZE[group]
    r = rng(w.seed, "movers", pool, epoch(t) // 900)
    max_movers = 500 if group == "cms-disk" else 200
    idle = pool_mode(w, pool, t) != "enabled" or w.active(SE_DOWNTIME, t)
    active = 0 if idle else int(max_movers * 0.12 * diurnal(t) * r.uniform(0.6, 1.4))
    queued = 0 if idle or r.random() > 0.1 else r.randrange(1, 8)
    wan = int(active * r.uniform(0.05, 0.15))
    free = int(total * (1 - pool_fill(w, pool, t)))
    p2p = 0 if idle else r.choice((0, 0, 0, 1, 2))
    return {
        "label": "Pool Cost Info", "defaultQueueName": "regular", "moverCostFactor": 0.5,
        "mover": _queue("movers", active, max_movers, queued),
        "store": _queue("stores", 0, 0, 0), "restore": _queue("restores", 0, 0, 0),
        "p2p": _queue("p2ps", p2p, 10, 0, 1.0), "p2pClient": _queue("p2pClients", 0, 10, 0),
        "extendedMoverHash": {"regular": _queue("regular", active - wan, int(max_movers * 0.8), queued),
                              "wan": _queue("wan", wan, int(max_movers * 0.2), 0)},
        "space": {"total": total, "free": free, "precious": 0,
                  "removable": min(total - free, int(total * r.uniform(0.005, 0.02))),
                  "lru": 0, "gap": 4294967296, "breakEven": 0.7},
    }


def _cell(w, pool: str, t: datetime) -> dict:
    node = pool.split("_")[0]
    r = rng(w.seed, "cell", pool, epoch(t) // 900)
    return {"label": "Cell Info", "cellName": pool, "cellType": "Generic", "cellClass": "UniversalSpringCell",
            "domainName": f"{node}Domain", "creationTime": (epoch(w.start) - 86400 * 23) * 1000, "state": 1,
            "eventQueueSize": 0, "threadCount": r.randrange(180, 240), "expectedQueueTime": 0,
            "version": DCACHE_VERSION, "release": DCACHE_VERSION, "revision": "4f1a2b3c",
            "roundTripTime": r.randrange(1, 6)}


def dcache_pools() -> str:
    pools = [{"name": p, "links": POOL_LINKS[g], "groups": [g]} for g, ps in POOL_GROUPS.items() for p in ps]
    return _dumps(sorted(pools, key=lambda p: p["name"]))


def dcache_group_pools(group: str) -> str:
    return _dumps(POOL_GROUPS[group])


def dcache_group_usage(w, now: datetime, group: str) -> str:
    """``PoolGroupInfo``: aggregated space, ``costDataForPools`` and ``cellDataForPools``."""
    costs = {pool: pool_cost(w, pool, now) for pool in POOL_GROUPS[group]}
    space = {key: sum(c["space"][key] for c in costs.values()) for key in ("total", "free", "precious", "removable")}
    return _dumps({"groupQueueStat": None, "groupFileStat": None,
                   "groupSpaceData": {**space, "lru": None, "gap": None, "breakEven": None},
                   "costDataForPools": costs,
                   "cellDataForPools": {pool: _cell(w, pool, now) for pool in POOL_GROUPS[group]}})


def dcache_pool_usage(w, now: datetime, pool: str) -> str:
    """``PoolInfo`` of one pool, with ``poolMode`` and the pool's health."""
    group, mode = pool_group(pool), pool_mode(w, pool, now)
    node, disk = pool.split("_")
    number = int(node[-2:])
    disabled = mode != "enabled"
    return _dumps({"poolData": {
        "poolGroups": [group], "links": POOL_LINKS[group], "cellData": _cell(w, pool, now),
        "detailsData": {
            "label": "Pool Details", "baseDir": f"/srv/dcache/{node.split('-')[1]}_{disk}",
            "poolVersion": f"{DCACHE_VERSION}({DCACHE_VERSION})", "poolMode": mode,
            "poolStatusCode": 1 if disabled else 0,
            "poolStatusMessage": "disabled by admin: RAID controller replacement scheduled" if disabled else "",
            "pingHeartbeatInSecs": 30, "breakEven": 0.7, "largeFileStore": "NONE", "p2pFileMode": "CACHED",
            "hotFileReplicationEnabled": False, "hybridInventory": None, "errorCode": 0, "errorMessage": None,
            "removalReported": True, "hsmLoadSuppressed": False,
            "tagMap": {"hostname": fqdn(node), "rack": f"R{10 + number}"},
            "inetAddresses": [f"10.30.4.{20 + number}", f"2001:db8:30:4::{20 + number}"],
            "costData": pool_cost(w, pool, now),
        }}})


# --- GOCDB get_downtime ------------------------------------------------------------------------
def downtimes(w) -> list[dict]:
    """Downtimes declared for the site (all of them; the query filters)."""
    se = w.incident(SE_DOWNTIME)
    upgrade = w.start + timedelta(days=4, hours=8)
    return [
        {"id": 38472, "classification": "SCHEDULED", "severity": "OUTAGE", "begins": se.begins, "ends": se.ends,
         "inserted": se.begins - timedelta(days=5, hours=3),
         "description": "dCache upgrade to 10.2.7 and firmware update of the storage controllers",
         "services": [(SE_HOST, "SRM", 91021, f"httpg://{SE_HOST}:8443/srm/managerv2"),
                      (SE_HOST, "webdav", 91022, f"https://{SE_HOST}:2880"),
                      (XROOTD_HOST, "XROOTD", 91023, f"root://{XROOTD_HOST}:1094")]},
        {"id": 38519, "classification": "SCHEDULED", "severity": "WARNING", "begins": upgrade,
         "ends": upgrade + timedelta(hours=2), "inserted": w.start + timedelta(hours=60),
         "description": "HTCondor-CE 24.0.7 update, short interruptions of job submission possible",
         "services": [(fqdn("ce01"), "org.opensciencegrid.htcondorce", 91011, f"https://{fqdn('ce01')}:9619")]},
    ]


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def gocdb_downtime(w, now: datetime, query: dict) -> str:
    """Flat ``get_downtime`` XML: one ``DOWNTIME`` element per affected service; dates in epoch seconds."""
    topentity = query.get("topentity") or query.get("sitelist")
    rows = []
    for d in downtimes(w):
        if d["inserted"] > now or (topentity and GOCDB_SITE not in topentity.split(",")):
            continue
        if query.get("ongoing_only", "").lower() in ("yes", "y", "true", "1"):
            if not d["begins"] <= now < d["ends"]:
                continue
        elif _day(query.get("windowstart")) or _day(query.get("windowend")):
            lo = _day(query.get("windowstart")) or datetime.min
            hi = (_day(query.get("windowend")) or datetime.max - timedelta(days=1)) + timedelta(days=1)
            if d["ends"] <= lo or d["begins"] >= hi:
                continue
        elif d["ends"] <= now:  # default: ongoing and announced
            continue
        rows.extend(_downtime_xml(d, host, kind, eid, url) for host, kind, eid, url in d["services"])
    if not rows:
        return '<?xml version="1.0" encoding="UTF-8"?>\n<results/>\n'
    return '<?xml version="1.0" encoding="UTF-8"?>\n<results>\n' + "".join(rows) + "</results>\n"


def _downtime_xml(d: dict, host: str, kind: str, endpoint_id: int, url: str) -> str:
    key = f"{d['id']}G0"
    portal = escape(f"https://goc.egi.eu/portal/index.php?Page_Type=Downtime&id={d['id']}")
    return (
        f'  <DOWNTIME ID="{d["id"]}" PRIMARY_KEY="{key}" CLASSIFICATION="{d["classification"]}">\n'
        f"    <PRIMARY_KEY>{key}</PRIMARY_KEY>\n    <HOSTNAME>{host}</HOSTNAME>\n"
        f"    <SERVICE_TYPE>{kind}</SERVICE_TYPE>\n    <ENDPOINT>{host}{kind}</ENDPOINT>\n"
        f"    <HOSTED_BY>{GOCDB_SITE}</HOSTED_BY>\n"
        f"    <GOCDB_PORTAL_URL>{portal}</GOCDB_PORTAL_URL>\n"
        f"    <AFFECTED_ENDPOINTS>\n      <ENDPOINT>\n        <ID>{endpoint_id}</ID>\n"
        f"        <NAME>{host} {kind}</NAME>\n        <URL>{escape(url)}</URL>\n"
        f"        <INTERFACENAME>{kind}</INTERFACENAME>\n        <ENDPOINT_MONITORED>Y</ENDPOINT_MONITORED>\n"
        f"      </ENDPOINT>\n    </AFFECTED_ENDPOINTS>\n"
        f"    <SEVERITY>{d['severity']}</SEVERITY>\n    <DESCRIPTION>{escape(d['description'])}</DESCRIPTION>\n"
        f"    <INSERT_DATE>{epoch(d['inserted'])}</INSERT_DATE>\n"
        f"    <START_DATE>{epoch(d['begins'])}</START_DATE>\n    <END_DATE>{epoch(d['ends'])}</END_DATE>\n"
        f"    <FORMATED_START_DATE>{d['begins']:%Y-%m-%d %H:%M}</FORMATED_START_DATE>\n"
        f"    <FORMATED_END_DATE>{d['ends']:%Y-%m-%d %H:%M}</FORMATED_END_DATE>\n"
        f"  </DOWNTIME>\n"
    )


# --- Rucio replication rules ------------------------------------------------------------------
_PRIMARY = ("/JetMET0", "/Muon0", "/EGamma1", "/ParkingDoubleMuonLowMass2", "/ZeroBias",
            "/DYto2Mu_MLL-50to120_TuneCP5_13p6TeV_powheg-pythia8", "/TTto2L2Nu_TuneCP5_13p6TeV_powheg-pythia8",
            "/QCD-4Jets_HT-400to600_TuneCP5_13p6TeV_madgraphMLM-pythia8",
            "/WtoLNu-2Jets_TuneCP5_13p6TeV_amcatnloFXFX-pythia8")
_PROCESSED = {True: ("/Run2024F-PromptReco-v1/MINIAOD", "/Run2024G-PromptReco-v1/NANOAOD",
                     "/Run2025C-PromptReco-v1/AOD"),
              False: ("/RunIII2024Summer24MiniAODv6-150X_mcRun3_2024_realistic_v2-v2/MINIAODSIM",
                      "/RunIII2024Summer24NanoAODv15-150X_mcRun3_2024_realistic_v2-v1/NANOAODSIM")}
#: account, activity, grouping, expires after days (None: never)
_OWNERS = (("wma_prod", "Production Output", "DATASET", None), ("transfer_ops", "Data rebalancing", "DATASET", None),
           ("transfer_ops", "Data Consolidation", "ALL", None),
           ("crab_tape_recall", "Analysis TapeRecall", "DATASET", 14),
           ("jdoe", "User AutoApprove", "DATASET", 14), ("asmith", "User AutoApprove", "DATASET", 30))
STUCK_ERRORS = ("TRANSFER [5] DESTINATION MAKE_PARENT Result HTTP 403 : Permission refused  after 1 attempts",
                "CHECKSUM MISMATCH Source and destination checksums do not match 3f2a9c01 != 1b7e44d0")


def rucio_rule_specs(w) -> list[dict]:
    """The site's rules with their life times; the first two get stuck during the incident."""
    stuck, specs = w.incident(RUCIO_STUCK), []
    for i in range(24):
        r = rng(w.seed, "rule", i)
        if i < 2:
            created = stuck.begins - timedelta(hours=(18, 7)[i], minutes=r.randrange(60))
            done = stuck.ends + timedelta(hours=3 + i)
            account, activity, grouping, expires = _OWNERS[i]
        else:
            created = w.start + timedelta(minutes=r.randrange(-20 * 24 * 60, 66 * 60))
            done = created + timedelta(minutes=r.randrange(60, 30 * 60))
            account, activity, grouping, expires = r.choice(_OWNERS)
        data = r.random() < 0.5
        name = r.choice(_PRIMARY[:5] if data else _PRIMARY[5:]) + r.choice(_PROCESSED[data])
        if grouping == "DATASET" and r.random() < 0.6:
            name += "#" + hashlib.blake2b(f"{w.seed}{i}".encode(), digest_size=16).hexdigest()
        files = r.randrange(5, 400)
        specs.append({"i": i, "id": hashlib.blake2b(f"rule-{w.seed}-{i}".encode(), digest_size=16).hexdigest(),
                      "account": account, "activity": activity, "grouping": grouping, "name": name,
                      "did_type": "DATASET" if "#" in name else "CONTAINER", "files": files,
                      "bytes": files * r.randrange(2_000_000_000, 4_500_000_000),
                      "created": created.replace(microsecond=0), "done": done.replace(microsecond=0),
                      "expires": created.replace(microsecond=0) + timedelta(days=expires) if expires else None,
                      "rse": SITE if r.random() < 0.8 else f"{SITE}|T2_XX_Other",
                      "stuck": i < 2, "stuck_at": stuck.begins + timedelta(minutes=20 + 50 * i)})
    return specs


def rucio_rules_list(w, now: datetime) -> list[dict]:
    rules = []
    for s in rucio_rule_specs(w):
        if s["created"] > now or (s["expires"] and s["expires"] <= now):
            continue
        files, error, stuck_at, stuck_cnt = s["files"], None, None, 0
        if s["stuck"] and s["stuck_at"] <= now < w.incident(RUCIO_STUCK).ends:
            state, stuck_cnt = "STUCK", 3 + 11 * s["i"]
            ok, replicating, updated = files - stuck_cnt, 0, s["stuck_at"]
            error, stuck_at = STUCK_ERRORS[s["i"]], rfc1123(s["stuck_at"])
        elif now < s["done"]:
            fraction = (now - s["created"]) / (s["done"] - s["created"])
            state, ok = "REPLICATING", int(files * fraction)
            replicating = files - ok
            updated = s["created"] + timedelta(minutes=10 * int((now - s["created"]).total_seconds() // 600))
        else:
            state, ok, replicating, updated = "OK", files, 0, s["done"]
        rules.append({
            "id": s["id"], "subscription_id": None, "account": s["account"],
            "scope": "cms" if s["account"] not in ("jdoe", "asmith") else f"user.{s['account']}",
            "name": s["name"], "did_type": s["did_type"], "state": state, "error": error,
            "rse_expression": s["rse"], "copies": 1, "expires_at": rfc1123(s["expires"]), "weight": None,
            "locked": False, "locks_ok_cnt": ok, "locks_replicating_cnt": replicating, "locks_stuck_cnt": stuck_cnt,
            "source_replica_expression": None, "activity": s["activity"], "grouping": s["grouping"],
            "notification": "NO", "stuck_at": stuck_at, "purge_replicas": False, "ignore_availability": False,
            "ignore_account_limit": False, "priority": 3, "comments": None, "child_rule_id": None, "eol_at": None,
            "split_container": False, "meta": None, "deleted_at": None, "created_at": rfc1123(s["created"]),
            "updated_at": rfc1123(updated), "bytes": s["bytes"]})
    return rules


def rucio_rules(w, now: datetime, stream: bool = False) -> str:
    """The list as one JSON array, or (``stream``) as ``application/x-json-stream`` lines."""
    rules = rucio_rules_list(w, now)
    if stream:
        return "".join(json.dumps(rule) + "\n" for rule in rules)
    return _dumps(rules)


# --- CRIC -------------------------------------------------------------------------------------
def cric_sites() -> str:
    sites = {SITE: ("XX_Demo", 2), "T1_DE_KIT": ("DE_KIT", 1), "T2_DE_DESY": ("DE_DESY", 2),
             "T2_XX_Other": ("XX_Other", 2)}
    return _dumps({name: {"name": name, "facility": facility, "tier_level": tier, "state": "ACTIVE",
                          "status": "enabled", "vo_name": "cms", "description": f"{name} CMS site"}
                   for name, (facility, tier) in sites.items()})


# --- perfSONAR throughput (CSV export) --------------------------------------------------------
PERFSONAR_HOST = fqdn("ps-bandwidth")
PEERS = (("T1_DE_KIT", "perfsonar-de-kit.example.net", 9000), ("T1_IT_CNAF", "ps-bw.cnaf.example.net", 6000),
         ("T1_US_FNAL", "psonar-fnal.example.net", 2500), ("T2_CH_CERN", "psb01.cern.example.net", 8500),
         ("T2_DE_DESY", "perfsonar-desy.example.net", 9000), ("T2_IT_Pisa", "ps-pisa.example.net", 4000),
         ("T2_UK_London_IC", "ps-ic.example.net", 3500), ("T2_US_Nebraska", "ps-unl.example.net", 2000))
PERFSONAR_COLUMNS = ("timestamp", "source", "destination", "source_site", "destination_site", "direction",
                     "throughput_mbps", "retransmits", "tool")


def perfsonar_csv(w, now: datetime) -> str:
    """Latest iperf3 throughput test per peer and direction (tests every 4 hours per pair)."""
    now_s, lines = epoch(now), [",".join(PERFSONAR_COLUMNS)]
    for site, host, capacity in PEERS:
        for direction in ("outbound", "inbound"):
            phase = rng(w.seed, "ps-phase", host, direction).randrange(4 * 3600)
            run = (now_s - phase) // (4 * 3600)
            tested = phase + run * 4 * 3600
            r = rng(w.seed, "ps", host, direction, run)
            mbps = capacity * r.uniform(0.55, 0.95) / diurnal(from_epoch(tested), 0.15)
            src, dst = (PERFSONAR_HOST, host) if direction == "outbound" else (host, PERFSONAR_HOST)
            src_site, dst_site = (SITE, site) if direction == "outbound" else (site, SITE)
            lines.append(f"{from_epoch(tested):%Y-%m-%dT%H:%M:%SZ},{src},{dst},{src_site},{dst_site},{direction},"
                         f"{mbps:.1f},{int(r.expovariate(1 / 300))},iperf3")
    return "\n".join(lines) + "\n"


# --- Frontier/Squid status page ---------------------------------------------------------------
SQUIDS = ("squid01", "squid02")


def squid_html(w, now: datetime) -> str:
    rows = []
    for n, squid in enumerate(SQUIDS):
        r = rng(w.seed, "squid", squid, epoch(now) // 900)
        requests = int(2400 * diurnal(now) * r.uniform(0.8, 1.2) * (1.3 if n == 0 else 0.9))
        uptime_days = (now - w.start).days + 12 + 7 * n
        rows.append(f"<tr><td>{fqdn(squid)}:3128</td><td>frontier-squid 5.9-2.1</td><td>OK</td>"
                    f"<td>{uptime_days}d {now.hour:02d}h</td><td>{requests}</td><td>{r.uniform(88, 97):.1f}</td>"
                    f"<td>{r.uniform(62, 80):.0f}</td><td>{r.randrange(300, 900)}</td>"
                    f"<td>{now:%Y-%m-%d %H:%M}</td></tr>")
    return ("<!DOCTYPE html>\n<html><head><title>Frontier/Squid status - " + SITE + "</title></head><body>\n"
            f"<h1>Frontier/Squid status for {SITE}</h1>\n"
            f"<table class=\"info\"><tr><th>Site</th><td>{SITE}</td></tr><tr><th>Generated</th>"
            f"<td>{now:%Y-%m-%d %H:%M:%S} UTC</td></tr></table>\n"
            "<table class=\"squids\">\n<thead><tr><th>Host</th><th>Version</th><th>Status</th><th>Uptime</th>"
            "<th>Requests/min</th><th>Hit ratio</th><th>Cache disk used</th><th>Clients</th><th>Last update</th>"
            "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n</body></html>\n")


# --- storage accounting (CSV) -----------------------------------------------------------------
ACCOUNTING_COLUMNS = ("timestamp", "site", "vo", "storage_share", "storage_type", "total_bytes", "used_bytes",
                      "file_count")


def accounting_csv(w, now: datetime) -> str:
    """Hourly storage accounting per share, consistent with the dCache pool fills."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    lines = [",".join(ACCOUNTING_COLUMNS)]
    for share, group in (("CMS_DISK", "cms-disk"), ("CMS_LOCALGROUP", "cms-local")):
        total = POOL_SIZE[group] * len(POOL_GROUPS[group])
        used = sum(int(POOL_SIZE[group] * pool_fill(w, p, hour)) for p in POOL_GROUPS[group])
        lines.append(f"{hour:%Y-%m-%dT%H:%M:%SZ},{SITE},cms,{share},disk,{total},{used},{used // 2_800_000_000}")
    ops_used = 2 * 2**40 + rng(w.seed, "ops", epoch(hour)).randrange(2**36)
    lines.append(f"{hour:%Y-%m-%dT%H:%M:%SZ},{SITE},ops,OPS,disk,{5 * 2**40},{ops_used},{ops_used // 1_000_000_000}")
    return "\n".join(lines) + "\n"


# --- Nagios-style probes ----------------------------------------------------------------------
def probe(w, now: datetime, name: str) -> dict | None:
    """``{"status": 0..3, "message": ...}`` of a service probe, or None if there is no such probe."""
    r = rng(w.seed, "probe", name, epoch(now) // 300)
    if name in ("webdav_door", "xrootd_door"):
        url = f"davs://{SE_HOST}:2880/" if name == "webdav_door" else f"root://{XROOTD_HOST}:1094/"
        if w.active(SE_DOWNTIME, now):
            return {"status": 2, "message": f"{url}: connection refused (scheduled downtime 38472 in GOCDB)"}
        return {"status": 0, "message": f"{url}: read/write of a 1 MB test file in {r.uniform(0.2, 1.5):.2f} s"}
    if name == "dcache_pools":
        pools = [p for ps in POOL_GROUPS.values() for p in ps]
        disabled = [f"{p} ({pool_mode(w, p, now)})" for p in pools if pool_mode(w, p, now) != "enabled"]
        full = [f"{p} {100 * pool_fill(w, p, now):.1f}% full" for p in pools if pool_fill(w, p, now) > 0.95]
        if disabled or full:
            parts = [f"{len(disabled)} of {len(pools)} pools disabled: " + ", ".join(disabled)] if disabled else []
            parts += full
            return {"status": 1, "message": "; ".join(parts)}
        return {"status": 0, "message": f"all {len(pools)} pools enabled, none above 95% full"}
    if name == "squid":
        return {"status": 0, "message": f"{len(SQUIDS)}/{len(SQUIDS)} frontier-squid instances answer on port 3128"}
    if name == "argus":
        seconds = r.uniform(0.03, 0.2)
        return {"status": 0, "message": f"PEP {fqdn('argus')}:8154 authorized the test DN in {seconds:.2f} s"}
    if name == "site_bdii":
        entries = r.randrange(4100, 4400)
        return {"status": 0, "message": f"ldap://{fqdn('site-bdii')}:2170 answered with {entries} entries"}
    if name == "apel":
        published = now.replace(hour=3, minute=15, second=0, microsecond=0)
        if published > now:
            published -= timedelta(days=1)
        age = (now - published).total_seconds() / 3600
        return {"status": 0, "message": f"last APEL publication {age:.1f} h ago ({published:%Y-%m-%d %H:%M} UTC)"}
    if name == "cvmfs":
        return {"status": 0, "message": f"cms.cern.ch revision {71200 + (epoch(now) - epoch(w.start)) // 7200}, "
                                        f"cache {r.randrange(55, 75)}% used on the worker nodes"}
    return None


PROBES = ("squid", "argus", "site_bdii", "apel", "cvmfs", "webdav_door", "xrootd_door", "dcache_pools")
