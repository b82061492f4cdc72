"""``dcache_pools``: every pool of a dCache instance from its REST frontend, one row per pool.

A disabled or full pool makes files unreadable or uploads fail long before the storage SAM tests
notice, and the group totals (``/poolgroups/<g>/usage``) hide a single bad pool; so this collector
asks each pool. ``fetch()`` reads ``GET /api/v1/pools`` (objects, or a plain list of names from old
dCache; skipped when ``pools`` is given), then ``/api/v1/pools/<pool>/usage`` one pool after the
other (gentle on the frontend), and returns one document ``{"pools": [...], "usage": {pool: doc}}``
so that ``parse()`` stays pure. Pool usage needs the frontend's admin role: the X.509 certificate
(``cert``/``key``) or token must map to it, and a 403 says so.

``used_fraction`` counts removable (cached) bytes as free, since dCache evicts them on demand: a
cache pool full of removable replicas works as intended. ``health`` is 1.0 for a fine pool, 0.5 for
a full or read-only one (``disabled(store,...)`` still serves reads), 0.0 for a pool that serves no
reads (``fetch`` or ``dead`` disabled, or no details). The default rating is the weakest link of
``health``, labelled by pool: the message names the pool to act on, which a count would not.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pandas as pd
import param

from hfpanel.collector import ParseResult, SourceError
from hfpanel.http import HttpCollector
from hfpanel.tabular import kind_of, load_json

SPACE = ("total", "free", "precious", "removable")


def _checked(doc, what: str):
    """A document from the frontend; dCache's ``{"errors": [...]}`` becomes its message."""
    if isinstance(doc, dict) and "errors" in doc:
        errors = doc["errors"] if isinstance(doc["errors"], list) else [doc["errors"]]
        first = errors[0] if errors else {}
        text = first.get("message") or first.get("title") if isinstance(first, dict) else first
        raise SourceError(f"dCache answered with an error for {what}: {text or json.dumps(doc)[:120]}")
    return doc


def _names(listing) -> list[str]:
    if not isinstance(listing, list):
        raise SourceError(f"expected the pool list of GET /api/v1/pools, got {kind_of(listing)}")
    names = [p.get("name") if isinstance(p, dict) else p for p in listing]
    if not all(isinstance(n, str) and n for n in names):
        raise SourceError("pool list entries must be names or objects with a 'name'")
    if not names:
        raise SourceError("the frontend lists no pools (pool manager down, or pools filtered away?)")
    return names


def _object(value, pool: str, path: str) -> dict:
    if value is not None and not isinstance(value, dict):
        raise SourceError(f"pool {pool}: {path} is {kind_of(value)}, expected an object")
    return value or {}


def _number(value, pool: str, path: str) -> float:
    if value is None:
        return float("nan")
    if type(value) not in (int, float):
        raise SourceError(f"pool {pool}: {path} is {kind_of(value)}, expected a number")
    return float(value)


