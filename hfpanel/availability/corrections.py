"""Recomputation as data: downtimes added after the fact, periods excluded for a reason, withdrawals.

A site learns after the month that a downtime was declared too late, or that a failing test was the
monitoring's own fault. Such a correction is one row of the store's ``ar_corrections`` table — what
(a scheduled downtime or an exclusion), when, which module (empty: the whole site), why, who and
when it was recorded — written through the store's one writer and never changing a stored run. A
report applies them and shows every one beside the original figures; a withdrawal (a row naming the
one it withdraws) takes a mistaken correction back without erasing it.
"""

from __future__ import annotations

import getpass
import uuid

import pandas as pd

from ..clock import utcnow

TABLE = "ar_corrections"
DOWNTIME, EXCLUSION, WITHDRAWAL = "downtime", "exclusion", "withdrawal"
KINDS = (DOWNTIME, EXCLUSION, WITHDRAWAL)
COLUMNS = ["id", "kind", "start", "end", "module", "reason", "who", "recorded", "withdraws"]
SELECT = ", ".join(f'"{column}"' for column in COLUMNS)


class CorrectionError(ValueError):
    """A correction that cannot be recorded (one line: what is wrong)."""


def who_default() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def correction_row(
    kind: str, start=None, end=None, module: str = "", reason: str = "", who: str = "", withdraws: str = "", now=None
) -> pd.DataFrame:
    """One correction as a row of ``ar_corrections`` (checked: a reason, an order of times)."""
    if kind not in KINDS:
        raise CorrectionError(f"unknown correction {kind!r} (known: {', '.join(KINDS)})")
    if not reason or not reason.strip():
        raise CorrectionError("a reason is needed (--reason 'what happened')")
    if kind != WITHDRAWAL:
        if start is None or end is None:
            raise CorrectionError("a correction needs --from and --to")
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        if end <= start:
            raise CorrectionError(f"--to ({end}) must be after --from ({start})")
    elif not withdraws:
        raise CorrectionError("a withdrawal names the correction it withdraws")
    now = pd.Timestamp(now) if now is not None else utcnow()
    row = {
        "id": uuid.uuid4().hex[:10],
        "kind": kind,
        "start": start if kind != WITHDRAWAL else pd.NaT,
        "end": end if kind != WITHDRAWAL else pd.NaT,
        "module": module or "",
        "reason": reason.strip(),
        "who": who or who_default(),
        "recorded": now,
        "withdraws": withdraws or "",
        "time": now,
    }
    frame = pd.DataFrame([row])
    for column in ("start", "end", "recorded", "time"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def record(writer, frame: pd.DataFrame) -> str:
    """Commit a correction row (``correction_row``) with the store's writer; returns its id."""
    writer.write({TABLE: frame})
    return str(frame["id"].iloc[0])


def load(store) -> pd.DataFrame:
    """Every correction recorded, withdrawn ones marked (``withdrawn_by``), oldest first."""
    if not store.has_table(TABLE):
        return pd.DataFrame(columns=[*COLUMNS, "withdrawn_by"])
    frame = store.sql(f"SELECT {SELECT} FROM {TABLE} ORDER BY recorded")
    withdrawals = frame[frame["kind"] == WITHDRAWAL]
    by = dict(zip(withdrawals["withdraws"], withdrawals["id"]))
    return frame.assign(withdrawn_by=[by.get(key, "") for key in frame["id"]])


def in_force(corrections: pd.DataFrame, kind: str, start=None, end=None) -> pd.DataFrame:
    """The corrections of ``kind`` not withdrawn, overlapping [start, end)."""
    found = corrections[(corrections["kind"] == kind) & (corrections["withdrawn_by"] == "")]
    if start is not None:
        found = found[pd.to_datetime(found["end"]) > pd.Timestamp(start)]
    if end is not None:
        found = found[pd.to_datetime(found["start"]) < pd.Timestamp(end)]
    return found.reset_index(drop=True)
