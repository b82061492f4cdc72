"""CRIC's documents as rows of a topology: which names and hosts belong to which site.

The format knowledge the ``cric_topology`` collector and the transfer site resolver share (one parser,
in the library, so the library never imports a plugin): ``KINDS`` maps each CRIC answer kind
(``cms_sites``, ``site_names``, ``atlas_ddmendpoints``) to a function giving rows of ``COLUMNS``;
:func:`read` also says which records could not be read (one malformed record costs that record,
not the topology).
"""

from __future__ import annotations

import re

from .collector import Missing, SourceError, each
from .tabular import kind_of

COLUMNS = ["site", "type", "name", "state", "status", "tier", "endpoint", "host"]
_HOST = re.compile(r"[a-z][a-z0-9+.-]*://\[?([A-Za-z0-9.-]+)")
_TIER = re.compile(r"^T(\d)_")
#: what a part of each kind of answer is called when it is missing
SITE, ENDPOINT, ROW = "site", "endpoint", "row"
PARTS = {"cms_sites": SITE, "site_names": ROW, "atlas_ddmendpoints": ENDPOINT}


def _tier(value, site: str):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _TIER.match(site)
    return int(match.group(1)) if match else None


def _records(doc, what: str, missing: list[Missing], part: str) -> list[dict]:
    """Objects keyed by name (or a list of them); CRIC's error answers become their text. A record
    without a name is missing (named by its key or position); none with a name is no answer."""
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
    keys = list(doc) if isinstance(doc, dict) else [f"#{i + 1}" for i in range(len(records))]
    good = [r for r in records if isinstance(r, dict) and isinstance(r.get("name"), str)]
    if not good:
        bad = records[0]
        raise SourceError(f"expected {what} with a 'name', found {kind_of(bad)}")
    missing += [
        Missing(
            part,
            str(key),
            f"{kind_of(r)}, not a record"
            if not isinstance(r, dict)
            else "no 'name'"
            if r.get("name") is None
            else f"'name' is {kind_of(r['name'])}",
        )
        for key, r in zip(keys, records)
        if not (isinstance(r, dict) and isinstance(r.get("name"), str))
    ]
    return good


def _cms_sites(doc, missing: list[Missing]) -> list[dict]:
    rows = []
    for site in _records(doc, "CMS sites", missing, SITE):
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


def _site_names(doc, missing: list[Missing]) -> list[dict]:
    if not (isinstance(doc, dict) and isinstance(doc.get("desc"), dict) and isinstance(doc.get("result"), list)):
        raise SourceError(f"expected a CRIC desc/result table, got {kind_of(doc)}")
    columns = doc["desc"].get("columns") or []
    if {"site_name", "type", "alias"} <= set(columns):
        fields = {"site": "site_name", "type": "type", "name": "alias"}
        kinds = None
    elif {"phedex_name", "psn_name"} <= set(columns):
        fields, kinds = {"site": "psn_name"}, ("psn", "phedex")
    else:
        raise SourceError(
            f"unknown CRIC table columns {columns} (expected site_name/type/alias or phedex_name/psn_name)"
        )
    if not doc["result"]:
        raise SourceError("CRIC returned an empty table (query too narrow, or access refused?)")

    def read(row) -> list[dict]:
        if not (isinstance(row, list) and len(row) == len(columns)):
            raise SourceError(
                f"every result row must be a list of {len(columns)} values ({', '.join(map(str, columns))})"
            )
        record = dict(zip(columns, row))
        if kinds is None:
            out = [{key: record[column] for key, column in fields.items()}]
        else:
            out = [{"site": record["psn_name"], "type": kind, "name": record[f"{kind}_name"]} for kind in kinds]
        odd = [v for r in out for v in (r["site"], r["type"], r["name"]) if not isinstance(v, str)]
        if odd:
            raise SourceError(f"CRIC table values must be names, found {kind_of(odd[0])}")
        return out

    tables, gaps = each(doc["result"], read, ROW, key=lambda index, _: f"result.{index}")
    missing += gaps
    return [{**row, "tier": _tier(None, str(row["site"]))} for rows in tables for row in rows]


def _atlas_ddmendpoints(doc, missing: list[Missing]) -> list[dict]:
    rows = []
    for rse in _records(doc, "ATLAS DDM endpoints", missing, ENDPOINT):
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


def read(kind: str, doc) -> tuple[list[dict], list[Missing], dict[str, int]]:
    """``(rows, missing, expected)`` of a CRIC document of ``kind``: the topology rows of every
    readable record, the records that could not be read (a record without a name, a table row of
    the wrong length or with a value that is not a name) and how many records there were."""
    missing: list[Missing] = []
    rows = KINDS[kind](doc, missing)
    total = len(doc["result"]) if kind == "site_names" else len(doc)
    return rows, missing, {PARTS[kind]: total}
