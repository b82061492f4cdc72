"""Shared ground of the payload generators: the demo site's topology and incident names, and the
helpers every source uses.

:func:`rng` is a ``random.Random`` seeded with a BLAKE2 digest of its key (never Python's salted
``hash()``), so the same seed and time give the same bytes in every process: a backfill is
reproducible. Times are naive UTC.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import random
from datetime import datetime, timedelta

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


def dumps(doc) -> str:
    """A JSON document as the JSON sources send it: indented, with a final newline."""
    return json.dumps(doc, indent=1) + "\n"
