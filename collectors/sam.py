"""``sam``: SAM/ETF test results of a site from CERN MONIT, rated per service (host x flavour).

Why not ``http_json``: a shifter needs the LATEST result of each test (MONIT keeps several versions
of one result, and a window holds several runs), flavours spelt one way (``webdav``/``WEBDAV``,
``org.opensciencegrid.htcondorce``/``HTCONDOR-CE``), a service as bad as its worst test, and an
empty answer treated as the failure it is. Tables: ``results`` (latest per host x flavour x
metric), ``services`` (worst status per host x flavour, failing metrics named; the rating's
``host`` labels let the runner match GOCDB downtimes) and ``availability`` (runs up -- OK or
WARNING, as WLCG's A/R counts them -- among OK/WARNING/CRITICAL runs in the window, per site and
per host). A service with an UNKNOWN test is
UNKNOWN unless another test is WARNING or CRITICAL. Metrics: ``critical``, ``warning``, ``ok``,
``unknown`` (services) and ``availability``. An answer whose search shards partly failed, or that
timed out on the server, is rated on the hits that came and says which shards are missing; one
unreadable result is that result missing, named by its path (``hfpanel.rating.partial``).
"""

from __future__ import annotations

import math

import pandas as pd
import param

from hfpanel.collector import Missing, ParseResult, SourceError
from hfpanel.monit import MonitCollector, any_of, msearch_hits, quote, typed
from hfpanel.rating.partial import summary

STATUSES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
RANK = {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}  # worst last
SPELLINGS = {
    "HTCONDOR-CE": ("HTCONDOR-CE", "HTCondor-CE", "org.opensciencegrid.htcondorce"),
    "WEBDAV": ("WEBDAV", "webdav", "WebDAV"),
    "XROOTD": ("XROOTD", "XRootD", "xrootd"),
    "ARC-CE": ("ARC-CE", "arc-ce"),
    "SRM": ("SRM", "srm"),
}
_CANONICAL = {s.lower(): name for name, spellings in SPELLINGS.items() for s in spellings}
COLUMNS = ["host", "flavour", "metric", "status", "summary", "details", "ts", "kafka", "site", "vo"]


def flavour(name: str) -> str:
    """One spelling per flavour: ``XRootD`` -> ``XROOTD``, ``org.opensciencegrid.htcondorce`` -> ``HTCONDOR-CE``."""
    return _CANONICAL.get(name.lower(), name.upper())


def _explain(hit, where: str) -> SourceError:
    """The first missing or mistyped field of a hit, named by its path (the slow path of parse)."""
    try:
        source = typed(hit, "_source", dict, where)
        data = typed(source, "data", dict, f"{where}._source")
        for key in ("dst_hostname", "service_flavour", "metric_name", "status"):
            typed(data, key, str, f"{where}._source.data")
        meta = typed(source, "metadata", dict, f"{where}._source") if "metadata" in source else {}
        part = "metadata" if "timestamp" in meta or "timestamp" not in data else "data"  # eval_sam's fallback
        typed(meta if part == "metadata" else data, "timestamp", (int, float), f"{where}._source.{part}")
        if meta.get("kafka_timestamp"):
            typed(meta, "kafka_timestamp", (int, float), f"{where}._source.metadata")
    except SourceError as error:
        return error
    return SourceError(f"{where}: unexpected document")


