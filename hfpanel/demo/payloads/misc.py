"""The smaller sources: the CRIC site list, a perfSONAR throughput CSV export, the Frontier/Squid
status page (HTML), the storage accounting CSV and Nagios-style service probes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .common import SE_DOWNTIME, SE_HOST, SITE, XROOTD_HOST, diurnal, dumps, epoch, fqdn, from_epoch, rng
from .dcache import POOL_GROUPS, POOL_SIZE, pool_fill, pool_mode


# --- CRIC -------------------------------------------------------------------------------------
def cric_sites() -> str:
    sites = {
        SITE: ("XX_Demo", 2),
        "T1_DE_KIT": ("DE_KIT", 1),
        "T2_DE_DESY": ("DE_DESY", 2),
        "T2_XX_Other": ("XX_Other", 2),
    }
    return dumps(
        {
            name: {
                "name": name,
                "facility": facility,
                "tier_level": tier,
                "state": "ACTIVE",
                "status": "enabled",
                "vo_name": "cms",
                "description": f"{name} CMS site",
            }
            for name, (facility, tier) in sites.items()
        }
    )


# --- perfSONAR throughput (CSV export) --------------------------------------------------------
PERFSONAR_HOST = fqdn("ps-bandwidth")
PEERS = (
    ("T1_DE_KIT", "perfsonar-de-kit.example.net", 9000),
    ("T1_IT_CNAF", "ps-bw.cnaf.example.net", 6000),
    ("T1_US_FNAL", "psonar-fnal.example.net", 2500),
    ("T2_CH_CERN", "psb01.cern.example.net", 8500),
    ("T2_DE_DESY", "perfsonar-desy.example.net", 9000),
    ("T2_IT_Pisa", "ps-pisa.example.net", 4000),
    ("T2_UK_London_IC", "ps-ic.example.net", 3500),
    ("T2_US_Nebraska", "ps-unl.example.net", 2000),
)
PERFSONAR_COLUMNS = (
    "timestamp",
    "source",
    "destination",
    "source_site",
    "destination_site",
    "direction",
    "throughput_mbps",
    "retransmits",
    "tool",
)


def perfsonar_csv(w, now: datetime) -> str:
    """Latest iperf3 throughput test per peer and direction (tests every 4 hours per pair)."""
    now_s, lines = epoch(now), [",".join(PERFSONAR_COLUMNS)]
    for site, host, capacity in PEERS:
        for direction in ("outbound", "inbound"):
            phase = rng(w.seed, "ps-phase", host, direction).randrange(4 * 3600)
            run = (now_s - phase) // (4 * 3600)
            tested = phase + run * 4 * 3600
            r = rng(w.seed, "ps", host, direction, run)
            mbps = capacity * r.uniform(0.55, 0.95) / diurnal(from_epoch(tested), 0.15)
            src, dst = (PERFSONAR_HOST, host) if direction == "outbound" else (host, PERFSONAR_HOST)
            src_site, dst_site = (SITE, site) if direction == "outbound" else (site, SITE)
            lines.append(
                f"{from_epoch(tested):%Y-%m-%dT%H:%M:%SZ},{src},{dst},{src_site},{dst_site},{direction},"
                f"{mbps:.1f},{int(r.expovariate(1 / 300))},iperf3"
            )
    return "\n".join(lines) + "\n"


# --- Frontier/Squid status page ---------------------------------------------------------------
SQUIDS = ("squid01", "squid02")


def squid_html(w, now: datetime) -> str:
    rows = []
    for n, squid in enumerate(SQUIDS):
        r = rng(w.seed, "squid", squid, epoch(now) // 900)
        requests = int(2400 * diurnal(now) * r.uniform(0.8, 1.2) * (1.3 if n == 0 else 0.9))
        uptime_days = (now - w.start).days + 12 + 7 * n
        rows.append(
            f"<tr><td>{fqdn(squid)}:3128</td><td>frontier-squid 5.9-2.1</td><td>OK</td>"
            f"<td>{uptime_days}d {now.hour:02d}h</td><td>{requests}</td><td>{r.uniform(88, 97):.1f}</td>"
            f"<td>{r.uniform(62, 80):.0f}</td><td>{r.randrange(300, 900)}</td>"
            f"<td>{now:%Y-%m-%d %H:%M}</td></tr>"
        )
    return (
        "<!DOCTYPE html>\n<html><head><title>Frontier/Squid status - " + SITE + "</title></head><body>\n"
        f"<h1>Frontier/Squid status for {SITE}</h1>\n"
        f'<table class="info"><tr><th>Site</th><td>{SITE}</td></tr><tr><th>Generated</th>'
        f"<td>{now:%Y-%m-%d %H:%M:%S} UTC</td></tr></table>\n"
        '<table class="squids">\n<thead><tr><th>Host</th><th>Version</th><th>Status</th><th>Uptime</th>'
        "<th>Requests/min</th><th>Hit ratio</th><th>Cache disk used</th><th>Clients</th><th>Last update</th>"
        "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n</body></html>\n"
    )


# --- storage accounting (CSV) -----------------------------------------------------------------
ACCOUNTING_COLUMNS = (
    "timestamp",
    "site",
    "vo",
    "storage_share",
    "storage_type",
    "total_bytes",
    "used_bytes",
    "file_count",
)


def accounting_csv(w, now: datetime) -> str:
    """Hourly storage accounting per share, consistent with the dCache pool fills."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    lines = [",".join(ACCOUNTING_COLUMNS)]
    for share, group in (("CMS_DISK", "cms-disk"), ("CMS_LOCALGROUP", "cms-local")):
        total = POOL_SIZE[group] * len(POOL_GROUPS[group])
        used = sum(int(POOL_SIZE[group] * pool_fill(w, p, hour)) for p in POOL_GROUPS[group])
        lines.append(f"{hour:%Y-%m-%dT%H:%M:%SZ},{SITE},cms,{share},disk,{total},{used},{used // 2_800_000_000}")
    ops_used = 2 * 2**40 + rng(w.seed, "ops", epoch(hour)).randrange(2**36)
    lines.append(f"{hour:%Y-%m-%dT%H:%M:%SZ},{SITE},ops,OPS,disk,{5 * 2**40},{ops_used},{ops_used // 1_000_000_000}")
    return "\n".join(lines) + "\n"


