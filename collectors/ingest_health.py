"""``ingest_health``: the dashboard watching its own transfer feed (``hfpanel ingest``).

A stalled feed looks like a quiet grid: transfer plots simply stop. This module turns the store's
``ingest_rate`` table (and, when ``spool`` is given, the spool's own count of records not yet in
the store) into a status: a backlog above ``backlog_critical`` or no message for
``silence_critical`` is critical; quarantined messages above ``quarantine_warning`` of the last
hour's messages are a warning. ``fetch()`` reads the store and spool; ``parse()`` is pure. A
configured spool that is not there or cannot be read is missing (the store's last backlog count
stands in, and the rating says so).
Table ``sources``: one row per source domain (``fts``, ``xrootd``).
"""

from __future__ import annotations

import json

import pandas as pd
import param

from hfpanel.collector import Collector, Missing, ParseResult, SourceError, snapshot
from hfpanel.durations import format_duration, parse_duration
from hfpanel.spoolfile import backlog_of
from hfpanel.store import Store

HEALTH_RATING = {"type": "map", "metric": "health", "map": {0: 1.0, 1: 0.5, 2: 0.0}, "default": -1}
LOOKBACK_S = 86400


class IngestHealthCollector(Collector):
    """Rates the transfer feed from ``ingest_rate`` (backlog, silence, quarantine)."""

    follows_transfers = True  # runs again after each aggregation (hfpanel.transfer_runs)

    default_rating = HEALTH_RATING
    default_instruction = (
        "The transfer-monitoring feed (hfpanel ingest) is behind or silent. Check that the ingest "
        "service runs (systemctl status / its log), that the broker is reachable, and that the store "
        "is not locked for long by another writer."
    )
    payload_suffix = "json"

    store = param.String(default=None, allow_None=True, doc="The store folder the ingest daemon writes.")
    spool = param.String(default=None, allow_None=True, doc="The ingest spool folder (its backlog is the truth).")
    backlog_critical = param.Integer(default=100_000, bounds=(0, None), doc="Backlog above this is critical.")
    silence_critical = param.Parameter(default="30m", doc="No message for this long is critical (e.g. 30m).")
    quarantine_warning = param.Number(
        default=0.01, bounds=(0, 1), doc="Quarantined fraction of the last hour that warns."
    )
    sources = param.List(
        default=[], item_type=str, doc="Source domains that must each be live (fts, xrootd); default any."
    )

    def __init__(self, **params):
        super().__init__(**params)
        if not self.store:
            raise ValueError("parameter 'store' is required (the folder hfpanel ingest writes)")
        self.silence_s = parse_duration(self.silence_critical)

    def source_url(self) -> str | None:
        return None

    def fetch(self) -> bytes:
        now = self.now()
        try:
            with Store(self.store) as store:
                rows = (
                    []
                    if not store.has_table("ingest_rate")
                    else store.sql(
                        f"SELECT t, source, destination, messages, quarantined, backlog, "
                        f"epoch_us(last_message) AS last_us FROM {store.scan('ingest_rate', pd.Timestamp(now - LOOKBACK_S, unit='s'))} "
                        "WHERE t >= ? ORDER BY t",
                        [int(now - LOOKBACK_S)],
                    ).to_dict("records")
                )
        except FileNotFoundError as error:
            raise SourceError(str(error)) from None
        spool, spool_error = None, None
        if self.spool:
            try:
                spool = backlog_of(self.spool)
            except (OSError, ValueError, KeyError, TypeError) as error:  # a checkpoint cut short or unreadable
                spool_error = f"spool unreadable: {type(error).__name__}: {error}"[:200]
            else:
                spool_error = None if spool is not None else "no spool folder there"
        return json.dumps(
            {"now": now, "rows": rows, "spool_backlog": spool, "spool_error": spool_error}, default=int
        ).encode()

    def parse(self, payload: bytes) -> ParseResult:
        with snapshot("ingest health"):
            return self._read(payload)

    def _read(self, payload: bytes) -> ParseResult:
        doc = json.loads(payload)
        now, rows = (
            float(doc["now"]),
            pd.DataFrame(
                doc["rows"], columns=["t", "source", "destination", "messages", "quarantined", "backlog", "last_us"]
            ),
        )
        hour = rows[rows["t"] >= now - 3600]
        latest = rows.sort_values("t").groupby("destination").tail(1)
        names = sorted(set(rows["source"]) | set(self.sources))
        table = pd.DataFrame(
            [
                {
                    "source": name,
                    "last_message": pd.to_datetime(rows.loc[rows["source"] == name, "last_us"].max(), unit="us"),
                    "messages_1h": int(hour.loc[hour["source"] == name, "messages"].sum()),
                    "quarantined_1h": int(hour.loc[hour["source"] == name, "quarantined"].sum()),
                    "backlog": int(latest.loc[latest["source"] == name, "backlog"].sum()),
                }
                for name in names
            ],
            columns=["source", "last_message", "messages_1h", "quarantined_1h", "backlog"],
        )
        table["silence_s"] = [(now - t.timestamp()) if pd.notna(t) else None for t in table["last_message"]]
        backlog = int(doc["spool_backlog"]) if doc.get("spool_backlog") is not None else int(table["backlog"].sum())
        watched = table[table["source"].isin(self.sources)] if self.sources else table
        silences = [float("inf") if pd.isna(s) else float(s) for s in watched["silence_s"]]
        # named sources must each be live; otherwise the newest message of any source counts
        silence = max(silences, default=float("inf")) if self.sources else min(silences, default=float("inf"))
        messages, quarantined = int(table["messages_1h"].sum()), int(table["quarantined_1h"].sum())
        problems = []
        if backlog > self.backlog_critical:
            problems.append(f"backlog {backlog} above {self.backlog_critical}")
        if silence > self.silence_s:
            problems.append(
                "no message received"
                + (f" for {format_duration(silence)}" if silence != float("inf") else " in the last day")
            )
        health = 2 if problems else 0
        if not problems and messages and quarantined / messages > self.quarantine_warning:
            health, problems = 1, [f"{quarantined} of {messages} messages quarantined in the last hour"]
        summary = f"backlog {backlog}, {messages} messages in the last hour" + (
            f", last {format_duration(silence)} ago" if silence != float("inf") else ""
        )
        message = "; ".join(problems + [summary]) if problems else summary
        missing = (  # the spool's own count is the truth; without it the store's last count stands in
            [Missing("spool", str(self.spool), f"{doc['spool_error']}: the backlog is the store's last count")]
            if self.spool and doc.get("spool_backlog") is None and doc.get("spool_error")
            else []
        )
        return ParseResult(
            tables={"sources": table},
            missing=missing,
            message=message,
            metrics={
                "health": float(health),
                "backlog": float(backlog),
                "messages_1h": float(messages),
                "quarantined_1h": float(quarantined),
                "silence_s": float(silence) if silence != float("inf") else float("nan"),
            },
        )
