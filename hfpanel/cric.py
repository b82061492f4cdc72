"""CRIC's documents as rows of a topology: which names and hosts belong to which site.

The format knowledge the ``cric_topology`` collector and the transfer site resolver share (one parser,
in the library, so the library never imports a plugin): ``KINDS`` maps each CRIC answer kind
(``cms_sites``, ``site_names``, ``atlas_ddmendpoints``) to a function giving rows of ``COLUMNS``.
"""

from __future__ import annotations

import re

from .collector import SourceError
from .tabular import kind_of

COLUMNS = ["site", "type", "name", "state", "status", "tier", "endpoint", "host"]
_HOST = re.compile(r"[a-z][a-z0-9+.-]*://\[?([A-Za-z0-9.-]+)")
_TIER = re.compile(r"^T(\d)_")


def _tier(value, site: str):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _TIER.match(site)
    return int(match.group(1)) if match else None


def _records(doc, what: str) -> list[dict]:
    """Objects keyed by name (or a list of them); CRIC's error answers become their text."""
    if isinstance(doc, dict) and {"desc", "result"} <= set(doc):
        raise SourceError(f"expected {what} keyed by name, got a desc/result table (use kind: site_names)")
    records = list(doc.values()) if isinstance(doc, dict) else doc
    if not isinstance(records, list) or not records:
        raise SourceError(
            f"CRIC returned no {what} (query too narrow, or access refused?)"
            if isinstance(records, list)
            else f"expected {what}, got {kind_of(doc)}"
        )
    if isinstance(doc, dict) and all(isinstance(v, str) for v in records):
        raise SourceError(f"CRIC answered with an error: {'; '.join(records)[:200]}")
    bad = next((r for r in records if not isinstance(r, dict) or not isinstance(r.get("name"), str)), None)
    if bad is not None:
        raise SourceError(f"expected {what} with a 'name', found {kind_of(bad)}")
    return records


def _cms_sites(doc) -> list[dict]:
    rows = []
    for site in _records(doc, "CMS sites"):
        common = {
            "site": site["name"],
            "state": site.get("state"),
            "status": site.get("status"),
            "tier": _tier(site.get("tier_level"), site["name"]),
        }
        rows.append({**common, "type": "cms", "name": site["name"]})
        if site.get("facility"):
            rows.append({**common, "type": "facility", "name": site["facility"]})
    return rows


def _site_names(doc) -> list[dict]:
    if not (isinstance(doc, dict) and isinstance(doc.get("desc"), dict) and isinstance(doc.get("result"), list)):
        raise SourceError(f"expected a CRIC desc/result table, got {kind_of(doc)}")
    columns = doc["desc"].get("columns") or []
    if not all(isinstance(row, list) and len(row) == len(columns) for row in doc["result"]):
        raise SourceError(f"every result row must be a list of {len(columns)} values ({', '.join(map(str, columns))})")
    table = [dict(zip(columns, row)) for row in doc["result"]]
    if {"site_name", "type", "alias"} <= set(columns):
        rows = [{"site": r["site_name"], "type": r["type"], "name": r["alias"]} for r in table]
    elif {"phedex_name", "psn_name"} <= set(columns):
        rows = [
            {"site": r["psn_name"], "type": kind, "name": r[f"{kind}_name"]}
            for r in table
            for kind in ("psn", "phedex")
        ]
    else:
        raise SourceError(
            f"unknown CRIC table columns {columns} (expected site_name/type/alias or phedex_name/psn_name)"
        )
    if not rows:
        raise SourceError("CRIC returned an empty table (query too narrow, or access refused?)")
    odd = [v for row in rows for v in (row["site"], row["type"], row["name"]) if not isinstance(v, str)]
    if odd:
        raise SourceError(f"CRIC table values must be names, found {kind_of(odd[0])}")
    return [{**row, "tier": _tier(None, str(row["site"]))} for row in rows]


def _atlas_ddmendpoints(doc) -> list[dict]:
    rows = []
    for rse in _records(doc, "ATLAS DDM endpoints"):
        urls = " ".join(str(rse.get(key) or "") for key in ("se", "endpoint", "aprotocols", "rprotocols"))
        host = _HOST.search(urls)
        rows.append(
            {
                "site": rse.get("rc_site") or rse.get("site"),
                "type": "rse",
                "name": rse["name"],
                "state": rse.get("state"),
                "status": rse.get("status"),
                "tier": _tier(rse.get("tier_level"), ""),
                "endpoint": rse.get("endpoint"),
                "host": host.group(1).lower() if host else None,
            }
        )
    return rows


KINDS = {"cms_sites": _cms_sites, "site_names": _site_names, "atlas_ddmendpoints": _atlas_ddmendpoints}
