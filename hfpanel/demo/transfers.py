"""The demo site's transfer feed: FTS completion messages and XRootD file-close records.

Bodies come from :mod:`hfpanel.transfers.generate` (the producers' wire format), retargeted so that
the demo SE (``SE_HOST``) or its XRootD door is one end of most transfers and a few real CMS
storage hosts the other. Time is cut into fixed slots, each with its own seeded generator, so the
messages of any interval are the same whichever interval asked for them: a resumed demo
regenerates only its new interval, and a replayed overlap is dropped by the ingest's dedup keys.

The demo's incidents show up as an expert would see them in FTS: during ``SE_DOWNTIME`` transfers
to and from the demo SE fail (connection refused on the site's side, timeouts of copies in flight)
and the XRootD door goes quiet; during ``POOL_TROUBLE`` most writes to the SE fail with
``NO_SPACE_LEFT_ON_DEVICE`` (errno 28) on the destination side.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from urllib.parse import urlsplit

from ..transfers import generate
from . import payloads as p
from .payloads.common import diurnal, from_epoch, rng

FTS_SLOT_S, XROOTD_SLOT_S = 30, 60
FTS_RATE, XROOTD_RATE = 0.6, 0.5  # chance per slot (x the daily cycle): one FTS message every ~50 s
FTS_DESTINATION = "/topic/transfer.fts_monitoring_complete"
XROOTD_DESTINATION = "/topic/xrootd.cms.aaa-ng"
#: the partner storage hosts (scheme, port as generate.HOSTS has them) and their sites
PEERS = {
    "eoscms.cern.ch": "T2_CH_CERN",
    "cmsdcadisk.fnal.gov": "T1_US_FNAL",
    "dcache-se-cms.desy.de": "T2_DE_DESY",
    "storm-fe-cms.cr.cnaf.infn.it": "T1_IT_CNAF",
}
DOORS = {
    **{h: (s, port) for h, s, port in generate.HOSTS if h in PEERS},
    p.SE_HOST: ("davs", 2880),
    p.XROOTD_HOST: ("root", 1094),
}
#: host -> site for the ``transfers.sites.hosts`` map of the demo configuration
SITES = {**PEERS, p.SE_HOST: p.SITE, p.XROOTD_HOST: p.SITE}
FTS_SERVERS = ["https://fts3-cms.cern.ch:8446", "https://cmsfts3.fnal.gov:8446"]
REMOTE_CLIENTS = ["cern.ch", "fnal.gov", "desy.de", "infn.it", "ufl.edu"]


def _active(incidents, at: datetime) -> set[str]:
    return {i.name for i in incidents if i.active(at)}


def _retarget(doc: dict, src: str, dst: str) -> None:
    """Point a generated message at ``src`` -> ``dst`` (hosts, URLs, SEs, RSEs, channel, id)."""
    for side, host in (("src", src), ("dst", dst)):
        scheme, port = DOORS[host]
        path = urlsplit(doc[f"{side}_url"]).path
        doc.update(
            {
                f"{side}_hostname": host,
                f"{side}_protocol": scheme,
                f"{side}_se": f"{scheme}://{host}",
                f"{side}_url": f"{scheme}://{host}:{port}{path}",
            }
        )
        doc["file_metadata"][f"{side}_rse"] = SITES[host] + ("_Disk" if SITES[host].startswith("T1_") else "")
    doc["protocol"], doc["t_channel"] = doc["dst_protocol"], f"{src}__{dst}"


def _fail(doc: dict, scope: str, phase: str, code: int, category: str, message: str, started: bool) -> None:
    """Turn a message into a failed attempt; a refused connection never started copying."""
    doc.update(
        {
            "t_final_transfer_state": "Error",
            "t_final_transfer_state_flag": 0,
            "is_recoverable": True,
            "tr_error_scope": scope,
            "t_failure_phase": phase,
            "t_error_code": code,
            "tr_error_category": category,
            "t__error_message": message,
            "retry_max": 3,
        }
    )
    if not started:
        doc.update(
            {
                "transfer_time": 0,
                "throughput": -1.0,
                "tr_bt_transfered": 0,
                "nstreams": 0,
                "timestamp_tr_st": 0,
                "timestamp_tr_comp": 0,
                "transfer_type": "",
            }
        )
    elif doc["tr_bt_transfered"] >= doc["file_size"]:
        doc["tr_bt_transfered"] = doc["file_size"] // 3


def _incident_failure(r, doc: dict, active: set[str], src: str, dst: str) -> None:
    """What the demo incidents do to a transfer touching the demo SE (nothing otherwise)."""
    into, out_of = SITES[dst] == p.SITE, SITES[src] == p.SITE
    if p.SE_DOWNTIME in active and (into or out_of):
        host = dst if into else src
        if r.random() < 0.3:  # copies in flight when the doors went away
            _fail(
                doc,
                "TRANSFER",
                "TRANSFER",
                110,
                "CONNECTION_TIMED_OUT",
                "Copy failed with mode 3rd pull, with error: Transfer failed: Connection timed out",
                True,
            )
        else:
            _fail(
                doc,
                "DESTINATION" if into else "SOURCE",
                "TRANSFER_PREPARATION",
                111,
                "CONNECTION_REFUSED",
                f"Failed to connect to {host} port {DOORS[host][1]}: Connection refused",
                False,
            )
    elif p.POOL_TROUBLE in active and dst == p.SE_HOST and r.random() < 0.75:
        _fail(
            doc,
            "DESTINATION",
            "TRANSFER",
            28,
            "NO_SPACE_LEFT_ON_DEVICE",
            f"Copy failed with mode 3rd pull, with error: Transfer failed: failure: No space left on device "
            f"(pool {p.FULL_POOL})",
            True,
        )


def _fts(seed, slot: int, incidents) -> tuple[float, str, bytes] | None:
    r = rng(seed, "transfers.fts", slot)
    at = from_epoch(slot * FTS_SLOT_S)
    if r.random() > FTS_RATE * diurnal(at):
        return None
    when = slot * FTS_SLOT_S + round(r.random() * FTS_SLOT_S, 3)
    peers = list(PEERS)
    if r.random() < 0.85:  # the demo site at one end; the SE itself for most, its XRootD door for some
        local = p.SE_HOST if r.random() < 0.8 else p.XROOTD_HOST
        src, dst = (r.choice(peers), local) if r.random() < 0.55 else (local, r.choice(peers))
    else:
        src, dst = r.sample(peers, 2)
    state = r.choices(["Ok", "Error", "Abort"], [95, 4, 1])[0]
    doc = generate.fts_complete(r, 0, state)
    doc.update(vo="cms", endpnt=r.choice(FTS_SERVERS))
    _retarget(doc, src, dst)
    _incident_failure(r, doc, _active(incidents, from_epoch(when)), src, dst)
    shift = int(when * 1000) - doc["tr_timestamp_complete"]  # generated from 0: move to the slot's time
    for key in ("tr_timestamp_start", "tr_timestamp_complete", "timestamp_tr_st", "timestamp_tr_comp"):
        doc[key] = doc[key] + shift if doc[key] else 0
    day = time.strftime("%Y-%m-%d-%H%M", time.gmtime(when))
    doc["tr_id"] = f"{day}__{src}__{dst}__{doc['file_id']}__{doc['job_id']}"
    return when, FTS_DESTINATION, generate.fts_frame(doc).encode()


def _xrootd(seed, slot: int, incidents) -> tuple[float, str, bytes] | None:
    r = rng(seed, "transfers.xrootd", slot)
    at = from_epoch(slot * XROOTD_SLOT_S)
    if r.random() > XROOTD_RATE * diurnal(at) or p.SE_DOWNTIME in _active(incidents, at):
        return None  # the door is down during the SE downtime: no file is opened, none is closed
    end = slot * XROOTD_SLOT_S + r.randrange(XROOTD_SLOT_S)
    doc = generate.xrootd_wlcg(r, 0)
    begin = end - doc["operation_time"]
    if r.random() < 0.7:  # the site's own jobs; the rest is remote AAA reads
        client, domain = p.fqdn(r.choice(p.WORKERS)), p.DOMAIN
    else:
        domain = r.choice(REMOTE_CLIENTS)
        client = f"wn{r.randrange(1000)}.{domain}"
    doc.update(
        site_name=p.SITE,
        server_site=p.SITE,
        server_host=p.XROOTD_HOST,
        server_domain=p.DOMAIN,
        client_host=client,
        client_domain=domain,
        start_time=begin * 1000,
        end_time=end * 1000,
    )
    doc["metadata"]["timestamp"] = end * 1000
    return float(end), XROOTD_DESTINATION, json.dumps(doc).encode()


def stream(incidents, since: float, until: float, seed: int = 0) -> list[tuple[float, str, bytes]]:
    """Messages ``(time, destination, body)`` whose time lies in ``(since, until]`` (epoch seconds),
    oldest first; ``incidents`` is the simulator's schedule."""
    messages = []
    for make, width in ((_fts, FTS_SLOT_S), (_xrootd, XROOTD_SLOT_S)):
        for slot in range(int(since // width), int(until // width) + 1):
            message = make(seed, slot, incidents)
            if message and since < message[0] <= until:
                messages.append(message)
    return sorted(messages, key=lambda m: m[0])