class DCachePoolsCollector(HttpCollector):
    """Mode, space and transfer queues of each dCache pool; worst pool rated."""

    default_instruction = (
        "A disabled or full dCache pool makes files unavailable or writes fail: check the pool named "
        "in the message in dCache's admin interface and tell the storage admins; open a GGUS ticket "
        "if it is not fixed within a few hours and no downtime covers it."
    )

    payload_suffix = "json"
    event_keys = {"pools": ["pool"]}  # a pool gone or added is an event
    accept = "application/json"
    default_rating = {"type": "weakest_link", "table": "pools", "column": "health", "label": "pool"}

    pools = param.List(
        default=None,
        allow_None=True,
        item_type=str,
        doc=("Pools to read (default: every pool GET /api/v1/pools lists)."),
    )
    full_fraction = param.Number(
        default=0.95,
        bounds=(0, 1),
        doc=("A pool whose used fraction (removable bytes count as free) reaches this is full."),
    )

    def _get(self, path: str, what: str):
        with self.param.update(url=self.url.rstrip("/") + path):
            try:
                return _checked(load_json(self.http_fetch()), what)
            except SourceError as error:
                if str(error).startswith("HTTP 403") and "/usage" in path:
                    raise SourceError(
                        f"HTTP 403 Forbidden reading {what}: pool usage needs the frontend's "
                        "admin role (is the certificate or token mapped to an admin?)"
                    ) from None
                raise

    def fetch(self) -> bytes:
        if not self.url:
            raise SourceError("no url configured (the frontend, e.g. https://dcache.example.org:3880)")
        listing = self.pools or self._get("/api/v1/pools", "the pool list")
        usage = {
            name: self._get(f"/api/v1/pools/{quote(name, safe='')}/usage", f"the usage of pool {name}")
            for name in _names(listing)
        }
        return json.dumps({"pools": listing, "usage": usage}).encode("utf-8")

    def parse(self, payload: bytes) -> ParseResult:
        doc = _checked(load_json(payload), "the pools")
        if not isinstance(doc, dict) or not {"pools", "usage"} <= set(doc) or not isinstance(doc["usage"], dict):
            raise SourceError("not a dcache_pools payload (expected {pools, usage} as written by fetch())")
        names = _names(doc["pools"])
        groups = {p["name"]: p.get("groups") for p in doc["pools"] if isinstance(p, dict)}
        rows = []
        for pool in names:
            usage = _checked(doc["usage"].get(pool), f"the usage of pool {pool}")
            if not isinstance(usage, dict) or not isinstance(usage.get("poolData"), dict):
                raise SourceError(f"usage of pool {pool} has no poolData (not a dCache PoolInfo document)")
            data = usage["poolData"]
            details = _object(data.get("detailsData"), pool, "detailsData")
            mode = details.get("poolMode") or "unknown (no pool details)"
            if not isinstance(mode, str):
                raise SourceError(f"pool {pool}: poolMode is {kind_of(mode)}, expected text")
            cost = _object(details.get("costData"), pool, "costData")
            raw = _object(cost.get("space"), pool, "costData.space")
            space = {k: _number(raw.get(k), pool, f"costData.space.{k}") for k in SPACE}

            def queue(name, key):
                doc = _object(cost.get(name), pool, f"costData.{name}")
                return _number(doc.get(key), pool, f"costData.{name}.{key}")

            rows.append(
                {
                    "pool": pool,
                    "groups": ", ".join(data.get("poolGroups") or groups.get(pool) or []),
                    "mode": mode,
                    "enabled": mode == "enabled",
                    **{f"{k}_bytes": space[k] for k in SPACE},
                    "used_fraction": (space["total"] - space["free"] - space["removable"]) / space["total"]
                    if space["total"] > 0
                    else float("nan"),
                    "movers_active": queue("mover", "active"),
                    "movers_max": queue("mover", "maxActive"),
                    "movers_queued": queue("mover", "queued"),
                    "restore_queued": queue("restore", "queued"),
                    "store_queued": queue("store", "queued"),
                    "status_message": details.get("poolStatusMessage") or "",
                }
            )
        pools = pd.DataFrame(rows)
        counts = [f"{k}_bytes" for k in SPACE] + [
            "movers_active",
            "movers_max",
            "movers_queued",
            "restore_queued",
            "store_queued",
        ]
        pools[counts] = pools[counts].round().astype("Int64")
        full = pools["used_fraction"] >= self.full_fraction
        no_reads = pools["mode"].str.contains(r"fetch|dead|unknown", regex=True)
        pools["health"] = 1.0
        pools.loc[full | ~pools["enabled"], "health"] = 0.5
        pools.loc[no_reads & ~pools["enabled"], "health"] = 0.0
        queued = pools[["movers_queued", "restore_queued", "store_queued"]].sum().sum()
        metrics = {
            "pools": len(pools),
            "disabled": int((~pools["enabled"]).sum()),
            "full": int(full.sum()),
            "free_bytes": pools["free_bytes"].sum(),
            "queued": queued,
        }
        message = f"{metrics['disabled']} of {len(pools)} pools disabled, {metrics['full']} full"
        return ParseResult(tables={"pools": pools}, metrics={k: float(v) for k, v in metrics.items()}, message=message)
