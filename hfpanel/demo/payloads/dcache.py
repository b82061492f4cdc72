"""dCache's REST frontend (``/api/v1``): pool list, pool groups with ``PoolCostData`` and cell info,
and one pool's ``PoolInfo`` (mode, health). Pool fills are shared with the storage accounting.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from .common import POOL_TROUBLE, SE_DOWNTIME, diurnal, dumps, epoch, fqdn, rng

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
    base = (
        (0.70 + 0.14 * rng(w.seed, "pool", pool).random())
        if group == "cms-disk"
        else (0.55 + 0.20 * rng(w.seed, "pool", pool).random())
    )
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
    return {
        "name": name,
        "active": active,
        "maxActive": max_active,
        "queued": queued,
        "readers": readers,
        "writers": active - readers,
    }


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
        "label": "Pool Cost Info",
        "defaultQueueName": "regular",
        "moverCostFactor": 0.5,
        "mover": _queue("movers", active, max_movers, queued),
        "store": _queue("stores", 0, 0, 0),
        "restore": _queue("restores", 0, 0, 0),
        "p2p": _queue("p2ps", p2p, 10, 0, 1.0),
        "p2pClient": _queue("p2pClients", 0, 10, 0),
        "extendedMoverHash": {
            "regular": _queue("regular", active - wan, int(max_movers * 0.8), queued),
            "wan": _queue("wan", wan, int(max_movers * 0.2), 0),
        },
        "space": {
            "total": total,
            "free": free,
            "precious": 0,
            "removable": min(total - free, int(total * r.uniform(0.005, 0.02))),
            "lru": 0,
            "gap": 4294967296,
            "breakEven": 0.7,
        },
    }


def _cell(w, pool: str, t: datetime) -> dict:
    node = pool.split("_")[0]
    r = rng(w.seed, "cell", pool, epoch(t) // 900)
    return {
        "label": "Cell Info",
        "cellName": pool,
        "cellType": "Generic",
        "cellClass": "UniversalSpringCell",
        "domainName": f"{node}Domain",
        "creationTime": (epoch(w.start) - 86400 * 23) * 1000,
        "state": 1,
        "eventQueueSize": 0,
        "threadCount": r.randrange(180, 240),
        "expectedQueueTime": 0,
        "version": DCACHE_VERSION,
        "release": DCACHE_VERSION,
        "revision": "4f1a2b3c",
        "roundTripTime": r.randrange(1, 6),
    }


def dcache_pools() -> str:
    pools = [{"name": p, "links": POOL_LINKS[g], "groups": [g]} for g, ps in POOL_GROUPS.items() for p in ps]
    return dumps(sorted(pools, key=lambda p: p["name"]))


def dcache_group_pools(group: str) -> str:
    return dumps(POOL_GROUPS[group])


def dcache_group_usage(w, now: datetime, group: str) -> str:
    """``PoolGroupInfo``: aggregated space, ``costDataForPools`` and ``cellDataForPools``."""
    costs = {pool: pool_cost(w, pool, now) for pool in POOL_GROUPS[group]}
    space = {key: sum(c["space"][key] for c in costs.values()) for key in ("total", "free", "precious", "removable")}
    return dumps(
        {
            "groupQueueStat": None,
            "groupFileStat": None,
            "groupSpaceData": {**space, "lru": None, "gap": None, "breakEven": None},
            "costDataForPools": costs,
            "cellDataForPools": {pool: _cell(w, pool, now) for pool in POOL_GROUPS[group]},
        }
    )


def dcache_pool_usage(w, now: datetime, pool: str) -> str:
    """``PoolInfo`` of one pool, with ``poolMode`` and the pool's health."""
    group, mode = pool_group(pool), pool_mode(w, pool, now)
    node, disk = pool.split("_")
    number = int(node[-2:])
    disabled = mode != "enabled"
    return dumps(
        {
            "poolData": {
                "poolGroups": [group],
                "links": POOL_LINKS[group],
                "cellData": _cell(w, pool, now),
                "detailsData": {
                    "label": "Pool Details",
                    "baseDir": f"/srv/dcache/{node.split('-')[1]}_{disk}",
                    "poolVersion": f"{DCACHE_VERSION}({DCACHE_VERSION})",
                    "poolMode": mode,
                    "poolStatusCode": 1 if disabled else 0,
                    "poolStatusMessage": "disabled by admin: RAID controller replacement scheduled" if disabled else "",
                    "pingHeartbeatInSecs": 30,
                    "breakEven": 0.7,
                    "largeFileStore": "NONE",
                    "p2pFileMode": "CACHED",
                    "hotFileReplicationEnabled": False,
                    "hybridInventory": None,
                    "errorCode": 0,
                    "errorMessage": None,
                    "removalReported": True,
                    "hsmLoadSuppressed": False,
                    "tagMap": {"hostname": fqdn(node), "rack": f"R{10 + number}"},
                    "inetAddresses": [f"10.30.4.{20 + number}", f"2001:db8:30:4::{20 + number}"],
                    "costData": pool_cost(w, pool, now),
                },
            }
        }
    )