class SamCollector(MonitCollector):
    """SAM/ETF results (``monit_prod_sam3_enr_*``) of one VO, optionally one site, some hosts, some flavours."""

    default_instruction = (
        "A SAM/ETF test of this site failing for more than an hour (outside a GOCDB downtime) "
        "counts against the site's availability: open the test's details in ETF, check the service "
        "on the host named in the message, and open a GGUS ticket to the site if it is not already "
        "being handled."
    )

    vo = param.String(default=None, allow_None=True, doc="VO whose tests count, e.g. cms (data.vo).")
    site = param.String(
        default=None, allow_None=True, doc="Experiment site, e.g. T2_DE_DESY (data.dst_experiment_site)."
    )
    hosts = param.List(default=[], item_type=str, doc="Only these service hosts (data.dst_hostname).")
    service_flavours = param.List(
        default=[], item_type=str, doc="Only these flavours, any spelling (XROOTD, webdav...)."
    )

    event_keys = {"services": ["host", "flavour"]}  # a tested service appeared or is no longer tested
    default_rating = {
        "type": "weakest_link",
        "table": "services",
        "column": "status",
        "label": "host",
        "map": {"OK": 1.0, "WARNING": 0.5, "CRITICAL": 0.0, "UNKNOWN": -1},
    }
    sort = [{"metadata.timestamp": "asc"}, {"metadata.kafka_timestamp": {"order": "asc", "unmapped_type": "long"}}]
    source_fields = [
        "metadata.timestamp",
        "metadata.kafka_timestamp",
        *(
            f"data.{f}"
            for f in (
                "vo",
                "dst_hostname",
                "service_flavour",
                "metric_name",
                "status",
                "summary",
                "details",
                "timestamp",
                "dst_experiment_site",
            )
        ),
    ]

    def __init__(self, **params):
        super().__init__(**params)
        if not self.vo:
            raise ValueError("vo: give the VO whose SAM tests count, e.g. cms")

    def query_string(self) -> str:
        names = sorted({s for f in self.service_flavours for s in (f, *SPELLINGS.get(flavour(f), ()))})
        terms = (
            (f"data.dst_experiment_site:{quote(self.site)}", self.site),
            (any_of("data.dst_hostname", self.hosts), self.hosts),
            (any_of("data.service_flavour", names), names),
        )
        return " AND ".join([f"data.vo:{quote(self.vo)}"] + [term for term, wanted in terms if wanted])

    def parse(self, payload: bytes) -> ParseResult:
        rows, missing, found = [], [], msearch_hits(payload)
        for where, hits in found:
            for i, hit in enumerate(hits):
                try:  # the fast path; _explain names what is wrong
                    source = hit["_source"]
                    data, meta = source["data"], source.get("metadata") or {}
                    ts = meta.get("timestamp", data.get("timestamp"))
                    row = (
                        data["dst_hostname"],
                        data["service_flavour"],
                        data["metric_name"],
                        data["status"],
                        data.get("summary") or "",
                        data.get("details") or "",
                        ts,
                        meta.get("kafka_timestamp") or 0,
                        data.get("dst_experiment_site") or "",
                        data.get("vo"),
                    )
                except (KeyError, TypeError, AttributeError):
                    row = None
                if row is None or not (
                    all(type(v) is str for v in row[:4]) and type(ts) in (int, float) and type(row[7]) in (int, float)
                ):  # one unreadable result is that result missing, named by its path
                    error = str(_explain(hit, f"{where}.{i}"))
                    missing.append(Missing("result", f"{where}.{i}", error.removeprefix(f"{where}.{i}.")))
                    continue
                rows.append(row)
        if missing and not rows:
            raise SourceError(f"{missing[0].key}.{missing[0].reason}")
        df = pd.DataFrame.from_records(rows, columns=COLUMNS)
        df["flavour"] = df["flavour"].map({f: flavour(f) for f in df["flavour"].unique()})
        df["status"] = df["status"].str.upper().where(lambda s: s.isin(STATUSES), "UNKNOWN")
        keep = df["vo"].isna() | (df["vo"] == self.vo)  # the query filters; this guards against proxies that do not
        for column, wanted in (
            ("site", [self.site] if self.site else []),
            ("host", self.hosts),
            ("flavour", [flavour(f) for f in self.service_flavours]),
        ):
            keep &= df[column].isin(wanted) if wanted else True
        df = df[keep].sort_values(["ts", "kafka"], kind="stable")
        if df.empty:  # a site's SAM tests run every hour: none in the window is a fault, not "all fine"
            what = (
                f"site {self.site}"
                if self.site
                else f"hosts {', '.join(self.hosts)}"
                if self.hosts
                else f"vo {self.vo}"
            )
            flavours = f" ({'/'.join(self.service_flavours)})" if self.service_flavours else ""
            gaps = f" ({summary(ParseResult(missing=found.missing, expected=found.expected))})" if found.missing else ""
            raise SourceError(f"no SAM results for {what}{flavours} in the last {self.window}{gaps}")
        df["time"] = pd.to_datetime(df["ts"], unit="ms")
        runs = df.drop_duplicates(["host", "flavour", "metric", "ts"], keep="last")  # versions of one run
        results = (
            runs.drop_duplicates(["host", "flavour", "metric"], keep="last")
            .sort_values(["site", "host", "flavour", "metric"])[COLUMNS[:6] + ["time", "site", "vo"]]
            .reset_index(drop=True)
        )
        services = self._services(results)
        metrics = {s.lower(): float((services["status"] == s).sum()) for s in STATUSES}
        availability, metrics["availability"] = self._availability(runs)
        bad = [
            f"{h} {f}" for h, f, s in zip(services["host"], services["flavour"], services["status"]) if s == "CRITICAL"
        ]
        failing = services[services["status"].isin(["WARNING", "CRITICAL"])]  # what rules match: the failing ones
        message = (
            f"CRITICAL: {', '.join(bad[:3])}" + (f" and {len(bad) - 3} more" if len(bad) > 3 else "") if bad else ""
        )
        return ParseResult(
            tables={"results": results, "services": services, "availability": availability},
            metrics=metrics,
            message=message,
            missing=[*found.missing, *missing],
            expected={**found.expected, "result": sum(len(hits) for _, hits in found)},
            labels={"host": list(failing["host"]), "flavour": list(failing["flavour"])},
        )

    @staticmethod
    def _services(results: pd.DataFrame) -> pd.DataFrame:
        """Per host x flavour: the worst status, its summary and time, and every failing metric named."""
        ranked = results.assign(rank=results["status"].map(RANK)).sort_values(["rank", "time"], ascending=False)
        worst = ranked.drop_duplicates(["host", "flavour"]).set_index(["host", "flavour"])
        bad = ranked[ranked["status"] != "OK"]  # worst first
        failing = (bad["metric"] + " (" + bad["status"] + "), ").groupby([bad["host"], bad["flavour"]]).sum().str[:-2]
        out = worst[["site", "status", "summary", "time", "rank"]].assign(
            failing=failing.reindex(worst.index).fillna(""), metrics=results.groupby(["host", "flavour"]).size()
        )
        out = out.reset_index().assign(rank=lambda f: -f["rank"]).sort_values(["rank", "site", "host"])
        return out[["site", "host", "flavour", "status", "failing", "metrics", "summary", "time"]].reset_index(
            drop=True
        )

    @staticmethod
    def _availability(runs: pd.DataFrame) -> tuple[pd.DataFrame, float]:
        """Runs that were up -- OK or WARNING, as WLCG's A/R (ARGO) counts them: a WARNING service
        still serves -- among OK/WARNING/CRITICAL test runs (UNKNOWN is not rated), per site
        (``host`` empty) and per host; and over all."""
        counts = runs.groupby(["site", "host", "status"]).size().unstack(fill_value=0)
        counts = counts.reindex(columns=list(STATUSES), fill_value=0)
        counts.columns = [c.lower() for c in counts.columns]
        per_site = counts.groupby(level="site").sum()
        frame = pd.concat(
            [per_site.assign(scope="site", host=None).reset_index(), counts.reset_index().assign(scope="host")],
            ignore_index=True,
        )
        rated = frame["ok"] + frame["warning"] + frame["critical"]
        frame["results"] = rated + frame["unknown"]
        frame["availability"] = ((frame["ok"] + frame["warning"]) / rated.where(rated > 0)).astype(float)
        total = int(per_site[["ok", "warning", "critical"]].to_numpy().sum())
        up = float(per_site["ok"].sum() + per_site["warning"].sum())
        columns = ["scope", "site", "host", "ok", "warning", "critical", "unknown", "results", "availability"]
        return frame[columns], (up / total if total else math.nan)
