"""The demo site's configuration: every collector type pointed at the simulator.

``demo_config(base_url, store)`` returns the mapping that ``hfpanel.config.parse_config`` validates;
``write_demo_config(path, base_url, store)`` writes it as YAML. Every module carries a shifter
instruction and links to its source and to the experts' page.

The source-specific collectors read what they were written for: ``sam`` (SAM/ETF through the MONIT
Grafana proxy), ``hammercloud``, ``htcondor_jobs``/``htcondor_slots`` (saved ``-json`` listings),
``dcache_pools`` (the REST frontend, pool by pool), ``rucio_rules`` (a recorded rule list),
``gocdb_downtimes`` (whose table lets the runner show modules of hosts in an OUTAGE as "downtime")
and ``cric_topology``. The generic collectors stay where they fit best: the worker-node SAM tests
(a selection by metric, which ``sam`` does not make), pool-group totals, perfSONAR and accounting
CSV, the squid status page, the announced-downtimes XML view and the Nagios-style probes.

Transfers: a ``transfers:`` section (no brokers: the demo replays its own FTS/XRootD stream,
:mod:`hfpanel.demo.transfers`, into the spool next to the store) and the "transfers" category,
whose ``ingest_health`` and ``transfer_efficiency`` modules read the store the feed fills.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from . import payloads as p
from .transfers import SITES as TRANSFER_SITES

GGUS = "https://ggus.eu/?mode=ticket_submit"
ICINGA = f"https://icinga.{p.DOMAIN}/icingaweb2/monitoring/list/services"
PERFSONAR_DASH = "https://ps-dash.uc.ssl-hep.org/"
ETF = "https://etf-cms-prod.cern.ch/etf/check_mk/"
SITE_READINESS = "https://cmssst.web.cern.ch/sitereadiness/report.html"
DCACHE_VIEW = f"https://{p.SE_HOST}:3880/"
SAM_MAP = {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0, "UNKNOWN": -1}
SAM_COLUMNS = {
    "host": "data.dst_hostname",
    "flavour": "data.service_flavour",
    "metric": "data.metric_name",
    "status": "data.status",
    "summary": "data.summary",
    "tested_ms": "metadata.timestamp",
}
#: the storage element's hosts: SRM and WebDAV doors on the head node, the XRootD door
SE_HOSTS = [p.SE_HOST, p.XROOTD_HOST]
DOWNTIME_COLUMNS = [
    "ID",
    "CLASSIFICATION",
    "SEVERITY",
    "HOSTNAME",
    "SERVICE_TYPE",
    "DESCRIPTION",
    "START_DATE",
    "END_DATE",
    "FORMATED_START_DATE",
    "FORMATED_END_DATE",
    "GOCDB_PORTAL_URL",
]
CATEGORIES = [
    {"name": "availability", "title": "Site availability (SAM/ETF)", "rollup": "worst"},
    {"name": "compute", "title": "Compute: batch system and HammerCloud", "rollup": "weighted"},
    {"name": "storage", "title": "Storage: dCache pools, doors and accounting", "rollup": "worst"},
    {"name": "data_management", "title": "Data management (Rucio)", "rollup": "worst"},
    {"name": "network", "title": "Network and Frontier/Squid", "rollup": {"type": "k_of_n", "k": 3}},
    {"name": "services", "title": "Site services", "rollup": "weighted"},
    {"name": "site_status", "title": "Downtimes and topology (GOCDB, CRIC)", "rollup": "worst"},
    {"name": "transfers", "title": "Transfers (FTS, XRootD)", "rollup": "worst"},
]
FTS_DASHBOARD = "https://monit-grafana.cern.ch/d/fts-transfers/"
FTS_MONITOR = "https://fts3-cms.cern.ch:8449/fts3/ftsmon/"


def _threshold(metric: str, warning: float, critical: float) -> dict:
    """Threshold rating; the direction follows from the bounds (critical above warning: high is bad)."""
    return {"type": "threshold", "metric": metric, "warning": warning, "critical": critical}


def _module(name, title, category, collector, params, instruction, links, **extra) -> dict:
    return {
        "name": name,
        "title": title,
        "category": category,
        "collector": collector,
        "params": params,
        **extra,
        "instruction": instruction,
        "links": [{"title": t, "url": u} for t, u in links],
    }


def _sam(base: str, name: str, title: str, params: dict, instruction: str) -> dict:
    """A ``sam`` module: the latest SAM/ETF result per host x flavour x metric of the site's CMS tests,
    rated by the collector's default (the worst service, labelled by host: hosts in a GOCDB outage
    make the module "downtime")."""
    return _module(
        name,
        title,
        "availability",
        "sam",
        {"url": base, "vo": "cms", "site": p.SITE, **params},
        instruction,
        [
            ("MONIT Grafana proxy (source)", f"{base}/api/datasources/proxy/9677/_msearch"),
            ("ETF CMS (test details)", ETF),
            ("CMS site readiness", SITE_READINESS),
        ],
    )


def _sam_wn_body() -> str:
    header = {"search_type": "query_then_fetch", "ignore_unavailable": True, "index": ["monit_prod_sam3_enr_*"]}
    query = {
        "size": 500,
        "query": {
            "bool": {
                "filter": [
                    {"range": {"metadata.timestamp": {"gte": "now-3h", "lte": "now", "format": "epoch_millis"}}},
                    {
                        "query_string": {
                            "analyze_wildcard": True,
                            "query": f"data.vo:cms AND data.dst_experiment_site:{p.SITE}",
                        }
                    },
                ]
            }
        },
        "sort": [{"metadata.timestamp": "desc"}],
    }
    return json.dumps(header) + "\n" + json.dumps(query) + "\n"


def _sam_wn(base: str) -> dict:
    """The worker-node tests only: ``sam`` selects hosts and flavours, and the WN tests share the CEs'
    hosts and flavours with job submission, so this selection by metric stays with ``http_json``."""
    url = f"{base}/api/datasources/proxy/9677/_msearch"
    params = {
        "url": url,
        "method": "POST",
        "body": _sam_wn_body(),
        "headers": {"Content-Type": "application/json"},
        "rows": "responses.0.hits.hits.*._source",
        "columns": SAM_COLUMNS,
        "where": {"data.metric_name": list(p.WN_METRICS)},
        "metrics": {
            "critical": {"count_where": {"status": "CRITICAL"}},
            "not_ok": {"count_where": {"status": ["WARNING", "CRITICAL", "UNKNOWN"]}},
        },
    }
    return _module(
        "sam_wn",
        "SAM: worker-node tests",
        "availability",
        "http_json",
        params,
        "Worker-node tests (cvmfs, frontier, environment, stage-out) run inside the SAM job. UNKNOWN usually "
        "follows a failing job submission on the same CE (see 'SAM: compute elements'); CRITICAL on its own "
        "points to a worker-node problem: open a GGUS ticket to the site admins with the failing sub-test.",
        [
            ("MONIT Grafana proxy (source)", url),
            ("ETF CMS (test details)", ETF),
            ("CMS site readiness", SITE_READINESS),
        ],
        rating={"type": "weakest_link", "table": "rows", "column": "status", "map": SAM_MAP, "label": "host"},
    )


def _hammercloud(base: str, test: int) -> dict:
    template, description, local = p.HC_TESTS[test]
    url = f"{base}/hc/app/cms/xhr/json/?action=results&test={test}"
    reads = "the site's own storage" if local else "remote data through AAA (not the local SE)"
    downtime = (
        (
            "It reads the SE, so a declared GOCDB OUTAGE of the SE shows this module as downtime; failed "
            "jobs of the outage stay in the 4-hour window for a while after it. "
        )
        if local
        else ""
    )
    return _module(
        f"hc_template_{template}",
        f"HammerCloud: {description}",
        "compute",
        "hammercloud",
        {"url": base, "app": "cms", "tests": [test], "sites": [p.SITE], "retries": 1},
        f"HammerCloud test {test} (template {template}) runs a CMS analysis job every 10 minutes; it reads {reads}. "
        "Rated on the efficiency (completed / finished) of the sub-jobs of the last 4 hours: below 80% is a "
        f"warning, below 50% critical. {downtime}Look at the failed jobs' logs in HammerCloud and compare with "
        "the SAM and storage modules; if the site is at fault and no downtime is declared, open a GGUS ticket to "
        "the site admins (Support Unit: the site; Type: CMS). If HammerCloud itself does not answer, this module "
        "shows no information: tell the CMS computing operations shifter, not the site.",
        [
            ("HammerCloud xhr (source)", url),
            ("HammerCloud test page", f"https://hammercloud.cern.ch/hc/app/cms/test/{test}/"),
            ("GGUS", GGUS),
        ],
        timeout="2s",
        interval="15m",
        weight=2.0,
        **({"hosts": list(SE_HOSTS)} if local else {}),
    )


def _dcache_space(base: str, group: str, warning: float, critical: float) -> dict:
    url = f"{base}/api/v1/poolgroups/{group}/usage"
    return _module(
        f"dcache_space_{group.replace('-', '_')}",
        f"dCache space of pool group {group}",
        "storage",
        "http_json",
        {
            "url": url,
            "rows": "costDataForPools.*",
            "columns": {"pool": "_key", "total": "space.total", "free": "space.free", "removable": "space.removable"},
            "metrics": {
                "group_free": "groupSpaceData.free",
                "group_total": "groupSpaceData.total",
                "min_free": {"min": "free"},
                "pools": {"count": True},
            },
        },
        f"Free space of pool group {group} as a whole (the pool-group totals of the dCache REST API; single "
        f"pools are judged in 'dCache pools'). Below {warning / 1e12:.0f} TB free is a warning, below "
        f"{critical / 1e12:.0f} TB critical: the group runs full and uploads will fail. Open a GGUS ticket to the "
        "site (more disk, or a deletion campaign with the CMS data management team); a single full pool is a "
        "balancing problem for the storage admins (dcache-admins@demo-t2.example.org) instead.",
        [("dCache REST API (source)", url), ("dCache View", DCACHE_VIEW), ("GGUS", GGUS)],
        interval="15m",
        rating=_threshold("group_free", warning, critical),
    )


def _probe(base: str, name: str, title: str, category: str, instruction: str, weight: float = 1.0, **extra) -> dict:
    url = f"{base}/probe/{name}"
    return _module(
        f"probe_{name}",
        title,
        category,
        "command",
        {"argv": [sys.executable, "-m", "hfpanel.demo.probe", url], "output": "exit_code"},
        instruction,
        [("Probe result (source)", url), ("Site Icinga", ICINGA), ("GGUS", GGUS)],
        weight=weight,
        **extra,
    )


def demo_modules(base: str) -> list[dict]:
    jobs_url, slots_url = f"{base}/condor/q.json", f"{base}/condor/status.json"
    rules_url = f"{base}/rucio/rules/"
    perfsonar_url = f"{base}/perfsonar/throughput.csv"
    gocdb_pi = f"{base}/gocdbpi/public/"
    gocdb = f"{gocdb_pi}?method=get_downtime&topentity={p.GOCDB_SITE}"
    gocdb_page = f"https://goc.egi.eu/portal/index.php?Page_Type=Site&name={p.GOCDB_SITE}"
    cms_disk_pools = list(p.POOL_GROUPS["cms-disk"])
    return [
        # --- availability ---
        _sam(
            base,
            "sam_ce",
            "SAM: compute elements",
            {"service_flavours": ["HTCONDOR-CE", "ARC-CE"]},
            "ETF submits a test job to every compute element (HTCondor-CE, ARC-CE) once an hour; the worker-node "
            "tests run inside it. Each CE is as bad as its worst test (column 'failing' names them). CRITICAL "
            "job submission means jobs cannot be submitted: read the summary, check 'Downtimes (GOCDB)' for a "
            "declared OUTAGE of that CE (then the module shows downtime and needs no ticket), and otherwise open a "
            "GGUS ticket to the site admins naming the CE and quoting the summary. A WARNING (slow jobs) needs a "
            "ticket only if it lasts more than a day.",
        ),
        _sam_wn(base),
        _sam(
            base,
            "sam_se",
            "SAM: storage element tests",
            {"service_flavours": ["SRM", "WEBDAV", "XROOTD"], "hosts": list(SE_HOSTS)},
            "SRM, WebDAV and XRootD tests of the site's storage every 30 minutes, one row per door (host x "
            "flavour). During a declared GOCDB OUTAGE of those hosts the module shows downtime: no ticket, note "
            "it in the shift log. CRITICAL outside a downtime: open a GGUS ticket to the site admins, and tell the "
            "data-management shifter (transfers will fail too).",
        ),
        # --- compute ---
        _module(
            "condor_held",
            "Batch system: held jobs",
            "compute",
            "htcondor_jobs",
            {"url": jobs_url},
            "Jobs in the HTCondor queues of the CEs (condor_q -json). Rated on the share of held jobs: above 10% "
            "is a warning, above 35% critical; the failing rows are the schedds (CEs) holding them. Held jobs "
            "reach the site but cannot start: the 'hold_reasons' table groups them by HoldReasonCode. Memory "
            "holds (code 34) are the VO's business; transfer or spool errors (code 13) are the site's: open a "
            "GGUS ticket to the site admins with one example HoldReason.",
            [
                ("condor_q -json (source)", jobs_url),
                ("HTCondor-CE dashboard", f"https://{p.fqdn('ce01')}/grafana/"),
                ("GGUS", GGUS),
            ],
            interval="10m",
            weight=1.0,
            rating={
                "type": "fraction",
                "table": "jobs",
                "column": "status",
                "states": ["Held"],
                "warning": 0.1,
                "critical": 0.35,
                "label": "schedd",
            },
        ),
        _module(
            "condor_running",
            "Batch system: running jobs",
            "compute",
            "htcondor_jobs",
            {"url": jobs_url},
            "Running jobs of the CEs' queues. Fewer than 40 running jobs while the VOs have work queued "
            "means the site is not getting or not starting pilots: check 'Batch system: held jobs' and the SAM "
            "CE tests, then ask the site admins on their support list before opening a GGUS ticket.",
            [
                ("condor_q -json (source)", jobs_url),
                ("CMS glideinWMS monitoring", "https://monit-grafana.cern.ch/d/glideinwms/"),
            ],
            interval="10m",
            weight=0.5,
            rating=_threshold("running", 40, 10),
        ),
        _module(
            "condor_slots",
            "Batch system: worker-node slots",
            "compute",
            "htcondor_slots",
            {"url": slots_url},
            f"Slots of the {len(p.WORKERS)} worker nodes (condor_status -json): cores used and free, drained and "
            "owner slots. Rated on the drained nodes: 2 or more is a warning, 6 or more critical. One drained "
            "node is routine maintenance; many at once without a downtime deserve an e-mail to the site admins.",
            [("condor_status -json (source)", slots_url), ("Site Icinga", f"https://icinga.{p.DOMAIN}/")],
            interval="30m",
            weight=0.5,
            rating=_threshold("slots_drained", 2, 6),
        ),
        *[_hammercloud(base, test) for test in p.HC_TESTS],
        # --- storage ---
        _module(
            "dcache_pools",
            "dCache pools",
            "storage",
            "dcache_pools",
            {"url": base},
            "Every pool of the dCache instance, read one by one through the REST API: mode, space, transfer "
            "queues. A pool disabled for reads (fetch) makes its files unavailable (critical); a read-only or "
            "more than 95% full pool is a warning (removable cached replicas count as free). Name the pool to "
            "the storage admins (dcache-admins@demo-t2.example.org) if no GOCDB downtime covers it; open a GGUS "
            "ticket if it stays disabled for more than 4 hours.",
            [("dCache REST API (source)", f"{base}/api/v1/pools"), ("dCache View", DCACHE_VIEW), ("GGUS", GGUS)],
            interval="15m",
        ),
        _module(
            "dcache_queues",
            "dCache transfer queues (cms-disk)",
            "storage",
            "dcache_pools",
            {"url": base, "pools": cms_disk_pools},
            "Transfers waiting for a mover, store or restore slot on the cms-disk pools. A queue above 50 means "
            "clients wait; above 200 transfers time out. Check whether one pool carries the queue (hot files: "
            "ask the storage admins to replicate them) or all pools (too few movers or a slow disk backend: "
            "GGUS ticket to the site).",
            [
                ("dCache REST API (source)", f"{base}/api/v1/pools/{cms_disk_pools[0]}/usage"),
                ("dCache View", DCACHE_VIEW),
            ],
            interval="15m",
            rating=_threshold("queued", 50, 200),
        ),
        _dcache_space(base, "cms-disk", 2.0e14, 1.0e14),
        _dcache_space(base, "cms-local", 4.0e13, 2.0e13),
        _probe(
            base,
            "dcache_pools",
            "dCache pool states (Nagios)",
            "storage",
            "The site's Nagios check of every pool's mode (enabled/disabled) and fill level. It should agree with "
            "'dCache pools'; if only this one warns, the site's own monitoring sees a problem the REST API does "
            "not (ask the storage admins). A disabled pool outside a GOCDB downtime: e-mail the storage admins, "
            "GGUS ticket if it stays disabled for more than 4 hours.",
        ),
        _probe(
            base,
            "webdav_door",
            "dCache WebDAV door",
            "storage",
            "Reads and writes a test file through the WebDAV door. During a declared GOCDB OUTAGE of the SE it "
            "shows downtime. CRITICAL outside a downtime: open a GGUS ticket to the site admins (transfers and "
            "CMS jobs stage-out use this door).",
            hosts=[p.SE_HOST],
        ),
        _probe(
            base,
            "xrootd_door",
            "dCache XRootD door",
            "storage",
            "Reads a test file through the XRootD door used by jobs and AAA. During a declared GOCDB OUTAGE it "
            "shows downtime. CRITICAL outside a downtime: open a GGUS ticket to the site admins and warn the AAA "
            "operators.",
            hosts=[p.XROOTD_HOST],
        ),
        _module(
            "storage_accounting",
            "Storage accounting per share",
            "storage",
            "http_csv",
            {
                "url": f"{base}/accounting/storage.csv",
                "delimiter": ",",
                "columns": list(p.ACCOUNTING_COLUMNS),
                "metrics": {"used_bytes": {"sum": "used_bytes"}, "total_bytes": {"sum": "total_bytes"}},
            },
            "Hourly storage accounting per VO share (what the site reports to WLCG). Informational: compare "
            "used with total before pledges are reviewed; a missing or stale report goes to the site admins "
            "by e-mail, no GGUS ticket needed.",
            [
                ("Accounting CSV (source)", f"{base}/accounting/storage.csv"),
                ("WLCG storage space accounting", "https://monit-grafana.cern.ch/d/storage-space-accounting/"),
            ],
            interval="1h",
            max_age="3h",
            weight=0.5,
        ),
        # --- data management ---
        _module(
            "rucio_rules",
            "Rucio rules to the site",
            "data_management",
            "rucio_rules",
            {"url": rules_url},
            f"Replication rules with {p.SITE} in their RSE expression, counted per state. Problems are STUCK "
            "and SUSPENDED rules and rules REPLICATING for more than a day: one is a warning (read that rule's "
            "error), ten are critical (a site or link problem). Destination errors (permission, space, checksum "
            "at the site) go to the site admins by GGUS ticket; source errors go to the CMS transfer team.",
            [
                ("Rucio rules (source)", rules_url),
                ("CMS Rucio WebUI", "https://cms-rucio-webui.cern.ch/r2d2/manage"),
                ("GGUS", GGUS),
            ],
            interval="30m",
        ),
        _module(
            "rucio_backlog",
            "Rucio replication backlog",
            "data_management",
            "rucio_rules",
            {"url": rules_url},
            "Files still to be copied to the site by all its rules (replicating locks). A backlog above 5000 "
            "files that does not shrink over a day means transfers to the site are slow: check the FTS "
            "dashboards and the SE tests; report to the CMS transfer team first, to the site only if the site's "
            "SE is the cause.",
            [("Rucio rules (source)", rules_url), ("FTS dashboard", "https://monit-grafana.cern.ch/d/fts-transfers/")],
            interval="30m",
            rating=_threshold("locks_replicating", 5000, 20000),
        ),
        # --- network ---
        _module(
            "perfsonar_throughput",
            "perfSONAR throughput",
            "network",
            "http_csv",
            {
                "url": perfsonar_url,
                "delimiter": ",",
                "columns": list(p.PERFSONAR_COLUMNS),
                "metrics": {"min_mbps": {"min": "throughput_mbps"}, "mean_mbps": {"mean": "throughput_mbps"}},
            },
            "Latest iperf3 throughput between the site's perfSONAR node and its main partners. Below 500 Mb/s on "
            "any link is a warning, below 100 Mb/s critical: if one link only, tell the WLCG network "
            "throughput team (wlcg-network-throughput@cern.ch); if all links, open a GGUS ticket to the site.",
            [("perfSONAR CSV (source)", perfsonar_url), ("WLCG perfSONAR dashboards", PERFSONAR_DASH)],
            interval="1h",
            max_age="6h",
            rating=_threshold("min_mbps", 500, 100),
        ),
        _module(
            "perfsonar_retransmits",
            "perfSONAR TCP retransmits",
            "network",
            "http_csv",
            {
                "url": perfsonar_url,
                "delimiter": ",",
                "columns": list(p.PERFSONAR_COLUMNS),
                "where": {"direction": "outbound"},
                "metrics": {"max_retransmits": {"max": "retransmits"}},
            },
            "TCP retransmits in the outbound throughput tests: a high count points to packet loss on the path. "
            "Report persistent values above 5000 to the WLCG network throughput team.",
            [("perfSONAR CSV (source)", perfsonar_url), ("WLCG perfSONAR dashboards", PERFSONAR_DASH)],
            interval="1h",
            max_age="6h",
            rating=_threshold("max_retransmits", 5000, 20000),
        ),
        _module(
            "frontier_squid",
            "Frontier/Squid servers",
            "network",
            "html_table",
            {
                "url": f"{base}/squid/status.html",
                "match": "Hit ratio",
                "metrics": {"requests_per_min": {"sum": "Requests/min"}, "min_hit_ratio": {"min": "Hit ratio"}},
            },
            "Status of the site's Frontier squids (conditions data for every CMS job). One squid DOWN is "
            "tolerable (jobs fail over), both DOWN makes jobs fail: open a GGUS ticket to the site admins and "
            "tell the Frontier team (cms-frontier-support@cern.ch).",
            [
                ("Squid status page (source)", f"{base}/squid/status.html"),
                ("WLCG squid monitoring", "http://wlcg-squid-monitor.cern.ch/snmpstats/mrtgcms/indexcms.html"),
            ],
            rating={
                "type": "weakest_link",
                "table": "rows",
                "column": "Status",
                "map": {"OK": 1.0, "DEGRADED": 0.5, "DOWN": 0.0},
                "label": "Host",
            },
        ),
        _probe(
            base,
            "squid",
            "Squid service probe",
            "network",
            "Nagios check that both frontier-squid instances answer on port 3128. CRITICAL: e-mail the site admins; "
            "GGUS ticket if it lasts more than an hour.",
        ),
        # --- services ---
        _probe(
            base,
            "argus",
            "Argus authorization",
            "services",
            "Nagios check of the Argus PEP that authorizes pilots on the CEs. If CRITICAL, job submission "
            "fails soon after: open a GGUS ticket to the site admins.",
            weight=2.0,
        ),
        _probe(
            base,
            "site_bdii",
            "Site BDII",
            "services",
            "Nagios check of the site BDII (LDAP information system). Failures hide the site's resources from "
            "the information system: GGUS ticket to the site admins if it lasts more than an hour.",
        ),
        _probe(
            base,
            "apel",
            "APEL accounting publication",
            "services",
            "Age of the last APEL accounting publication (daily at 03:15 UTC). Older than 36 h: e-mail the site "
            "admins; the accounting portal will show missing CPU hours.",
            weight=0.5,
        ),
        _probe(
            base,
            "cvmfs",
            "CVMFS on the worker nodes",
            "services",
            "Nagios check that cms.cern.ch is mounted and current on the worker nodes. A stale or missing "
            "repository fails every CMS job: open a GGUS ticket to the site admins at once.",
            weight=2.0,
        ),
        # --- site status ---
        _module(
            "gocdb_downtimes",
            "Downtimes (GOCDB)",
            "site_status",
            "gocdb_downtimes",
            {"url": gocdb_pi, "site": p.GOCDB_SITE, "window": "7d"},
            "Downtimes declared by the site in GOCDB, ongoing and for the next 7 days (one row per affected "
            "service). Modules whose failing hosts are in an ongoing OUTAGE show 'downtime' instead of red: "
            "do not open tickets for them, but note the downtime in the shift log. Failures of services not "
            "listed here still need a ticket. Informational itself: green whenever GOCDB answers.",
            [("GOCDB PI (source)", gocdb), ("GOCDB site page", gocdb_page)],
            interval="15m",
            max_age="2h",
        ),
        _module(
            "gocdb_announced",
            "Announced downtimes (GOCDB XML)",
            "site_status",
            "http_xml",
            {"url": gocdb, "rows": "//DOWNTIME", "columns": DOWNTIME_COLUMNS},
            "Ongoing and announced downtimes of the site as GOCDB's flat XML lists them (with the portal link "
            "of each). Informational: check before a shift which services will be down, and whether a planned "
            "downtime overlaps a data-taking period (tell the CMS site support team if so).",
            [("GOCDB PI (source)", gocdb), ("GOCDB site page", gocdb_page)],
            interval="1h",
            max_age="3h",
            weight=0.5,
        ),
        _module(
            "cric_topology",
            "Site names and status in CRIC",
            "site_status",
            "cric_topology",
            {"url": f"{base}/cric/sites.json", "kind": "cms_sites"},
            f"CMS CRIC's sites with their facility names, tier, state and status: the names under which "
            f"{p.SITE} appears in the other sources. Informational (the list holds other sites too). If "
            f"{p.SITE}'s status is 'waiting_room' or 'disabled', CMS stopped sending work to the site: read the "
            "site support team's reason in CRIC before opening any ticket.",
            [
                ("CRIC site list (source)", f"{base}/cric/sites.json"),
                ("CMS CRIC site page", f"https://cms-cric.cern.ch/cms/site/detail/{p.SITE}/"),
            ],
            interval="1h",
            max_age="6h",
            weight=0.5,
        ),
    ]


def spool_of(store) -> str:
    """The demo's ingest spool: a folder next to the store (never inside it)."""
    return f"{str(store).rstrip('/')}.spool"


