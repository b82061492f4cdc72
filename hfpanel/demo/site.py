"""The demo site's configuration: the generic collectors pointed at the simulator.

``demo_config(base_url, store)`` returns the mapping that ``hfpanel.config.parse_config`` validates;
``write_demo_config(path, base_url, store)`` writes it as YAML. Every module carries a shifter
instruction and links to its source and to the experts' page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from . import payloads as p

GGUS = "https://ggus.eu/?mode=ticket_submit"
ICINGA = f"https://icinga.{p.DOMAIN}/icingaweb2/monitoring/list/services"
PERFSONAR_DASH = "https://ps-dash.uc.ssl-hep.org/"
SAM_MAP = {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0, "UNKNOWN": -1}
SAM_COLUMNS = {"host": "data.dst_hostname", "flavour": "data.service_flavour", "metric": "data.metric_name",
               "status": "data.status", "summary": "data.summary", "tested_ms": "metadata.timestamp"}
POOL_COLUMNS = {"pool": "_key", "total": "space.total", "free": "space.free", "removable": "space.removable",
                "precious": "space.precious", "movers_active": "mover.active", "movers_max": "mover.maxActive",
                "movers_queued": "mover.queued", "stores_queued": "store.queued", "restores_queued": "restore.queued",
                "p2p_queued": "p2p.queued"}
#: attributes every job ad has (a missing column would fail the module); held jobs keep all columns
JOB_COLUMNS = ["ClusterId", "GlobalJobId", "Owner", "x509UserProxyVOName", "JobStatus", "QDate",
               "EnteredCurrentStatus", "RequestCpus", "RequestMemory"]
RULE_COLUMNS = ["id", "account", "name", "state", "rse_expression", "activity", "locks_ok_cnt",
                "locks_replicating_cnt", "locks_stuck_cnt", "error", "stuck_at", "created_at", "updated_at"]
DOWNTIME_COLUMNS = ["ID", "CLASSIFICATION", "SEVERITY", "HOSTNAME", "SERVICE_TYPE", "DESCRIPTION",
                    "START_DATE", "END_DATE", "FORMATED_START_DATE", "FORMATED_END_DATE", "GOCDB_PORTAL_URL"]
CATEGORIES = [
    {"name": "availability", "title": "Site availability (SAM/ETF)", "rollup": "worst"},
    {"name": "compute", "title": "Compute: batch system and HammerCloud", "rollup": "weighted"},
    {"name": "storage", "title": "Storage: dCache pools, doors and accounting", "rollup": "worst"},
    {"name": "data_management", "title": "Data management (Rucio)", "rollup": "worst"},
    {"name": "network", "title": "Network and Frontier/Squid", "rollup": {"type": "k_of_n", "k": 3}},
    {"name": "services", "title": "Site services", "rollup": "weighted"},
    {"name": "site_status", "title": "Downtimes and topology (GOCDB, CRIC)", "rollup": "worst"},
]


def _sam_body() -> str:
    header = {"search_type": "query_then_fetch", "ignore_unavailable": True, "index": ["monit_prod_sam3_enr_*"]}
    query = {"size": 500, "query": {"bool": {"filter": [
        {"range": {"metadata.timestamp": {"gte": "now-3h", "lte": "now", "format": "epoch_millis"}}},
        {"query_string": {"analyze_wildcard": True, "query": f"data.vo:cms AND data.dst_experiment_site:{p.SITE}"}},
    ]}}, "sort": [{"metadata.timestamp": "desc"}]}
    return json.dumps(header) + "\n" + json.dumps(query) + "\n"


def _threshold(metric: str, warning: float, critical: float) -> dict:
    """Threshold rating; the direction follows from the bounds (critical above warning: high is bad)."""
    return {"type": "threshold", "metric": metric, "warning": warning, "critical": critical}


def _module(name, title, category, collector, params, instruction, links, **extra) -> dict:
    return {"name": name, "title": title, "category": category, "collector": collector, "params": params,
            **extra, "instruction": instruction, "links": [{"title": t, "url": u} for t, u in links]}


def _sam(base: str, name: str, title: str, where: dict, label: str, instruction: str) -> dict:
    params = {"url": f"{base}/api/datasources/proxy/9677/_msearch", "method": "POST", "body": _sam_body(),
              "headers": {"Content-Type": "application/json"}, "rows": "responses.0.hits.hits.*._source",
              "columns": SAM_COLUMNS, "where": where,
              "metrics": {"critical": {"count_where": {"status": "CRITICAL"}},
                          "not_ok": {"count_where": {"status": ["WARNING", "CRITICAL", "UNKNOWN"]}}}}
    return _module(name, title, "availability", "http_json", params, instruction,
                   [("MONIT Grafana proxy (source)", params["url"]),
                    ("ETF CMS (test details)", "https://etf-cms-prod.cern.ch/etf/check_mk/"),
                    ("CMS site readiness", "https://cmssst.web.cern.ch/sitereadiness/report.html")],
                   rating={"type": "weakest_link", "table": "rows", "column": "status", "map": SAM_MAP, "label": label})


def _hammercloud(base: str, test: int) -> dict:
    template, description, local = p.HC_TESTS[test]
    url = f"{base}/hc/app/cms/xhr/json/?action=results&test={test}"
    reads = "the site's own storage" if local else "remote data through AAA (not the local SE)"
    return _module(
        f"hc_template_{template}", f"HammerCloud: {description}", "compute", "http_json",
        {"url": url, "retries": 1, "rows": f"{test}.results.*",
         "columns": ["id", "site", "ganga_status", "submit_time", "start_time", "stop_time", "backendID"],
         "where": {"ganga_status": ["c", "f"]},
         "metrics": {"failed": {"count_where": {"ganga_status": "f"}},
                     "completed": {"count_where": {"ganga_status": "c"}}}},
        f"HammerCloud test {test} (template {template}) runs a CMS analysis job every 10 minutes; it reads {reads}. "
        "Rated on the finished sub-jobs of the last 4 hours. If more than 20% fail, look at the failed jobs' logs in "
        "HammerCloud and compare with the SAM and storage modules; if the site is at fault and no downtime is "
        "declared, open a GGUS ticket to the site admins (Support Unit: the site; Type: CMS). If HammerCloud itself "
        "does not answer, this module shows no information: tell the CMS computing operations shifter, not the site.",
        [("HammerCloud xhr (source)", url),
         ("HammerCloud test page", f"https://hammercloud.cern.ch/hc/app/cms/test/{test}/"), ("GGUS", GGUS)],
        timeout="2s", interval="15m", weight=2.0,
        rating={"type": "fraction", "table": "rows", "column": "ganga_status", "states": ["f"],
                "warning": 0.2, "critical": 0.5})


def _dcache_space(base: str, group: str, warning: float, critical: float) -> dict:
    url = f"{base}/api/v1/poolgroups/{group}/usage"
    return _module(
        f"dcache_space_{group.replace('-', '_')}", f"dCache space of pool group {group}", "storage", "http_json",
        {"url": url, "rows": "costDataForPools.*", "columns": POOL_COLUMNS,
         "metrics": {"min_free": {"min": "free"}, "group_free": "groupSpaceData.free",
                     "group_total": "groupSpaceData.total", "pools": {"count": True}}},
        f"Free space per pool of pool group {group}. The rating looks at the fullest pool: below "
        f"{warning / 1e12:.0f} TB free is a warning, below {critical / 1e12:.1f} TB critical (writes start to fail "
        "on that pool). Check whether the group as a whole is full (group_free) or only one pool (a balancing "
        "problem); e-mail the storage admins (dcache-admins@demo-t2.example.org) for a single pool, open a GGUS "
        "ticket to the site if the whole group runs full.",
        [("dCache REST API (source)", url), ("dCache View", f"https://{p.SE_HOST}:3880/"), ("GGUS", GGUS)],
        interval="15m", rating=_threshold("min_free", warning, critical))


def _probe(base: str, name: str, title: str, category: str, instruction: str, weight: float = 1.0, **extra) -> dict:
    url = f"{base}/probe/{name}"
    return _module(
        f"probe_{name}", title, category, "command",
        {"argv": [sys.executable, "-m", "hfpanel.demo.probe", url], "output": "exit_code"},
        instruction,
        [("Probe result (source)", url), ("Site Icinga", ICINGA), ("GGUS", GGUS)],
        weight=weight, **extra)


def demo_modules(base: str) -> list[dict]:
    jobs_url, slots_url = f"{base}/condor/q.json", f"{base}/condor/status.json"
    rules_url = f"{base}/rucio/rules.json"
    perfsonar_url = f"{base}/perfsonar/throughput.csv"
    gocdb = f"{base}/gocdbpi/public/?method=get_downtime&topentity={p.GOCDB_SITE}"
    ce_metrics = list(p.JOBSUBMIT.values())
    return [
        # --- availability ---
        _sam(base, "sam_ce", "SAM: CE job submission", {"data.metric_name": ce_metrics}, "host",
             "ETF submits a test job to every compute element (HTCondor-CE, ARC-CE) once an hour. CRITICAL means jobs "
             "cannot be submitted: read the summary, check GOCDB for a declared downtime of that CE, and if there is "
             "none open a GGUS ticket to the site admins naming the CE and quoting the summary. A WARNING (slow "
             "jobs) needs a ticket only if it lasts more than a day."),
        _sam(base, "sam_wn", "SAM: worker-node tests", {"data.metric_name": list(p.WN_METRICS)}, "host",
             "Worker-node tests (cvmfs, frontier, environment, stage-out) run inside the SAM job. UNKNOWN usually "
             "follows a failing job submission on the same CE (see 'SAM: CE job submission'); CRITICAL on its own "
             "points to a worker-node problem: open a GGUS ticket to the site admins with the failing sub-test."),
        _sam(base, "sam_se", "SAM: storage element tests",
             {"data.service_flavour": ["SRM", "WEBDAV", "XROOTD"]}, "metric",
             "SRM, WebDAV and XRootD tests of the site's storage every 30 minutes. If CRITICAL, first look at "
             "'Downtimes (GOCDB)': a declared OUTAGE explains it and needs no ticket. Otherwise open a GGUS ticket "
             "to the site admins, and tell the data-management shifter (transfers will fail too)."),
        # --- compute ---
        _module("condor_held", "Batch system: held jobs", "compute", "http_json",
                {"url": jobs_url, "rows": "*",
                 "metrics": {"held": {"count_where": {"JobStatus": 5}}, "idle": {"count_where": {"JobStatus": 1}},
                             "running": {"count_where": {"JobStatus": 2}}}},
                "Jobs in the HTCondor queues of the CEs. Many held jobs (JobStatus 5) mean jobs reach the site but "
                "cannot start: group the held jobs by HoldReason and by CE (GlobalJobId). Memory holds (code 34) "
                "are the VO's business; transfer or spool errors (code 13) are the site's: open a GGUS ticket to "
                "the site admins with one example HoldReason.",
                [("condor_q -json (source)", jobs_url), ("HTCondor-CE dashboard", f"https://{p.fqdn('ce01')}/grafana/"),
                 ("GGUS", GGUS)],
                interval="10m", weight=1.0, rating=_threshold("held", 20, 50)),
        _module("condor_running", "Batch system: running jobs", "compute", "http_json",
                {"url": jobs_url, "rows": "*", "columns": JOB_COLUMNS, "where": {"JobStatus": [2, 6]},
                 "metrics": {"running_cores": {"sum": "RequestCpus"}}},
                "Running jobs and the cores they use. Fewer than 40 running jobs while the VOs have work queued "
                "means the site is not getting or not starting pilots: check 'Batch system: held jobs' and the SAM "
                "CE tests, then ask the site admins on their support list before opening a GGUS ticket.",
                [("condor_q -json (source)", jobs_url),
                 ("CMS glideinWMS monitoring", "https://monit-grafana.cern.ch/d/glideinwms/")],
                interval="10m", weight=0.5, rating=_threshold("rows", 40, 10)),
        _module("condor_slots", "Batch system: worker-node slots", "compute", "http_json",
                {"url": slots_url, "rows": "*", "where": {"SlotType": "Partitionable"},
                 "columns": ["Name", "Machine", "State", "Activity", "Cpus", "TotalSlotCpus", "Memory",
                             "TotalLoadAvg", "Start"],
                 "metrics": {"free_cpus": {"sum": "Cpus"}, "total_cpus": {"sum": "TotalSlotCpus"}}},
                "Partitionable slots of the worker nodes (condor_status). Rated on the fraction of nodes that are "
                "drained or taken by their owner: more than 10% is a warning. One drained node is routine "
                "maintenance; many at once without a downtime deserve an e-mail to the site admins.",
                [("condor_status -json (source)", slots_url), ("Site Icinga", f"https://icinga.{p.DOMAIN}/")],
                interval="30m", weight=0.5,
                rating={"type": "fraction", "table": "rows", "column": "State", "states": ["Owner", "Drained"],
                        "warning": 0.1, "critical": 0.3}),
        *[_hammercloud(base, test) for test in p.HC_TESTS],
        # --- storage ---
        _dcache_space(base, "cms-disk", 2.0e13, 8.0e12),
        _dcache_space(base, "cms-local", 8.0e12, 3.3e12),
        _module("dcache_queues", "dCache mover queues (cms-disk)", "storage", "http_json",
                {"url": f"{base}/api/v1/poolgroups/cms-disk/usage", "rows": "costDataForPools.*",
                 "columns": POOL_COLUMNS,
                 "metrics": {"queued": {"sum": "movers_queued"}, "active": {"sum": "movers_active"},
                             "restores_queued": {"sum": "restores_queued"}}},
                "Transfers waiting for a mover slot on the cms-disk pools. A queue above 50 means clients wait; "
                "above 200 transfers time out. Check whether one pool carries the queue (hot files: ask the storage "
                "admins to replicate them) or all pools (too few movers or a slow disk backend: GGUS ticket to "
                "the site).",
                [("dCache REST API (source)", f"{base}/api/v1/poolgroups/cms-disk/usage"),
                 ("dCache View", f"https://{p.SE_HOST}:3880/")],
                interval="10m", rating=_threshold("queued", 50, 200)),
        _probe(base, "dcache_pools", "dCache pool states", "storage",
               "Nagios check of every pool's mode (enabled/disabled) and fill level through the dCache REST API. A "
               "disabled pool makes its files unavailable: if no GOCDB downtime covers it, e-mail the storage admins "
               "and open a GGUS ticket if it stays disabled for more than 4 hours."),
        _probe(base, "webdav_door", "dCache WebDAV door", "storage",
               "Reads and writes a test file through the WebDAV door. CRITICAL outside a declared GOCDB downtime: "
               "open a GGUS ticket to the site admins (transfers and CMS jobs stage-out use this door).",
               hosts=[p.SE_HOST]),
        _probe(base, "xrootd_door", "dCache XRootD door", "storage",
               "Reads a test file through the XRootD door used by jobs and AAA. CRITICAL outside a declared "
               "downtime: open a GGUS ticket to the site admins and warn the AAA operators.",
               hosts=[p.XROOTD_HOST]),
        _module("storage_accounting", "Storage accounting per share", "storage", "http_csv",
                {"url": f"{base}/accounting/storage.csv", "delimiter": ",",
                 "columns": list(p.ACCOUNTING_COLUMNS),
                 "metrics": {"used_bytes": {"sum": "used_bytes"}, "total_bytes": {"sum": "total_bytes"}}},
                "Hourly storage accounting per VO share (what the site reports to WLCG). Informational: compare "
                "used with total before pledges are reviewed; a missing or stale report goes to the site admins "
                "by e-mail, no GGUS ticket needed.",
                [("Accounting CSV (source)", f"{base}/accounting/storage.csv"),
                 ("WLCG storage space accounting", "https://monit-grafana.cern.ch/d/storage-space-accounting/")],
                interval="1h", max_age="3h", weight=0.5),
        # --- data management ---
        _module("rucio_rules", "Rucio rules to the site", "data_management", "http_json",
                {"url": rules_url, "rows": "*", "columns": RULE_COLUMNS,
                 "metrics": {"stuck": {"count_where": {"state": "STUCK"}},
                             "replicating": {"count_where": {"state": "REPLICATING"}}}},
                f"Replication rules with {p.SITE} in their RSE expression. STUCK rules have files that failed "
                "repeatedly: read the rule's error. Destination errors (permission, space, checksum at the "
                "site) go to the site admins by GGUS ticket; source errors go to the CMS transfer team.",
                [("Rucio rules (source)", rules_url),
                 ("CMS Rucio WebUI", "https://cms-rucio-webui.cern.ch/r2d2/manage"), ("GGUS", GGUS)],
                interval="30m", rating={"type": "fraction", "table": "rows", "column": "state",
                                        "states": ["STUCK", "SUSPENDED"], "warning": 0.05, "critical": 0.25}),
        _module("rucio_backlog", "Rucio replication backlog", "data_management", "http_json",
                {"url": rules_url, "rows": "*", "columns": RULE_COLUMNS,
                 "metrics": {"replicating_locks": {"sum": "locks_replicating_cnt"},
                             "stuck_locks": {"sum": "locks_stuck_cnt"}}},
                "Files still to be copied to the site by all its rules. A backlog above 5000 files that does not "
                "shrink over a day means transfers to the site are slow: check the FTS dashboards and the SE tests; "
                "report to the CMS transfer team first, to the site only if the site's SE is the cause.",
                [("Rucio rules (source)", rules_url),
                 ("FTS dashboard", "https://monit-grafana.cern.ch/d/fts-transfers/")],
                interval="30m", rating=_threshold("replicating_locks", 5000, 20000)),
        # --- network ---
        _module("perfsonar_throughput", "perfSONAR throughput", "network", "http_csv",
                {"url": perfsonar_url, "delimiter": ",", "columns": list(p.PERFSONAR_COLUMNS),
                 "metrics": {"min_mbps": {"min": "throughput_mbps"}, "mean_mbps": {"mean": "throughput_mbps"}}},
                "Latest iperf3 throughput between the site's perfSONAR node and its main partners. Below 500 Mb/s on "
                "any link is a warning, below 100 Mb/s critical: if one link only, tell the WLCG network "
                "throughput team (wlcg-network-throughput@cern.ch); if all links, open a GGUS ticket to the site.",
                [("perfSONAR CSV (source)", perfsonar_url), ("WLCG perfSONAR dashboards", PERFSONAR_DASH)],
                interval="1h", max_age="6h",
                rating=_threshold("min_mbps", 500, 100)),
        _module("perfsonar_retransmits", "perfSONAR TCP retransmits", "network", "http_csv",
                {"url": perfsonar_url, "delimiter": ",", "columns": list(p.PERFSONAR_COLUMNS),
                 "where": {"direction": "outbound"}, "metrics": {"max_retransmits": {"max": "retransmits"}}},
                "TCP retransmits in the outbound throughput tests: a high count points to packet loss on the path. "
                "Report persistent values above 5000 to the WLCG network throughput team.",
                [("perfSONAR CSV (source)", perfsonar_url), ("WLCG perfSONAR dashboards", PERFSONAR_DASH)],
                interval="1h", max_age="6h",
                rating=_threshold("max_retransmits", 5000, 20000)),
        _module("frontier_squid", "Frontier/Squid servers", "network", "html_table",
                {"url": f"{base}/squid/status.html", "match": "Hit ratio",
                 "metrics": {"requests_per_min": {"sum": "Requests/min"}, "min_hit_ratio": {"min": "Hit ratio"}}},
                "Status of the site's Frontier squids (conditions data for every CMS job). One squid DOWN is "
                "tolerable (jobs fail over), both DOWN makes jobs fail: open a GGUS ticket to the site admins and "
                "tell the Frontier team (cms-frontier-support@cern.ch).",
                [("Squid status page (source)", f"{base}/squid/status.html"),
                 ("WLCG squid monitoring", "http://wlcg-squid-monitor.cern.ch/snmpstats/mrtgcms/indexcms.html")],
                rating={"type": "weakest_link", "table": "rows", "column": "Status",
                        "map": {"OK": 1.0, "DEGRADED": 0.5, "DOWN": 0.0}, "label": "Host"}),
        _probe(base, "squid", "Squid service probe", "network",
               "Nagios check that both frontier-squid instances answer on port 3128. CRITICAL: e-mail the site admins; "
               "GGUS ticket if it lasts more than an hour."),
        # --- services ---
        _probe(base, "argus", "Argus authorization", "services",
               "Nagios check of the Argus PEP that authorizes pilots on the CEs. If CRITICAL, job submission "
               "fails soon after: open a GGUS ticket to the site admins.", weight=2.0),
        _probe(base, "site_bdii", "Site BDII", "services",
               "Nagios check of the site BDII (LDAP information system). Failures hide the site's resources from "
               "the information system: GGUS ticket to the site admins if it lasts more than an hour."),
        _probe(base, "apel", "APEL accounting publication", "services",
               "Age of the last APEL accounting publication (daily at 03:15 UTC). Older than 36 h: e-mail the site "
               "admins; the accounting portal will show missing CPU hours.", weight=0.5),
        _probe(base, "cvmfs", "CVMFS on the worker nodes", "services",
               "Nagios check that cms.cern.ch is mounted and current on the worker nodes. A stale or missing "
               "repository fails every CMS job: open a GGUS ticket to the site admins at once.", weight=2.0),
        # --- site status ---
        _module("gocdb_downtimes", "Downtimes (GOCDB)", "site_status", "http_xml",
                {"url": f"{gocdb}&ongoing_only=yes", "rows": "//DOWNTIME", "columns": DOWNTIME_COLUMNS,
                 "metrics": {"outages": {"count_where": {"SEVERITY": "OUTAGE"}},
                             "at_risk": {"count_where": {"SEVERITY": "WARNING"}}}},
                "Ongoing downtimes declared by the site in GOCDB (one row per affected service). A declared OUTAGE "
                "explains failing tests of those services: do not open tickets for them, but note the downtime in "
                "the shift log. Failures of services not listed here still need a ticket.",
                [("GOCDB PI (source)", f"{gocdb}&ongoing_only=yes"),
                 ("GOCDB site page", f"https://goc.egi.eu/portal/index.php?Page_Type=Site&name={p.GOCDB_SITE}")],
                interval="30m", rating={"type": "map", "metric": "outages", "map": {0: 1.0}, "default": 0.5}),
        _module("gocdb_announced", "Announced downtimes (GOCDB)", "site_status", "http_xml",
                {"url": gocdb, "rows": "//DOWNTIME", "columns": DOWNTIME_COLUMNS},
                "Ongoing and announced downtimes of the site. Informational: check before a shift which services "
                "will be down, and whether a planned downtime overlaps a data-taking period (tell the CMS site "
                "support team if so).",
                [("GOCDB PI (source)", gocdb),
                 ("GOCDB site page", f"https://goc.egi.eu/portal/index.php?Page_Type=Site&name={p.GOCDB_SITE}")],
                interval="1h", max_age="3h", weight=0.5),
        _module("cric_site", "Site status in CRIC", "site_status", "http_json",
                {"url": f"{base}/cric/sites.json", "rows": "*", "where": {"name": p.SITE},
                 "columns": ["name", "facility", "tier_level", "state", "status", "vo_name"]},
                f"Status of {p.SITE} in CMS CRIC. 'waiting_room' or 'disabled' means CMS stopped sending work to "
                "the site: read the site support team's reason in CRIC before opening any ticket.",
                [("CRIC site list (source)", f"{base}/cric/sites.json"),
                 ("CMS CRIC site page", f"https://cms-cric.cern.ch/cms/site/detail/{p.SITE}/")],
                interval="1h", max_age="6h",
                rating={"type": "weakest_link", "table": "rows", "column": "status", "label": "name",
                        "map": {"enabled": 1.0, "waiting_room": 0.5, "disabled": 0.0}}),
    ]


def demo_config(base_url: str, store: str) -> dict:
    """The demo site's configuration mapping, with every source served by the simulator at ``base_url``."""
    base = base_url.rstrip("/")
    return {
        "site": {"name": p.SITE, "title": "Demo Tier-2"},
        "store": str(store),
        "levels": {"ok": 0.66, "warning": 0.33},
        "defaults": {"interval": "15m", "timeout": "10s", "max_age": "1h"},
        "categories": [dict(c) for c in CATEGORIES],
        "modules": demo_modules(base),
    }


def write_demo_config(path, base_url: str, store: str) -> Path:
    """Write ``demo_config(base_url, store)`` as YAML to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# hfpanel demo site (generated by hfpanel.demo.site.write_demo_config)\n"
    text += yaml.safe_dump(demo_config(base_url, store), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text)
    return path
