"""Questions about the ``events`` table (hfpanel.events): the log, filtered, and its counts over time.

Shared by ``hfpanel events``, the events component and notebooks. Times are naive UTC; a window
only opens the day partitions it covers (``Store.scan``).
"""

from __future__ import annotations

import pandas as pd

from ..clock import utc_naive
from ..events.model import COLUMNS, TABLE

EMPTY = pd.DataFrame(columns=list(COLUMNS))


def _as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def events(
    store,
    since=None,
    until=None,
    module=None,
    kind=None,
    category=None,
    subject: str | None = None,
    levels=None,
    limit: int | None = None,
    newest_first: bool = False,
) -> pd.DataFrame:
    """Events in [since, until] (either open), matching any of the given modules, kinds,
    categories and levels; ``subject`` is a prefix (``row/dcache_pools``). Oldest first unless
    ``newest_first``."""
    if not store.has_table(TABLE):
        return EMPTY.copy()
    since = utc_naive(since) if since is not None else None
    until = utc_naive(until) if until is not None else None
    where, params = ["true"], []
    if since is not None:
        where.append("time >= ?")
        params.append(since.to_pydatetime())
    if until is not None:
        where.append("time <= ?")
        params.append(until.to_pydatetime())
    for column, values in (
        ("module", _as_list(module)),
        ("kind", _as_list(kind)),
        ("category", _as_list(category)),
        ("level", _as_list(levels)),
    ):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
    if subject:
        where.append("starts_with(subject, ?)")
        params.append(subject)
    order = "DESC" if newest_first else ""
    frame = store.sql(
        f"SELECT {', '.join(COLUMNS)} FROM {store.scan(TABLE, since, until)} WHERE {' AND '.join(where)} "
        f"ORDER BY time {order}, kind, subject" + (f" LIMIT {int(limit)}" if limit else ""),
        params,
    )
    return frame


def counts(store, since=None, until=None, every: str = "1h", **filters) -> pd.DataFrame:
    """How many events of each kind per ``every`` (a pandas frequency): the timeline's bars."""
    frame = events(store, since, until, **filters)
    if frame.empty:
        return pd.DataFrame(columns=["time", "kind", "events"])
    frame = frame.assign(time=frame["time"].dt.floor(every))
    return frame.groupby(["time", "kind"]).size().reset_index(name="events")
