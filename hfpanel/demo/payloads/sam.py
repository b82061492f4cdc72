"""SAM/ETF test results as served by CERN MONIT through Grafana's ``_msearch`` proxy (the
``monit_prod_sam3_enr_metric`` documents: ``metadata`` + ``data`` per host x flavour x metric).
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime

from .common import (
    CE_FAILURE,
    CE_FLAVOURS,
    FAILING_CE,
    GOCDB_SITE,
    SE_DOWNTIME,
    SE_HOST,
    SITE,
    SLOW_ARC,
    SLOW_CE,
    XROOTD_HOST,
    dumps,
    epoch,
    fqdn,
    from_epoch,
    rng,
)

# tests run against the site
JOBSUBMIT = {"HTCONDOR-CE": "org.sam.CONDOR-JobSubmit-/cms-ce-token", "ARC-CE": "org.sam.ARC-JobSubmit-/cms-ce-token"}
WN_METRICS = ("org.cms.WN-99summary-/cms-ce-token", "org.cms.WN-cvmfs-/cms-ce-token")
SE_TESTS = (
    (SE_HOST, "SRM", "org.cms.SRM-VOPut-/cms/Role=production"),
    (SE_HOST, "SRM", "org.cms.SRM-VOGet-/cms/Role=production"),
    (SE_HOST, "WEBDAV", "org.cms.SE-WebDAV-99summary"),
    (XROOTD_HOST, "XROOTD", "org.cms.SE-XRootD-99summary"),
)


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
            return (
                "CRITICAL",
                "CRITICAL: SRM ping failed",
                f"CRITICAL: [SE][srmPing][] httpg://{host}:8443/srm/managerv2: Connection refused",
            )
        if flavour == "WEBDAV":
            return (
                "CRITICAL",
                "CRITICAL: connection test failed",
                f"[ERROR] connection: davs://{host}:2880/: Could not connect to server (Connection refused), "
                "[SKIPPED] ssl, [SKIPPED] read, [SKIPPED] write, [SKIPPED] delete",
            )
        return (
            "CRITICAL",
            "CRITICAL: connection test failed",
            f"[ERROR] connection: root://{host}:1094: [FATAL] Socket error: Connection refused, [SKIPPED] read",
        )
    if short == FAILING_CE and w.active(CE_FAILURE, tested):
        if metric == JOBSUBMIT.get(flavour):
            return (
                "CRITICAL",
                "CRITICAL: job submission failed",
                f"CRITICAL: Failed to submit job: Error from schedd at {host}: Failed to queue job: "
                "cannot write to /var/lib/condor-ce/spool: No space left on device (errno 28)",
            )
        return (
            "UNKNOWN",
            "UNKNOWN: no fresh result, the test job could not be submitted",
            f"UNKNOWN: last WN result is older than 2h; job submission to {host} fails",
        )
    if short == SLOW_CE and metric == JOBSUBMIT.get(flavour) and w.active(SLOW_ARC, tested):
        minutes = 125 + r.randrange(40)
        return (
            "WARNING",
            f"WARNING: job completed after {minutes // 60}h{minutes % 60:02d}m",
            f"WARNING: job {r.randrange(10**9):09x} waited {minutes - 9} min in the ARC-CE queue "
            "(threshold 120 min)<br>>>> output retrieved, exit code 0",
        )
    if metric == JOBSUBMIT.get(flavour):
        return (
            "OK",
            "OK: COMPLETED.",
            f"OK: COMPLETED.<br>>>> {host}: job {r.randrange(100000, 999999)}.0 completed in {r.randrange(120, 900)} s",
        )
    if metric.startswith("org.cms.WN-cvmfs"):
        if r.random() < 0.01:
            return (
                "WARNING",
                "WARNING: cvmfs cache 91% full",
                "cms.cern.ch mounted, revision behind stratum-1 by 1, cache usage 91% (> 90%)",
            )
        return "OK", "OK: cvmfs repositories mounted and up to date", "cms.cern.ch OK, oasis.opensciencegrid.org OK"
    if metric.startswith("org.cms.WN-99summary"):
        return (
            "OK",
            "OK: all 11 worker-node probes OK",
            "WN-basic OK, WN-cvmfs OK, WN-env OK, WN-frontier OK, WN-isolation OK, WN-mc OK, WN-squid OK, "
            "WN-xrootd-access OK, WN-xrootd-fallback OK, WN-analysis OK, WN-remotestageout OK",
        )
    if flavour == "SRM":
        return (
            "OK",
            "OK: File was copied to SRM.",
            f"OK: srm://{host}:8443/srm/managerv2 VOPut/VOGet/VODel in {r.randrange(2, 9)} s",
        )
    if flavour == "WEBDAV":
        return (
            "OK",
            "OK: all WebDAV tests succeeded",
            "[OK] connection, [OK] ssl, [OK] read, [OK] write, [OK] delete, [OK] tpc-pull",
        )
    return "OK", "OK: all XRootD tests succeeded", "[OK] connection, [OK] version 5.7.3, [OK] read, [OK] contain"


def sam_msearch(w, now: datetime, queries: int = 1) -> str:
    """Grafana ``_msearch`` answer: the latest result of each host x flavour x metric."""
    now_s = epoch(now)
    hits = []
    for host, flavour, metric, period in sam_tests():
        tested, ingested, r = _latest_run(w, (host, metric), period * 60, now_s)
        status, summary, details = sam_result(w, host, flavour, metric, from_epoch(tested), r)
        doc_id = hashlib.md5(f"{host}|{metric}|{tested}".encode()).hexdigest()
        hits.append(
            {
                "_index": f"monit_prod_sam3_enr_metric-{from_epoch(tested):%Y-%m-%d}",
                "_type": "_doc",
                "_id": doc_id,
                "_score": None,
                "_source": {
                    "metadata": {
                        "producer": "sam3",
                        "type": "metric",
                        "type_prefix": "raw",
                        "timestamp": tested * 1000,
                        "kafka_timestamp": ingested * 1000 + r.randrange(1000),
                        "_id": doc_id,
                        "topic": "sam3_raw_metric",
                    },
                    "data": {
                        "vo": "cms",
                        "dst_hostname": host,
                        "service_flavour": flavour,
                        "metric_name": metric,
                        "status": status,
                        "summary": summary,
                        "details": details,
                        "timestamp": tested * 1000,
                        "gathered_at": "etf-cms-prod.cern.ch",
                        "dst_experiment_site": SITE,
                        "dst_site": GOCDB_SITE,
                        "dst_federation": "XX-Demo-Federation",
                        "dst_country": "Exampleland",
                        "dst_tier": 2,
                    },
                },
                "sort": [tested * 1000],
            }
        )
    hits.sort(key=lambda h: (h["sort"][0], h["_id"]))
    took = rng(w.seed, "took", now_s).randrange(40, 400)
    response = {
        "took": took,
        "timed_out": False,
        "_shards": {"total": 24, "successful": 24, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": None, "hits": hits},
        "status": 200,
    }
    return dumps({"took": took + 1, "responses": [response] * max(1, queries)})
