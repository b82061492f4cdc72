"""``dcache_pools``: every pool of a dCache instance from its REST frontend, one row per pool.

A disabled or full pool makes files unreadable or uploads fail long before the storage SAM tests
notice, and the group totals (``/poolgroups/<g>/usage``) hide a single bad pool; so this collector
asks each pool. ``fetch()`` reads ``GET /api/v1/pools`` (objects, or a plain list of names from old
dCache; skipped when ``pools`` is given), then ``/api/v1/pools/<pool>/usage`` one pool after the
other (gentle on the frontend), and returns one document ``{"pools": [...], "usage": {pool: doc},
"failed": {pool: reason}}`` so that ``parse()`` stays pure. Pool usage needs the frontend's admin
role: the X.509 certificate (``cert``/``key``) or token must map to it, and a 401/403 fails the
module with that reason. Any other failure of one pool (HTTP 500, a timeout, a malformed answer)
is that pool missing: the others are rated, the pool is named, and the module's ``partial`` policy
decides what the gap costs (at most warning by default; no information when over half are missing).

``used_fraction`` counts removable (cached) bytes as free, since dCache evicts them on demand: a
cache pool full of removable replicas works as intended. ``health`` is 1.0 for a fine pool, 0.5 for
a full or read-only one (``disabled(store,...)`` still serves reads), for an enabled pool whose
space is unknown (no total or free bytes, or a total of 0: nobody can say it has room) and for
one whose movers are saturated (every mover active, ``saturated_queue`` or more transfers queued:
clients wait), 0.0 for a pool that serves no reads (``fetch`` or ``dead`` disabled, or no
details). ``problem`` says which. The default rating is the weakest link of ``health``, labelled
by pool: the message names the pool to act on, which a count would not.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pandas as pd
import param

from hfpanel.collector import ParseResult, SourceError, each
from hfpanel.http import HttpCollector, redact_url
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
    saturated_queue = param.Integer(
        default=1,
        bounds=(1, None),
        doc=(
            "A pool whose movers are all active (active >= maxActive) with at least this many transfers queued is "
            "saturated (warning)."
        ),
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
        """The listing and every pool's usage; a pool whose request fails is kept in ``failed`` with
        its reason (``parse`` reports it missing) -- except a refused credential, which is no pool's
        fault and fails the module."""
        if not self.url:
            raise SourceError("no url configured (the frontend, e.g. https://dcache.example.org:3880)")
        listing = self.pools or self._get("/api/v1/pools", "the pool list")
        usage, failed = {}, {}
        for name in _names(listing):
            path = f"/api/v1/pools/{quote(name, safe='')}/usage"
            try:
                usage[name] = self._get(path, f"the usage of pool {name}")
            except SourceError as error:
                if str(error).startswith(("HTTP 401", "HTTP 403")):
                    raise
                failed[name] = str(error).replace(f" from {redact_url(self.url.rstrip('/') + path)}", "")
        return json.dumps({"pools": listing, "usage": usage, "failed": failed}).encode("utf-8")

    def parse(self, payload: bytes) -> ParseResult:
        doc = _checked(load_json(payload), "the pools")
        if not isinstance(doc, dict) or not {"pools", "usage"} <= set(doc) or not isinstance(doc["usage"], dict):
            raise SourceError("not a dcache_pools payload (expected {pools, usage} as written by fetch())")
        names = _names(doc["pools"])
        groups = {p["name"]: p.get("groups") for p in doc["pools"] if isinstance(p, dict)}
        failed = doc.get("failed") or {}

        def read(pool: str) -> dict:
            """One pool's row; a pool that did not answer, or answered nonsense, is missing (SourceError)."""
            if pool in failed:
                raise SourceError(str(failed[pool]))
            if pool not in doc["usage"]:
                raise SourceError("no usage in the payload")
            usage = _checked(doc["usage"][pool], f"the usage of pool {pool}")
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

            return {
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

        rows, missing = each(names, read, "pool", key=lambda _, pool: pool)
        pools = pd.DataFrame(rows)
        counts = [f"{k}_bytes" for k in SPACE] + [
            "movers_active",
            "movers_max",
            "movers_queued",
            "restore_queued",
            "store_queued",
        ]
        pools[counts] = pools[counts].round().astype("Int64")
        full = (pools["used_fraction"] >= self.full_fraction).fillna(False)
        # no total, no free, or a total of zero: nobody can say the pool has room, so it is not "fine"
        unknown = (pools["total_bytes"].isna() | pools["free_bytes"].isna() | (pools["total_bytes"] <= 0)).astype(bool)
        busy = pools["movers_max"].gt(0) & pools["movers_active"].ge(pools["movers_max"])
        saturated = (busy & pools["movers_queued"].ge(self.saturated_queue)).fillna(False).astype(bool)
        no_reads = pools["mode"].str.contains(r"fetch|dead|unknown", regex=True)
        enabled = pools["enabled"].astype(bool)
        pools["health"] = 1.0
        pools.loc[full | ~enabled | (unknown & enabled) | saturated, "health"] = 0.5
        pools.loc[no_reads & ~enabled, "health"] = 0.0
        pools["problem"] = [
            "; ".join(
                text
                for text, bad in (
                    (f"not enabled: {m}", not e),
                    (f"full ({u:.0%} used)", f),
                    ("space unknown (no total or free bytes, or a total of 0)", k and e),
                    (f"movers saturated ({a}/{x} active, {q} queued)", sat),
                )
                if bad
            )
            for m, e, u, f, k, sat, a, x, q in zip(
                pools["mode"],
                enabled,
                pools["used_fraction"],
                full,
                unknown,
                saturated,
                pools["movers_active"],
                pools["movers_max"],
                pools["movers_queued"],
            )
        ]
        queued = pools[["movers_queued", "restore_queued", "store_queued"]].sum().sum()
        metrics = {
            "pools": len(pools),
            "disabled": int((~enabled).sum()),
            "full": int(full.sum()),
            "space_unknown": int((unknown & enabled).sum()),
            "saturated": int(saturated.sum()),
            "free_bytes": pools["free_bytes"].sum(),
            "queued": queued,
        }
        message = f"{metrics['disabled']} of {len(pools)} pools disabled, {metrics['full']} full" + "".join(
            f", {metrics[key]} {text}"
            for key, text in (("saturated", "with saturated movers"), ("space_unknown", "with unknown space"))
            if metrics[key]
        )
        return ParseResult(
            tables={"pools": pools},
            metrics={k: float(v) for k, v in metrics.items()},
            message=message,
            missing=missing,
            expected={"pool": len(names)},
            labels={"pool": list(pools["pool"][~enabled | full | saturated | (unknown & enabled)])},
        )
