"""Synthetic FTS and XRootD message bodies in the producers' real format (tests, demo, benchmarks).

FTS bodies are what jsoncpp writes (tab-indented, ``"key" : value``, keys sorted) plus the trailing
space FTS >= 3.6 appends (``legacy=True``: EOT); XRootD records follow the WLCG converter (the
Python collector in milliseconds, the Go one in seconds) or the OSG collector. Values are invented
but consistent (throughput = size / transfer time, -1 when the copy never started).
"""

from __future__ import annotations

import json
import random
import uuid

HOSTS = [
    ("eoscms.cern.ch", "davs", 443),
    ("cmsdcadisk.fnal.gov", "davs", 2880),
    ("gfe02.grid.hep.ph.ic.ac.uk", "davs", 2880),
    ("xrootd-local.unl.edu", "root", 1094),
    ("dcache-se-cms.desy.de", "davs", 2880),
    ("storm-fe-cms.cr.cnaf.infn.it", "davs", 8443),
    ("eosatlas.cern.ch", "root", 1094),
]
ENDPOINTS = ["https://fts3-cms.cern.ch:8446", "https://fts3-atlas.cern.ch:8446", "https://cmsfts3.fnal.gov:8446"]
VOS, ACTIVITIES = (
    ["cms", "atlas", "lhcb", "dteam"],
    ["Production Output", "User Subscriptions", "T0 Tape", "Data rebalancing"],
)
ERRORS = [
    (
        "SOURCE",
        "TRANSFER_PREPARATION",
        2,
        "NO_SUCH_FILE_OR_DIRECTORY",
        "Result HTTP 404 : File not found  after 1 attempts",
    ),
    (
        "TRANSFER",
        "TRANSFER",
        110,
        "CONNECTION_TIMED_OUT",
        "Copy failed with mode 3rd pull, with error: Transfer timed out after 3600 seconds",
    ),
    (
        "DESTINATION",
        "TRANSFER_FINALIZATION",
        5,
        "INPUT/OUTPUT_ERROR",
        "Source and destination ADLER32 checksum do not match (009bfc3b != 9f01b7d2)",
    ),
]


def fts_frame(doc: dict, legacy: bool = False) -> str:
    """A body as FTS puts it on the wire."""
    return json.dumps(doc, indent="\t", sort_keys=True, separators=(",", " : ")) + ("\x04" if legacy else " ")


def _url(host, scheme, port, path):
    return f"{scheme}://{host}:{port}{path}"


def fts_complete(rng: random.Random, start_ms: int, state: str | None = None) -> dict:
    """One completion (CO) message as a dict."""
    (src, s_scheme, s_port), (dst, d_scheme, d_port) = rng.sample(HOSTS, 2)
    state = state or rng.choices(["Ok", "Error", "Abort"], [8, 3, 1])[0]
    size = rng.randrange(10**6, 5 * 10**9)
    started = rng.random() > 0.2 or state == "Ok"
    transfer_ms = rng.randrange(1000, 600_000) if started else 0
    scope, phase, code, category, message = rng.choice(ERRORS) if state == "Error" else ("", "", 0, "", "")
    if state == "Abort":
        scope, phase, code, category, message = "TRANSFER", "TRANSFER", 125, "OPERATION_CANCELED", "Transfer canceled"
    job_id, file_id, vo = (
        str(uuid.UUID(int=rng.getrandbits(128), version=1)),
        rng.randrange(10**9, 5 * 10**9),
        rng.choice(VOS),
    )
    path = f"/store/mc/Run3/{uuid.UUID(int=rng.getrandbits(128), version=4)}.root"
    complete = start_ms + transfer_ms + rng.randrange(500, 5000)
    return {
        "activity": rng.choice(ACTIVITIES),
        "auth_method": "oauth2",
        "block_size": 0,
        "buf_size": 0,
        "channel_type": "urlcopy",
        "chk_timeout": 0,
        "cleanup_code": -1,
        "dest_srm_v": "",
        "dst_hostname": dst,
        "dst_protocol": d_scheme,
        "dst_se": f"{d_scheme}://{dst}",
        "dst_site_name": "",
        "dst_url": _url(dst, d_scheme, d_port, path),
        "endpnt": rng.choice(ENDPOINTS),
        "eviction_code": -1,
        "f_size": size,
        "file_id": file_id,
        "file_size": size,
        "final_destination": "",
        "file_metadata": {
            "activity": "x",
            "src_rse": f"RSE_{src.split('.')[0].upper()}",
            "dst_rse": f"RSE_{dst.split('.')[0].upper()}",
            "filesize": size,
            "md5": None,
        },
        "ipver": rng.choice(["ipv4", "ipv6"]),
        "is_archiving": False,
        "is_recoverable": state == "Error",
        "job_id": job_id,
        "job_m_replica": False,
        "job_metadata": {"issuer": "rucio", "multi_sources": False},
        "job_multihop": False,
        "job_state": "UNKNOWN",
        "nstreams": 1 if started else 0,
        "operation_time": complete - start_ms,
        "overwrite_on_disk_deletion_code": -1,
        "overwrite_on_disk_flag": False,
        "protocol": d_scheme,
        "protocol_translation": False,
        "retry": 0 if state == "Ok" else rng.randrange(0, 3),
        "retry_max": 0 if state == "Ok" else 3,
        "scitag": 0,
        "src_hostname": src,
        "src_protocol": s_scheme,
        "src_se": f"{s_scheme}://{src}",
        "src_site_name": "",
        "src_srm_v": "",
        "src_url": _url(src, s_scheme, s_port, path),
        "srm_finalization_time": 0,
        "srm_overhead_percentage": 0.0,
        "srm_overhead_time": 0,
        "srm_preparation_time": 0,
        "srm_space_token_dst": "",
        "srm_space_token_src": "",
        "t__error_message": message,
        "t_channel": f"{src}__{dst}",
        "t_error_code": code,
        "t_failure_phase": phase,
        "t_final_transfer_state": state,
        "t_final_transfer_state_flag": {"Ok": 1, "Error": 0, "Abort": -1}[state],
        "t_timeout": 600 + size // 2**20 * 2,
        "throughput": round(size / (transfer_ms / 1000), 3) if transfer_ms else -1.0,
        "timestamp_tr_st": start_ms + 300 if started else 0,
        "timestamp_tr_comp": start_ms + 300 + transfer_ms if started else 0,
        "tr_bt_transfered": size if state == "Ok" else (rng.randrange(0, size) if started else 0),
        "tr_error_category": category,
        "tr_error_scope": scope,
        "tr_id": f"2026-03-10-0800__{src}__{dst}__{file_id}__{job_id}",
        "tr_timestamp_complete": complete,
        "tr_timestamp_start": start_ms,
        "transfer_lasthop": False,
        "transfer_time": transfer_ms,
        "transfer_type": "3rd pull" if started else "",
        "user_dn": "",
        "vo": vo,
    }


