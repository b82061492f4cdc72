"""Payload generators of the demo-site simulator, in the real wire formats of each source.

Every generator is a pure function of the *world* (seed, start, incident schedule; see
``hfpanel.demo.simulator.Simulator``) and a naive-UTC time, and returns the document as ``str``.
Randomness comes from :func:`~hfpanel.demo.payloads.common.rng` (seeded with a BLAKE2 digest of the
key, never Python's salted ``hash()``), so the same seed and time give the same bytes: a backfill is
reproducible. The formats follow the research notes of the project (field names, types, units and
quirks of SAM/ETF via MONIT, HammerCloud xhr, dCache REST, ``condor_q -json``, GOCDB, Rucio, CRIC).

One module per source family: :mod:`.common` (site topology, incident names, seeded helpers),
:mod:`.sam`, :mod:`.hammercloud`, :mod:`.htcondor`, :mod:`.dcache`, :mod:`.gocdb`, :mod:`.rucio` and
:mod:`.misc` (CRIC, perfSONAR, Frontier/Squid, storage accounting, probes). This package re-exports
the names the simulator, the demo configuration and the tests use.
"""

from __future__ import annotations

from .common import (
    CE_FAILURE,
    DOMAIN,
    FAILING_CE,
    GOCDB_SITE,
    HC_503,
    HC_TIMEOUT,
    POOL_TROUBLE,
    RUCIO_STUCK,
    SE_DOWNTIME,
    SE_HOST,
    SITE,
    SLOW_ARC,
    SLOW_CE,
    XROOTD_HOST,
    epoch,
    fqdn,
)
from .dcache import (
    DISABLED_MODE,
    DISABLED_POOL,
    FULL_POOL,
    POOL_GROUPS,
    dcache_group_pools,
    dcache_group_usage,
    dcache_pool_usage,
    dcache_pools,
)
from .gocdb import gocdb_downtime
from .hammercloud import HC_TESTS, hammercloud
from .htcondor import WORKERS, condor_q, condor_status
from .misc import (
    ACCOUNTING_COLUMNS,
    PEERS,
    PERFSONAR_COLUMNS,
    PROBES,
    accounting_csv,
    cric_sites,
    perfsonar_csv,
    probe,
    squid_html,
)
from .rucio import rucio_rules
from .sam import JOBSUBMIT, WN_METRICS, sam_msearch, sam_tests

__all__ = [
    # site topology and incident names
    "SITE",
    "GOCDB_SITE",
    "DOMAIN",
    "fqdn",
    "SE_HOST",
    "XROOTD_HOST",
    "FAILING_CE",
    "SLOW_CE",
    "epoch",
    "CE_FAILURE",
    "HC_503",
    "HC_TIMEOUT",
    "RUCIO_STUCK",
    "SE_DOWNTIME",
    "POOL_TROUBLE",
    "SLOW_ARC",
    # SAM/ETF
    "JOBSUBMIT",
    "WN_METRICS",
    "sam_tests",
    "sam_msearch",
    # HammerCloud
    "HC_TESTS",
    "hammercloud",
    # HTCondor
    "WORKERS",
    "condor_q",
    "condor_status",
    # dCache
    "POOL_GROUPS",
    "FULL_POOL",
    "DISABLED_POOL",
    "DISABLED_MODE",
    "dcache_pools",
    "dcache_group_pools",
    "dcache_group_usage",
    "dcache_pool_usage",
    # GOCDB, Rucio
    "gocdb_downtime",
    "rucio_rules",
    # CRIC, perfSONAR, Frontier/Squid, accounting, probes
    "cric_sites",
    "PEERS",
    "PERFSONAR_COLUMNS",
    "perfsonar_csv",
    "squid_html",
    "ACCOUNTING_COLUMNS",
    "accounting_csv",
    "PROBES",
    "probe",
]
