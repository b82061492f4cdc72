"""GOCDB's public ``get_downtime`` method: the flat XML (one ``DOWNTIME`` element per affected
service, dates in epoch seconds), with the ``topentity``/``ongoing_only``/window filters.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from .common import GOCDB_SITE, SE_DOWNTIME, SE_HOST, XROOTD_HOST, epoch, fqdn


def downtimes(w) -> list[dict]:
    """Downtimes declared for the site (all of them; the query filters)."""
    se = w.incident(SE_DOWNTIME)
    upgrade = w.start + timedelta(days=4, hours=8)
    return [
        {
            "id": 38472,
            "classification": "SCHEDULED",
            "severity": "OUTAGE",
            "begins": se.begins,
            "ends": se.ends,
            "inserted": se.begins - timedelta(days=5, hours=3),
            "description": "dCache upgrade to 10.2.7 and firmware update of the storage controllers",
            "services": [
                (SE_HOST, "SRM", 91021, f"httpg://{SE_HOST}:8443/srm/managerv2"),
                (SE_HOST, "webdav", 91022, f"https://{SE_HOST}:2880"),
                (XROOTD_HOST, "XROOTD", 91023, f"root://{XROOTD_HOST}:1094"),
            ],
        },
        {
            "id": 38519,
            "classification": "SCHEDULED",
            "severity": "WARNING",
            "begins": upgrade,
            "ends": upgrade + timedelta(hours=2),
            "inserted": w.start + timedelta(hours=60),
            "description": "HTCondor-CE 24.0.7 update, short interruptions of job submission possible",
            "services": [(fqdn("ce01"), "org.opensciencegrid.htcondorce", 91011, f"https://{fqdn('ce01')}:9619")],
        },
    ]


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def gocdb_downtime(w, now: datetime, query: dict) -> str:
    """Flat ``get_downtime`` XML: one ``DOWNTIME`` element per affected service; dates in epoch seconds."""
    topentity = query.get("topentity") or query.get("sitelist")
    rows = []
    for d in downtimes(w):
        if d["inserted"] > now or (topentity and GOCDB_SITE not in topentity.split(",")):
            continue
        if query.get("ongoing_only", "").lower() in ("yes", "y", "true", "1"):
            if not d["begins"] <= now < d["ends"]:
                continue
        elif _day(query.get("windowstart")) or _day(query.get("windowend")):
            lo = _day(query.get("windowstart")) or datetime.min
            hi = (_day(query.get("windowend")) or datetime.max - timedelta(days=1)) + timedelta(days=1)
            if d["ends"] <= lo or d["begins"] >= hi:
                continue
        elif d["ends"] <= now:  # default: ongoing and announced
            continue
        rows.extend(_downtime_xml(d, host, kind, eid, url) for host, kind, eid, url in d["services"])
    if not rows:
        return '<?xml version="1.0" encoding="UTF-8"?>\n<results/>\n'
    return '<?xml version="1.0" encoding="UTF-8"?>\n<results>\n' + "".join(rows) + "</results>\n"


def _downtime_xml(d: dict, host: str, kind: str, endpoint_id: int, url: str) -> str:
    key = f"{d['id']}G0"
    portal = escape(f"https://goc.egi.eu/portal/index.php?Page_Type=Downtime&id={d['id']}")
    return (
        f'  <DOWNTIME ID="{d["id"]}" PRIMARY_KEY="{key}" CLASSIFICATION="{d["classification"]}">\n'
        f"    <PRIMARY_KEY>{key}</PRIMARY_KEY>\n    <HOSTNAME>{host}</HOSTNAME>\n"
        f"    <SERVICE_TYPE>{kind}</SERVICE_TYPE>\n    <ENDPOINT>{host}{kind}</ENDPOINT>\n"
        f"    <HOSTED_BY>{GOCDB_SITE}</HOSTED_BY>\n"
        f"    <GOCDB_PORTAL_URL>{portal}</GOCDB_PORTAL_URL>\n"
        f"    <AFFECTED_ENDPOINTS>\n      <ENDPOINT>\n        <ID>{endpoint_id}</ID>\n"
        f"        <NAME>{host} {kind}</NAME>\n        <URL>{escape(url)}</URL>\n"
        f"        <INTERFACENAME>{kind}</INTERFACENAME>\n        <ENDPOINT_MONITORED>Y</ENDPOINT_MONITORED>\n"
        f"      </ENDPOINT>\n    </AFFECTED_ENDPOINTS>\n"
        f"    <SEVERITY>{d['severity']}</SEVERITY>\n    <DESCRIPTION>{escape(d['description'])}</DESCRIPTION>\n"
        f"    <INSERT_DATE>{epoch(d['inserted'])}</INSERT_DATE>\n"
        f"    <START_DATE>{epoch(d['begins'])}</START_DATE>\n    <END_DATE>{epoch(d['ends'])}</END_DATE>\n"
        f"    <FORMATED_START_DATE>{d['begins']:%Y-%m-%d %H:%M}</FORMATED_START_DATE>\n"
        f"    <FORMATED_END_DATE>{d['ends']:%Y-%m-%d %H:%M}</FORMATED_END_DATE>\n"
        f"  </DOWNTIME>\n"
    )