def transfer_modules(store: str) -> list[dict]:
    """The feed's own health and the site's FTS efficiency, both read from the store (default ratings:
    ``ingest_health``'s map of 0/1/2, ``transfer_efficiency`` below 90% warning, below 70% critical).
    Hourly: the demo's backfill feeds and aggregates the transfer stream before each of their runs
    (~0.3 s each), and the /transfers views read the 10-minute statistics whatever the interval."""
    return [
        _module(
            "ingest_health",
            "Transfer monitoring feed",
            "transfers",
            "ingest_health",
            {"store": str(store), "spool": spool_of(store), "silence_critical": "30m", "sources": ["fts"]},
            "Health of the FTS/XRootD message feed this dashboard ingests (the demo replays its own stream; "
            "a site runs 'hfpanel ingest' against the MONIT brokers). Critical when no FTS message arrived for "
            "30 minutes or the spool backlog grows: the transfer views below are then stale, not quiet. Check "
            "the ingest service and its log, and the broker, before reading anything into empty plots. "
            "XRootD records may stop alone when the site's door is down; that is not a feed problem.",
            [("FTS dashboard (MONIT)", FTS_DASHBOARD), ("FTS web monitoring", FTS_MONITOR)],
            interval="1h",
            weight=0.5,
        ),
        _module(
            "transfer_efficiency",
            f"FTS transfer efficiency of {p.SITE}",
            "transfers",
            "transfer_efficiency",
            {"store": str(store), "site": p.SITE, "window": "1h", "min_transfers": 10},
            "Share of the last hour's FTS transfers to and from the site that did not fail on the site's "
            "side (source errors when it sends, destination errors when it receives; network timeouts and the "
            "other end's errors do not count). Below 90% is a warning, below 70% critical. The 'links' table "
            "names the worst remote site and direction. Open the transfer matrix and the top errors: 'No space "
            "left on device' means full or disabled pools (storage admins, GGUS ticket if it lasts); "
            "'Connection refused' on every link means the SE's doors are down. During a GOCDB OUTAGE of the SE "
            "this module shows downtime; its failures stay in the window for up to an hour after it ends.",
            [("FTS dashboard (MONIT)", FTS_DASHBOARD), ("FTS web monitoring", FTS_MONITOR), ("GGUS", GGUS)],
            interval="1h",
            hosts=list(SE_HOSTS),
        ),
    ]


