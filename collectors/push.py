"""``push``: a module rated from test results that grid jobs and site probes push to the API
(``POST /api/v1/push/{module}``, the BES3/DIRAC pattern) instead of a source hfpanel asks.

``fetch()`` reads the push spool (``hfpanel.push``): the results that arrived since the last run
(above the highest ``push_id`` already in the store, so each lands there exactly once, in the table
``results``), and the latest result per host and test within ``window`` (table ``rows``, what the
rating reads: by default the weakest host decides, through the existing rating types). When no
result has arrived for ``noinfo_after`` the module has no information; for ``critical_after`` it is
critical: a probe that stopped reporting is itself a problem. ``parse()`` is pure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import param

from hfpanel.collector import Collector, ParseResult, SourceError, snapshot
from hfpanel.durations import format_duration, parse_duration
from hfpanel.push import COLUMNS, Spool, frame
from hfpanel.store import Store
from hfpanel.store.reader import detail_table_name

#: the state folder (tokens, push spool) when the configuration names none: beside the store's data
STATE = "_api"


def state_folder(store) -> Path:
    return Path(store) / STATE


class PushCollector(Collector):
    """Rates a module from pushed results: latest per host and test, no-information then critical
    when results stop arriving."""

    default_rating = {"type": "weakest_link", "column": "status", "label": "host", "empty": -1.0}
    default_instruction = (
        "This module is rated from results that jobs or probes push. When it has no information or is "
        "critical because nothing arrived, check that the probes run and can reach the dashboard (their "
        "logs show the HTTP answer of each push) and that their token is not expired or revoked "
        "(hfpanel token list)."
    )
    payload_suffix = "json"
    #: filled from the site configuration when the module leaves them out
    site_params = ("store", "module")

    store = param.String(default=None, allow_None=True, doc="The store folder (default: the site's store).")
    module = param.String(default=None, allow_None=True, doc="The module pushed to (default: this module).")
    state = param.String(
        default=None, allow_None=True, doc="The API's state folder holding the push spool (default: <store>/_api)."
    )
    window = param.String(default="1h", doc="Results that arrived within this long count (latest per host and test).")
    noinfo_after = param.String(default="1h", doc="No result for this long: no information.")
    critical_after = param.String(
        default="6h", allow_None=True, doc="No result for this long: critical (empty: never critical)."
    )

    def __init__(self, **params):
        super().__init__(**params)
        if not self.store or not self.module:
            raise ValueError("parameters 'store' and 'module' are required (the site configuration fills them)")
        self.window_s = parse_duration(self.window)
        self.noinfo_s = parse_duration(self.noinfo_after)
        self.critical_s = parse_duration(self.critical_after) if self.critical_after else None
        if self.critical_s is not None and self.critical_s < self.noinfo_s:
            raise ValueError("parameter 'critical_after' must not be shorter than 'noinfo_after'")

    def source_url(self) -> str | None:
        return None

    def _committed(self) -> int:
        """The highest push id already in the store (results land once: the next run takes those above)."""
        name = detail_table_name(self.module, "results")
        try:
            with Store(self.store) as store:
                day = store.last_day(name)
                if day is None:
                    return 0
                found = store.sql(f"SELECT max(push_id) AS m FROM {store.scan(name, day, day)}")["m"].iloc[0]
        except FileNotFoundError:
            return 0
        return 0 if pd.isna(found) else int(found)

    def fetch(self) -> bytes:
        now = self.now()
        spool = Spool(self.state or state_folder(self.store), readonly=True)
        try:
            found = spool.read(self.module, self._committed(), now - self.window_s)
        except Exception as error:  # sqlite3.Error: a locked or damaged spool is the source failing
            raise SourceError(f"cannot read the push spool {spool.path}: {error}") from None
        finally:
            spool.close()
        return json.dumps({"now": now, **found}).encode()

    def parse(self, payload: bytes) -> ParseResult:
        with snapshot("push results"):
            return self._read(payload)

    def _read(self, payload: bytes) -> ParseResult:
        doc = json.loads(payload)
        now, last = float(doc["now"]), doc.get("last_received")
        new, latest = frame(doc["new"]), frame(doc["latest"])
        silence = None if last is None else max(0.0, now - float(last))
        if new.empty:
            quiet = "no result has arrived yet" if silence is None else f"no result for {format_duration(silence)}"
            if silence is None or silence > self.noinfo_s:
                if self.critical_s is not None and silence is not None and silence > self.critical_s:
                    raise SourceError(f"{quiet} (critical after {self.critical_after})", status=0.0)
                raise SourceError(quiet)
        rows = latest
        hosts = rows["host"].nunique() if not rows.empty else 0
        message = f"{len(rows)} latest result(s) from {hosts} host(s), {len(new)} new"
        return ParseResult(
            tables={"rows": rows, "results": new[COLUMNS]},
            metrics={
                "results": float(len(new)),
                "hosts": float(hosts),
                "silence_s": float("nan") if silence is None else float(silence),
            },
            message=message,
        )
