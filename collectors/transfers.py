"""``transfer_efficiency``: a site's transfer efficiency from ``transfer_stats_10m`` over a window.

A transfer that fails at the other end is not this site's problem, so the rated ``efficiency`` is
``1 - site_failures / transfers``, where site failures are the failures FTS blames on this site's
side (scope SOURCE when it sends, DESTINATION when it receives). ``success_rate`` (all failures)
is reported too. Below ``min_transfers`` in the window there is nothing to judge: no info.
``fetch()`` reads the store; ``parse()`` is pure. Table ``links``: one row per direction and
remote site, worst first. When the feed has stored transfers the aggregation has not reached yet
(more than ``aggregation_lag`` behind), the 10-minute bins between are missing: the efficiency is
of part of the window, and the rating says so (``hfpanel.rating.partial``).
"""

from __future__ import annotations

import json

import pandas as pd
import param

from hfpanel.collector import Collector, Missing, ParseResult, SourceError, snapshot
from hfpanel.durations import format_duration, parse_duration
from hfpanel.store import Store
from hfpanel.transfers.config import EfficiencyLevels

#: the statistics' bin, seconds
BIN = 600
COLUMNS = [
    "direction",
    "remote_site",
    "transfers",
    "successes",
    "failures",
    "site_failures",
    "bytes",
    "duration_ms",
    "efficiency",
    "throughput",
]