def transfers_section(store: str) -> dict:
    """The ``transfers:`` section: no brokers (the demo feeds its spool itself), hosts -> sites."""
    return {
        "spool": spool_of(store),
        "dedup_window": "2d",
        "retention": {"raw": "30d", "stats": "5y"},
        "sites": {"hosts": dict(TRANSFER_SITES)},
    }


def demo_config(base_url: str, store: str) -> dict:
    """The demo site's configuration mapping, with every source served by the simulator at ``base_url``."""
    base = base_url.rstrip("/")
    return {
        "site": {"name": p.SITE, "title": "Demo Tier-2"},
        "store": str(store),
        "levels": {"ok": 0.66, "warning": 0.33},
        "defaults": {"interval": "15m", "timeout": "10s", "max_age": "1h"},
        "categories": [dict(c) for c in CATEGORIES],
        "modules": demo_modules(base) + transfer_modules(store),
        "transfers": transfers_section(store),
        "notifications": notifications_section(store),
    }


def notifications_section(store) -> dict:
    """Rules a Tier-2 might start with, delivered to a mailbox on disk (``<store>.inbox/messages.jsonl``,
    :mod:`hfpanel.demo.inbox`): a critical problem that lasts two runs, per category; sources
    without information for half an hour; the transfer feed. The demo's incidents give a short list
    (README: "The demo's messages")."""
    inbox = f"{store}.inbox"
    return {
        "base_url": "http://localhost:5006",
        "receivers": [
            {"name": "shifters", "command": {"argv": [sys.executable, "-m", "hfpanel.demo.inbox", inbox]}},
        ],
        "rules": [
            {
                "name": "critical",
                "match": {
                    "level": ["critical"],
                    "category": ["availability", "storage", "data_management", "network", "services", "site_status"],
                },
                "for": "2 runs",
                "keep_firing": "30m",
                "group_by": ["site", "category"],
                "repeat": "12h",
                "receivers": ["shifters"],
            },
            {
                # HammerCloud judges its last 4 hours of jobs and the transfer efficiency its last hour:
                # after a downtime they still count its failures for that long
                "name": "critical-jobs-and-transfers",
                "match": {"level": ["critical"], "category": ["compute", "transfers"]},
                "for": "2 runs",
                "keep_firing": "30m",
                "after_downtime": "4h",
                "group_by": ["site", "category"],
                "repeat": "12h",
                "receivers": ["shifters"],
            },
            {
                # a warning that lasts (stuck Rucio rules, a slow CE) is worth a message too
                "name": "lasting-warning",
                "match": {"level": ["warning"]},
                "for": "4h",
                "keep_firing": "1h",
                "after_downtime": "4h",
                "group_by": ["site", "category"],
                "receivers": ["shifters"],
            },
            {
                "name": "no-information",
                "match": {"level": ["noinfo"]},
                "for": "30m",
                "keep_firing": "30m",
                "group_by": ["site", "category"],
                "receivers": ["shifters"],
            },
            {"name": "transfer-feed", "match": {"kind": ["feed_silent", "backlog_high"]}, "receivers": ["shifters"]},
        ],
        # while the storage element is in its scheduled downtime, failing HammerCloud jobs (they read
        # local data) and transfers are its consequence, not news
        "inhibit": [
            {
                "source": {"category": ["storage", "availability"], "level": ["downtime"]},
                "target": {"category": ["compute", "transfers"]},
                "equal": ["site"],
            }
        ],
    }


def write_demo_config(path, base_url: str, store: str) -> Path:
    """Write ``demo_config(base_url, store)`` as YAML to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# hfpanel demo site (generated by hfpanel.demo.site.write_demo_config)\n"
    text += yaml.safe_dump(demo_config(base_url, store), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text)
    return path