# --- Nagios-style probes ----------------------------------------------------------------------
def probe(w, now: datetime, name: str) -> dict | None:
    """``{"status": 0..3, "message": ...}`` of a service probe, or None if there is no such probe."""
    r = rng(w.seed, "probe", name, epoch(now) // 300)
    if name in ("webdav_door", "xrootd_door"):
        url = f"davs://{SE_HOST}:2880/" if name == "webdav_door" else f"root://{XROOTD_HOST}:1094/"
        if w.active(SE_DOWNTIME, now):
            return {"status": 2, "message": f"{url}: connection refused (scheduled downtime 38472 in GOCDB)"}
        return {"status": 0, "message": f"{url}: read/write of a 1 MB test file in {r.uniform(0.2, 1.5):.2f} s"}
    if name == "dcache_pools":
        pools = [p for ps in POOL_GROUPS.values() for p in ps]
        disabled = [f"{p} ({pool_mode(w, p, now)})" for p in pools if pool_mode(w, p, now) != "enabled"]
        full = [f"{p} {100 * pool_fill(w, p, now):.1f}% full" for p in pools if pool_fill(w, p, now) > 0.95]
        if disabled or full:
            parts = [f"{len(disabled)} of {len(pools)} pools disabled: " + ", ".join(disabled)] if disabled else []
            parts += full
            return {"status": 1, "message": "; ".join(parts)}
        return {"status": 0, "message": f"all {len(pools)} pools enabled, none above 95% full"}
    if name == "squid":
        return {"status": 0, "message": f"{len(SQUIDS)}/{len(SQUIDS)} frontier-squid instances answer on port 3128"}
    if name == "argus":
        seconds = r.uniform(0.03, 0.2)
        return {"status": 0, "message": f"PEP {fqdn('argus')}:8154 authorized the test DN in {seconds:.2f} s"}
    if name == "site_bdii":
        entries = r.randrange(4100, 4400)
        return {"status": 0, "message": f"ldap://{fqdn('site-bdii')}:2170 answered with {entries} entries"}
    if name == "apel":
        published = now.replace(hour=3, minute=15, second=0, microsecond=0)
        if published > now:
            published -= timedelta(days=1)
        age = (now - published).total_seconds() / 3600
        return {"status": 0, "message": f"last APEL publication {age:.1f} h ago ({published:%Y-%m-%d %H:%M} UTC)"}
    if name == "cvmfs":
        return {
            "status": 0,
            "message": f"cms.cern.ch revision {71200 + (epoch(now) - epoch(w.start)) // 7200}, "
            f"cache {r.randrange(55, 75)}% used on the worker nodes",
        }
    return None


PROBES = ("squid", "argus", "site_bdii", "apel", "cvmfs", "webdav_door", "xrootd_door", "dcache_pools")