class TransferEfficiencyCollector(Collector):
    """Rates one site's FTS transfers (as source and destination) from the aggregated statistics."""

    follows_transfers = True  # runs again after each aggregation (hfpanel.transfer_runs)

    default_rating = {
        "type": "threshold",
        "metric": "efficiency",
        "warning": EfficiencyLevels.warning,  # the transfer matrix's colours say the same
        "critical": EfficiencyLevels.critical,
        "direction": "below",
    }
    default_instruction = (
        "Transfers fail on this site's side. Open the transfer matrix and the top errors for the site; "
        "storage errors (no such file, permission, checksum) point at the site's storage element."
    )
    payload_suffix = "json"

    store = param.String(default=None, allow_None=True, doc="The store folder holding transfer_stats_10m.")
    site = param.String(default=None, allow_None=True, doc="The site as statistics name it (e.g. T2_CH_CERN).")
    window = param.Parameter(default="1h", doc="How far back to look, e.g. 1h, 6h.")
    min_transfers = param.Integer(default=10, bounds=(0, None), doc="Fewer transfers than this: no info.")
    vo = param.String(default=None, allow_None=True, doc="Only this VO (default: all).")
    aggregation_lag = param.Parameter(
        default="20m",
        doc=(
            "How far the statistics may trail the stored transfers before the bins between are missing "
            "(the aggregation runs every aggregate_every)."
        ),
    )

    def __init__(self, **params):
        super().__init__(**params)
        if not self.store or not self.site:
            raise ValueError("parameters 'store' and 'site' are required")
        self.window_s = parse_duration(self.window)
        self.lag_s = parse_duration(self.aggregation_lag)

    def source_url(self) -> str | None:
        return None

    def fetch(self) -> bytes:
        now = self.now()
        since = int(now - self.window_s)
        try:
            with Store(self.store) as store:
                rows = (
                    []
                    if not store.has_table("transfer_stats_10m")
                    else store.sql(
                        "SELECT CASE WHEN src_site = ? THEN 'out' ELSE 'in' END AS direction, "
                        "CASE WHEN src_site = ? THEN dst_site ELSE src_site END AS remote_site, "
                        "sum(transfers) AS transfers, sum(successes) AS successes, sum(failures) AS failures, "
                        "sum(CASE WHEN src_site = ? THEN failures_source ELSE 0 END) "
                        "+ sum(CASE WHEN dst_site = ? THEN failures_destination ELSE 0 END) AS site_failures, "
                        "sum(bytes) AS bytes, sum(duration_ms) AS duration_ms "
                        f"FROM {store.scan('transfer_stats_10m', pd.Timestamp(since, unit='s'))} "
                        "WHERE t >= ? AND (src_site = ? OR dst_site = ?) AND (? IS NULL OR vo = ?) GROUP BY ALL",
                        [self.site] * 4 + [since - since % 600, self.site, self.site, self.vo, self.vo],
                    ).to_dict("records")
                )
                newest = self._newest(store, since)
        except FileNotFoundError as error:
            raise SourceError(str(error)) from None
        return json.dumps({"now": now, "site": self.site, "rows": rows, **newest}, default=int).encode()

    @staticmethod
    def _newest(store, since: int) -> dict:
        """The newest transfer the feed stored (``raw``) and the newest 10-minute bin aggregated
        (``stats``) in the window, in epoch seconds: the bins between them are not aggregated yet."""
        newest = {}
        for key, table in (("raw", "fts_complete"), ("stats", "transfer_stats_10m")):
            if store.has_table(table):
                found = store.sql(
                    f"SELECT max(t) AS t FROM {store.scan(table, pd.Timestamp(since, unit='s'))} WHERE t >= ?", [since]
                )["t"].iloc[0]
                newest[key] = None if pd.isna(found) else int(found)
        return newest

    def missing_bins(self, doc: dict) -> list[Missing]:
        """The 10-minute bins of the window the feed has transfers for but the aggregation has not
        reached yet (older than ``aggregation_lag``): efficiency without them is of part of the window."""
        raw, stats = doc.get("raw"), doc.get("stats")
        if raw is None:
            return []
        first = int(doc["now"] - self.window_s)
        start = max(first - first % BIN, stats + BIN if stats is not None else 0)
        stop = min(raw, int(doc["now"] - self.lag_s) - BIN)  # a bin with data, ended more than the lag ago
        return [
            Missing("bin", pd.Timestamp(b, unit="s").strftime("%H:%M"), "transfers stored, not aggregated yet")
            for b in range(start, stop + 1, BIN)
        ]

    def parse(self, payload: bytes) -> ParseResult:
        with snapshot("transfer statistics"):
            return self._read(payload)

    def _read(self, payload: bytes) -> ParseResult:
        doc = json.loads(payload)
        links = pd.DataFrame(doc["rows"], columns=COLUMNS[:-2])
        links["efficiency"] = 1 - links["site_failures"] / links["transfers"].where(links["transfers"] > 0)
        links["throughput"] = links["bytes"] / (links["duration_ms"] / 1000).where(links["duration_ms"] > 0)
        links = links.sort_values(["efficiency", "transfers"], ascending=[True, False], ignore_index=True)[COLUMNS]
        transfers, site_failures = int(links["transfers"].sum()), int(links["site_failures"].sum())
        failures = int(links["failures"].sum())
        enough = transfers >= max(self.min_transfers, 1)
        efficiency = 1 - site_failures / transfers if enough else float("nan")
        window = format_duration(self.window_s)
        if not enough:
            message = f"{transfers} transfers of {doc['site']} in the last {window} (fewer than {self.min_transfers})"
        else:
            worst = links[links["site_failures"] > 0].head(1)
            blame = (
                (
                    f"; worst: {worst['direction'].iloc[0]} {worst['remote_site'].iloc[0]} "
                    f"({int(worst['site_failures'].iloc[0])} failed)"
                )
                if len(worst)
                else ""
            )
            message = (
                f"{transfers} transfers in the last {window}, {site_failures} failed on the site's side, "
                f"{failures} failed in all{blame}"
            )
        missing = self.missing_bins(doc)
        return ParseResult(
            tables={"links": links},
            labels={"remote_site": list(links["remote_site"][links["site_failures"] > 0])} if enough else {},
            missing=missing,
            expected={"bin": -(-int(self.window_s) // BIN)} if missing else {},
            message=message,
            metrics={
                "efficiency": efficiency,
                "success_rate": (transfers - failures) / transfers if transfers else float("nan"),
                "transfers": float(transfers),
                "failures": float(failures),
                "site_failures": float(site_failures),
                "bytes": float(links["bytes"].sum()),
            },
        )
