"""Rucio's replication-rule listing (``/rules/``): the site's rules as a JSON array or as
``application/x-json-stream`` lines, with Rucio's RFC 1123 dates and STUCK rules during the incident.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from .common import RUCIO_STUCK, SITE, dumps, rng

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc1123(t: datetime | None) -> str | None:
    """Rucio's wire format for dates, independent of the locale."""
    if t is None:
        return None
    return f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t:%Y %H:%M:%S} UTC"


_PRIMARY = (
    "/JetMET0",
    "/Muon0",
    "/EGamma1",
    "/ParkingDoubleMuonLowMass2",
    "/ZeroBias",
    "/DYto2Mu_MLL-50to120_TuneCP5_13p6TeV_powheg-pythia8",
    "/TTto2L2Nu_TuneCP5_13p6TeV_powheg-pythia8",
    "/QCD-4Jets_HT-400to600_TuneCP5_13p6TeV_madgraphMLM-pythia8",
    "/WtoLNu-2Jets_TuneCP5_13p6TeV_amcatnloFXFX-pythia8",
)
_PROCESSED = {
    True: ("/Run2024F-PromptReco-v1/MINIAOD", "/Run2024G-PromptReco-v1/NANOAOD", "/Run2025C-PromptReco-v1/AOD"),
    False: (
        "/RunIII2024Summer24MiniAODv6-150X_mcRun3_2024_realistic_v2-v2/MINIAODSIM",
        "/RunIII2024Summer24NanoAODv15-150X_mcRun3_2024_realistic_v2-v1/NANOAODSIM",
    ),
}
#: account, activity, grouping, expires after days (None: never)
_OWNERS = (
    ("wma_prod", "Production Output", "DATASET", None),
    ("transfer_ops", "Data rebalancing", "DATASET", None),
    ("transfer_ops", "Data Consolidation", "ALL", None),
    ("crab_tape_recall", "Analysis TapeRecall", "DATASET", 14),
    ("jdoe", "User AutoApprove", "DATASET", 14),
    ("asmith", "User AutoApprove", "DATASET", 30),
)
STUCK_ERRORS = (
    "TRANSFER [5] DESTINATION MAKE_PARENT Result HTTP 403 : Permission refused  after 1 attempts",
    "CHECKSUM MISMATCH Source and destination checksums do not match 3f2a9c01 != 1b7e44d0",
)


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
        specs.append(
            {
                "i": i,
                "id": hashlib.blake2b(f"rule-{w.seed}-{i}".encode(), digest_size=16).hexdigest(),
                "account": account,
                "activity": activity,
                "grouping": grouping,
                "name": name,
                "did_type": "DATASET" if "#" in name else "CONTAINER",
                "files": files,
                "bytes": files * r.randrange(2_000_000_000, 4_500_000_000),
                "created": created.replace(microsecond=0),
                "done": done.replace(microsecond=0),
                "expires": created.replace(microsecond=0) + timedelta(days=expires) if expires else None,
                "rse": SITE if r.random() < 0.8 else f"{SITE}|T2_XX_Other",
                "stuck": i < 2,
                "stuck_at": stuck.begins + timedelta(minutes=20 + 50 * i),
            }
        )
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
        rules.append(
            {
                "id": s["id"],
                "subscription_id": None,
                "account": s["account"],
                "scope": "cms" if s["account"] not in ("jdoe", "asmith") else f"user.{s['account']}",
                "name": s["name"],
                "did_type": s["did_type"],
                "state": state,
                "error": error,
                "rse_expression": s["rse"],
                "copies": 1,
                "expires_at": rfc1123(s["expires"]),
                "weight": None,
                "locked": False,
                "locks_ok_cnt": ok,
                "locks_replicating_cnt": replicating,
                "locks_stuck_cnt": stuck_cnt,
                "source_replica_expression": None,
                "activity": s["activity"],
                "grouping": s["grouping"],
                "notification": "NO",
                "stuck_at": stuck_at,
                "purge_replicas": False,
                "ignore_availability": False,
                "ignore_account_limit": False,
                "priority": 3,
                "comments": None,
                "child_rule_id": None,
                "eol_at": None,
                "split_container": False,
                "meta": None,
                "deleted_at": None,
                "created_at": rfc1123(s["created"]),
                "updated_at": rfc1123(updated),
                "bytes": s["bytes"],
            }
        )
    return rules


def rucio_rules(w, now: datetime, stream: bool = False) -> str:
    """The list as one JSON array, or (``stream``) as ``application/x-json-stream`` lines."""
    rules = rucio_rules_list(w, now)
    if stream:
        return "".join(json.dumps(rule) + "\n" for rule in rules)
    return dumps(rules)
