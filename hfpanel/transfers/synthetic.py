"""Synthetic raw ``fts_complete`` / ``xrootd_close`` Arrow tables with the contract's schema.

For tests and benchmarks only: vectorised (10 million rows in seconds, no Python loop per row),
deterministic for a seed, with hosts spread over a few dozen sites so matrices have shape, a
realistic share of failures with FTS's real error scopes/categories, and unique dedup keys.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SITES = [
    ("T0_CH_CERN", "cern.ch"),
    ("T1_US_FNAL", "fnal.gov"),
    ("T1_DE_KIT", "gridka.de"),
    ("T1_IT_CNAF", "cr.cnaf.infn.it"),
    ("T1_UK_RAL", "gridpp.rl.ac.uk"),
    ("T1_FR_CCIN2P3", "in2p3.fr"),
    ("T2_DE_DESY", "desy.de"),
    ("T2_US_Nebraska", "unl.edu"),
    ("T2_UK_London_IC", "hep.ph.ic.ac.uk"),
    ("T2_IT_Pisa", "pi.infn.it"),
    ("T2_ES_CIEMAT", "ciemat.es"),
    ("T2_CH_CSCS", "cscs.ch"),
]
#: one extra domain no topology knows, so "unresolved → domain" shows up in every data set
STRAY_DOMAIN = "example-university.edu"
HOSTS = [
    f"{kind}{i}.{domain}"
    for _, domain in SITES + [("", STRAY_DOMAIN)]
    for kind in ("se", "xrootd")
    for i in range(1, 3)
]
VOS = ["cms", "atlas", "lhcb", "dteam"]
ACTIVITIES = ["Production Output", "Data Consolidation", "T0 Export", "User Subscriptions", "default"]
ERRORS = [  # scope, category, code, pattern (the message is the pattern with a number filled in)
    ("SOURCE", "NO_SUCH_FILE_OR_DIRECTORY", 2, "Failed to stat file (No such file or directory) <n>"),
    ("DESTINATION", "FILE_EXISTS", 17, "Destination file exists and overwrite is not enabled <n>"),
    (
        "TRANSFER",
        "CONNECTION_TIMED_OUT",
        110,
        "Transfer canceled because the gsiftp performance marker timeout of <n> seconds has been exceeded",
    ),
    ("DESTINATION", "INPUT/OUTPUT_ERROR", 5, "Source and destination ADLER32 checksum do not match (<n> != <n>)"),
    ("GENERAL_FAILURE", "INTERRUPTED_SYSTEM_CALL", 4, "Transfer process died with: <n>"),
]
ENDPOINT = "https://fts3-cms.cern.ch:8446"


def _pick(values, index) -> pa.Array:
    """``values[index]`` as a plain string array (a dictionary lookup, vectorised)."""
    return pc.take(pa.array(values, pa.string()), pa.array(index))


def _zipf(rng, n: int, k: int, a: float = 1.1) -> np.ndarray:
    """Indices 0..k-1 with a few busy values and a long tail, as real traffic matrices have."""
    weights = 1.0 / np.arange(1, k + 1) ** a
    return rng.choice(k, size=n, p=weights / weights.sum())


def _const(value: str, n: int) -> pa.Array:
    return pc.take(pa.array([value], pa.string()), pa.array(np.zeros(n, np.int8)))


def _times(rng, n, start_s, span_s):
    t = np.sort(rng.integers(start_s, start_s + span_s, n, dtype=np.int64))
    return t, pa.array(t * 1_000_000, pa.timestamp("us"))


def _text(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*[p if isinstance(p, pa.Array) else pa.scalar(p) for p in parts], "")


def fts_complete(
    n: int,
    start_s: int,
    span_s: int = 86400,
    commit: int = 1,
    seed: int = 0,
    failure_rate: float = 0.15,
    key_offset: int = 0,
) -> pa.Table:
    """``n`` completed transfer attempts with completion times in [start_s, start_s + span_s)."""
    rng = np.random.default_rng(seed)
    t, time = _times(rng, n, start_s, span_s)
    src, dst = _zipf(rng, n, len(HOSTS)), rng.permutation(len(HOSTS))[_zipf(rng, n, len(HOSTS))]
    failed = rng.random(n) < failure_rate
    err = rng.integers(0, len(ERRORS), n)
    size = rng.integers(1_000_000, 5_000_000_000, n, dtype=np.int64)
    transfer_ms = rng.integers(1_000, 600_000, n, dtype=np.int64)
    transfer_ms[failed & (err < 2)] = 0
    moved = np.where(failed, (size * rng.random(n)).astype(np.int64), size)
    moved[transfer_ms == 0] = 0
    file_id = np.arange(key_offset, key_offset + n, dtype=np.int64) + 4_000_000_000
    start_ms = t * 1000 - transfer_ms - 5_000
    job = _text("job-", pc.cast(pa.array(file_id // 16), pa.string()))
    none = pa.nulls(n, pa.string())

    def error_field(i):
        return pc.if_else(pa.array(failed), _pick([e[i] for e in ERRORS], err), pa.scalar(""))

    number = pc.cast(pa.array(rng.integers(0, 1000, n)), pa.string())
    patterns = _pick([e[3] for e in ERRORS], err)
    messages = pc.replace_substring(patterns, "<n>", "")
    messages = _text(messages, " #", number)
    throughput = np.where(transfer_ms > 0, moved / np.maximum(transfer_ms, 1) * 1000.0, np.nan)
    state = np.where(failed, np.where(err == 2, 2, 1), 0)
    return pa.table(
        {
            "time": time,
            "t": pa.array(t),
            "key": _text(
                ENDPOINT,
                "|",
                job,
                "|",
                pc.cast(pa.array(file_id), pa.string()),
                "|",
                pc.cast(pa.array(start_ms), pa.string()),
            ),
            "commit": pa.array(np.full(n, commit, np.int64)),
            "received": time,
            "endpnt": _const(ENDPOINT, n),
            "vo": _pick(VOS, _zipf(rng, n, len(VOS), 2.0)),
            "activity": _pick(ACTIVITIES, _zipf(rng, n, len(ACTIVITIES), 1.5)),
            "job_id": job,
            "file_id": pa.array(file_id),
            "src_hostname": _pick(HOSTS, src),
            "dst_hostname": _pick(HOSTS, dst),
            "src_se": _text("davs://", _pick(HOSTS, src)),
            "dst_se": _text("davs://", _pick(HOSTS, dst)),
            "protocol": _const("davs", n),
            "state": _pick(["Ok", "Error", "Abort"], state),
            "success": pa.array(~failed),
            "file_size": pa.array(size),
            "bytes": pa.array(moved),
            "transfer_ms": pa.array(transfer_ms),
            "operation_ms": pa.array(transfer_ms + 5_000),
            "throughput": pa.array(throughput, from_pandas=True),
            "error_code": pa.array(np.where(failed, np.array([e[2] for e in ERRORS])[err], 0)),
            "error_scope": error_field(0),
            "error_category": error_field(1),
            "error_phase": pc.if_else(pa.array(failed), pa.scalar("TRANSFER"), pa.scalar("")),
            "error_message": pc.if_else(pa.array(failed), messages, pa.scalar("")),
            "error_pattern": pc.if_else(pa.array(failed), patterns, pa.scalar("")),
            "retry": pa.array(np.zeros(n, np.int64)),
            "retry_max": pa.array(np.full(n, 3, np.int64)),
            "ipver": _const("ipv6", n),
            "src_rse": none,
            "dst_rse": none,
            "is_recoverable": pa.array(failed & (err >= 2)),
        }
    )


def xrootd_close(
    n: int, start_s: int, span_s: int = 86400, commit: int = 1, seed: int = 1, key_offset: int = 0
) -> pa.Table:
    """``n`` XRootD file-close records closing in [start_s, start_s + span_s)."""
    rng = np.random.default_rng(seed)
    t, time = _times(rng, n, start_s, span_s)
    server = rng.integers(0, len(HOSTS), n)
    site_index = server // 4
    sites = [s for s, _ in SITES] + [""]
    clients = rng.integers(0, 500, n)
    client_domain = _pick([d for _, d in SITES] + [STRAY_DOMAIN], clients % (len(SITES) + 1))
    client_host = _text("wn", pc.cast(pa.array(clients), pa.string()), ".", client_domain)
    reading = rng.random(n) < 0.9
    read = np.where(reading, rng.integers(0, 4_000_000_000, n, dtype=np.int64), 0)
    written = np.where(reading, 0, rng.integers(0, 4_000_000_000, n, dtype=np.int64))
    duration = rng.integers(1, 3600, n, dtype=np.int64)
    uid = _text("uid-", pc.cast(pa.array(np.arange(key_offset, key_offset + n)), pa.string()))
    lfn = _text("/store/data/file", pc.cast(pa.array(np.arange(key_offset, key_offset + n)), pa.string()), ".root")
    hosts = _pick(HOSTS, server)
    return pa.table(
        {
            "time": time,
            "t": pa.array(t),
            "key": _text(
                hosts,
                "|",
                client_host,
                "|",
                lfn,
                "|",
                pc.cast(pa.array(t - duration), pa.string()),
                "|",
                pc.cast(pa.array(t), pa.string()),
                "|",
                pc.cast(pa.array(read), pa.string()),
                "|",
                pc.cast(pa.array(written), pa.string()),
            ),
            "commit": pa.array(np.full(n, commit, np.int64)),
            "received": time,
            "format": _const("wlcg", n),
            "server_site": _pick(sites, site_index),
            "server_host": hosts,
            "server_domain": _pick([d for _, d in SITES] + [STRAY_DOMAIN], site_index),
            "client_host": client_host,
            "client_domain": client_domain,
            "vo": _pick(VOS, rng.integers(0, len(VOS), n)),
            "user_protocol": _const("xroot", n),
            "file_lfn": lfn,
            "file_size": pa.array(read + written),
            "read_bytes": pa.array(read),
            "read_single_bytes": pa.array(read // 4),
            "read_vector_bytes": pa.array(read - read // 4),
            "write_bytes": pa.array(written),
            "operation": _pick(["read", "write"], (~reading).astype(np.int8)),
            "start_s": pa.array(t - duration),
            "end_s": pa.array(t),
            "operation_time_s": pa.array(duration),
            "ipv6": pa.array(rng.random(n) < 0.5),
            "unique_id": uid,
        }
    )


def site_map() -> dict:
    """The ``transfers.sites`` section that resolves the synthetic hosts (all but the stray)."""
    return {
        "hosts": {},
        "patterns": [{"pattern": rf"\.{domain.replace('.', chr(92) + '.')}$", "site": site} for site, domain in SITES],
    }
