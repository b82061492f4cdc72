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


def incidents(store, include_resolved: bool = False, since=None) -> pd.DataFrame:
    """Each incident's latest version (its state now), open ones first then newest; with
    ``include_resolved`` also the resolved ones (opened since ``since`` when given)."""
    from ..events.tables import INCIDENT_COLUMNS, INCIDENTS

    if not store.has_table(INCIDENTS):
        return pd.DataFrame(columns=list(INCIDENT_COLUMNS))
    where, params = [], []
    if not include_resolved:
        where.append("status = 'open'")
    if since is not None:
        where.append("opened >= ?")
        params.append(utc_naive(since).to_pydatetime())
    return store.sql(
        f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM {INCIDENTS} "
        "QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY version DESC) = 1 "
        + (f"AND {' AND '.join(where)} " if where else "")
        + "ORDER BY status = 'open' DESC, opened DESC",
        params,
    )


def incident_history(store, incident_id: str) -> pd.DataFrame:
    """Every version of one incident, oldest first (what changed when, who acknowledged)."""
    from ..events.tables import INCIDENTS

    if not store.has_table(INCIDENTS):
        return pd.DataFrame()
    return store.sql(f"SELECT * EXCLUDE (day) FROM {INCIDENTS} WHERE incident_id = ? ORDER BY version", [incident_id])


def latest_acks(store) -> pd.DataFrame:
    """Each incident's newest acknowledgement row (``ack`` or ``unack``): what the next run applies
    when it is newer than the incident's latest version."""
    from ..events.tables import ACK_COLUMNS, ACKS

    if not store.has_table(ACKS):
        return pd.DataFrame(columns=list(ACK_COLUMNS))
    return store.sql(
        f"SELECT {', '.join(ACK_COLUMNS)} FROM {ACKS} "
        "QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY time DESC, ack_id DESC) = 1"
    )


def silences(store, include_ended: bool = False, at=None) -> pd.DataFrame:
    """Each silence's latest version; only those not ended at ``at`` (default: now) unless ``include_ended``."""
    from ..clock import utcnow
    from ..events.tables import SILENCE_COLUMNS, SILENCES

    if not store.has_table(SILENCES):
        return pd.DataFrame(columns=list(SILENCE_COLUMNS))
    at = utc_naive(at) if at is not None else utcnow()
    quoted = ", ".join(f'"{c}"' for c in SILENCE_COLUMNS)  # "end" is an SQL keyword
    frame = store.sql(
        f"SELECT {quoted} FROM {SILENCES} "
        "QUALIFY row_number() OVER (PARTITION BY silence_id ORDER BY version DESC) = 1 ORDER BY start DESC"
    )
    return frame if include_ended else frame[frame["end"] > at].reset_index(drop=True)


def deliveries(store, failed_only: bool = False) -> pd.DataFrame:
    """Each outbox message with its latest delivery attempt: delivered, waiting to retry, or failed."""
    from ..events.tables import DELIVERIES, OUTBOX

    if not store.has_table(OUTBOX):
        return pd.DataFrame(
            columns=["time", "incident_id", "receiver", "kind", "subject", "state", "attempts", "error"]
        )
    attempts = (
        f"SELECT message_id, receiver, max(attempt) AS attempts, bool_or(ok) AS ok, bool_or(final) AS final, "
        f"arg_max(error, attempt) AS error, max(time) AS last_attempt FROM {DELIVERIES} GROUP BY ALL"
        if store.has_table(DELIVERIES)
        else "SELECT NULL AS message_id, NULL AS receiver, 0 AS attempts, false AS ok, false AS final, "
        "'' AS error, NULL::TIMESTAMP AS last_attempt WHERE false"
    )
    frame = store.sql(
        f"WITH d AS ({attempts}) SELECT o.time, o.incident_id, o.receiver, o.kind, o.subject, "
        "CASE WHEN d.ok THEN 'delivered' WHEN d.final THEN 'failed' WHEN d.attempts > 0 THEN 'retrying' "
        "ELSE 'queued' END AS state, coalesce(d.attempts, 0) AS attempts, coalesce(d.error, '') AS error, "
        f"d.last_attempt FROM {OUTBOX} o LEFT JOIN d USING (message_id, receiver) ORDER BY o.time DESC"
    )
    return frame[frame["state"] != "delivered"].reset_index(drop=True) if failed_only else frame


def shift_incidents(store, since, until) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The incidents of a shift (since, until], for the handover.

    Returns ``(incidents, actions)``. ``incidents``: each incident opened or resolved during the
    shift, or open at its end, as it stood at the end (its latest version then), with
    ``opened_in_shift``, ``resolved_in_shift`` and ``open_at_end``. ``actions``: every
    acknowledgement (``ack``/``unack``) and silence given during the shift, oldest first, with who
    and why (``author``, ``comment``) and the incident's summary."""
    from ..events.tables import ACKS, INCIDENT_COLUMNS, INCIDENTS, SILENCES

    since, until = utc_naive(since).to_pydatetime(), utc_naive(until).to_pydatetime()
    action_columns = ["time", "kind", "incident_id", "action", "author", "comment", "summary", "rule", "subjects"]
    incidents = pd.DataFrame(columns=[*INCIDENT_COLUMNS, "opened_in_shift", "resolved_in_shift", "open_at_end"])
    if store.has_table(INCIDENTS):
        state = store.sql(
            f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM {INCIDENTS} WHERE time <= ? "
            "QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY version DESC) = 1",
            [until],
        )
        opened = (state["opened"] > since) & (state["opened"] <= until)
        resolved = (state["resolved"] > since) & (state["resolved"] <= until)
        still = state["status"] == "open"
        incidents = (
            state.assign(opened_in_shift=opened, resolved_in_shift=resolved, open_at_end=still)[
                opened | resolved | still
            ]
            .sort_values(["opened", "incident_id"])
            .reset_index(drop=True)
        )
    parts = []
    if store.has_table(ACKS):
        acks = store.sql(
            "SELECT time, 'ack' AS kind, incident_id, action, author, comment FROM acks WHERE time > ? AND time <= ?",
            [since, until],
        )
        if not acks.empty and store.has_table(INCIDENTS):
            about = store.sql(
                f"SELECT incident_id, summary, rule, subjects FROM {INCIDENTS} "
                "QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY version DESC) = 1"
            )
            acks = acks.merge(about, on="incident_id", how="left")
        parts.append(acks)
    if store.has_table(SILENCES):
        parts.append(
            store.sql(
                "SELECT time, 'silence' AS kind, '' AS incident_id, action, author, comment, matchers AS summary "
                "FROM silences WHERE time > ? AND time <= ?",
                [since, until],
            )
        )
    parts = [p for p in parts if not p.empty]
    actions = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=action_columns)
    actions = actions.reindex(columns=action_columns).fillna({"summary": "", "rule": "", "subjects": "[]"})
    return incidents, actions.sort_values(["time", "kind", "incident_id"], kind="stable").reset_index(drop=True)