def xrootd_wlcg(rng: random.Random, start_s: int, seconds: bool = False) -> dict:
    """A WLCG file-close record; ``seconds`` True writes times like the Go collector."""
    (server, *_), client = rng.choice(HOSTS), f"wn{rng.randrange(1000)}.example.org"
    read, write = (rng.randrange(0, 4 * 10**9), 0) if rng.random() < 0.8 else (0, rng.randrange(1, 10**9))
    single = read // 3
    end = start_s + rng.randrange(1, 7200)
    scale = 1 if seconds else 1000
    uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return {
        "site_name": "T2_XX_Example",
        "fallback": True,
        "user_dn": "",
        "client_host": client,
        "client_domain": "example.org",
        "server_host": server,
        "server_domain": ".".join(server.split(".")[-2:]),
        "server_ip": "192.0.2.1",
        "unique_id": uid,
        "file_lfn": f"/store/data/{uid}.root",
        "file_size": read + write or rng.randrange(1, 10**9),
        "read_bytes": read,
        "read_single_bytes": single,
        "read_vector_bytes": read - single,
        "write_bytes": write,
        "ipv6": rng.random() < 0.5,
        "start_time": start_s * scale,
        "end_time": end * scale,
        "operation_time": end - start_s,
        "operation": "write" if write else "read",
        "server_site": "T2_XX_Example",
        "user_protocol": "xroot",
        "vo": "cms",
        "metadata": {"producer": "cms", "type": "aaa-ng", "timestamp": end * 1000, "_id": uid},
    }


def xrootd_osg(rng: random.Random, start_s: int) -> dict:
    end = start_s + rng.randrange(1, 3600)
    read = rng.randrange(1, 10**9)
    return {
        "timestamp": end * 1000,
        "start_time": start_s * 1000,
        "end_time": end * 1000,
        "HasFileCloseMsg": 1,
        "operation_time": end - start_s,
        "server_hostname": "origin.chtc.wisc.edu",
        "server_ip": "192.0.2.2",
        "site": "CHTC_ORIGIN",
        "user": "pelican",
        "host": f"e{rng.randrange(9999)}.chtc.wisc.edu",
        "user_domain": "wisc.edu",
        "protocol": "https",
        "ipv6": False,
        "filename": f"/ospool/ap20/data/{uuid.UUID(int=rng.getrandbits(128), version=4)}.gz",
        "filesize": read,
        "read": read,
        "readv": 0,
        "write": 0,
    }


def fts_complete_bodies(n: int, seed: int = 1, start_ms: int = 1_773_129_600_000, legacy_every: int = 0) -> list[str]:
    """``n`` distinct completion bodies, framed as FTS sends them (every ``legacy_every``-th with EOT)."""
    rng = random.Random(seed)
    return [
        fts_frame(fts_complete(rng, start_ms + i * 37), legacy=bool(legacy_every) and i % legacy_every == 0)
        for i in range(n)
    ]


def xrootd_bodies(n: int, seed: int = 1, start_s: int = 1_773_129_600) -> list[str]:
    """``n`` distinct XRootD records: WLCG in ms, WLCG in s and OSG, in turn."""
    rng = random.Random(seed)
    makers = [
        lambda i: xrootd_wlcg(rng, start_s + i),
        lambda i: xrootd_wlcg(rng, start_s + i, seconds=True),
        lambda i: xrootd_osg(rng, start_s + i),
    ]
    return [json.dumps(makers[i % 3](i)) for i in range(n)]
