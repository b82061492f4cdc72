"""Acknowledgements and silences as data: one row each, written through the store's writer.

Shared by the command line (``hfpanel ack``, ``hfpanel silence``) and the events page, so both say
the same thing about the same mistake. Each function takes an open ``StoreWriter`` and a ``Store``
reading the same folder, checks its input and raises ``ValueError`` with one line for people;
nothing is written unless everything is right. The next collection run applies what was written.

``actor`` (``hfpanel.auth.acting.Actor``) is the signed-in reader of a page: they must be allowed
to act (``auth.acknowledge`` / ``auth.silence``) and may act only on what they see, checked here,
before anything is written, whatever the form sent; the row is given in their signed-in name. The
command line passes none: it is the local admin's tool (it runs with the store's files in reach).
"""

from __future__ import annotations

import json
import uuid

import pandas as pd

from .clock import utcnow
from .events import tables
from .events.rules_config import MATCH_KEYS, read_matcher
from .queries.events import incidents, silences


def find_incident(store, prefix: str) -> pd.Series:
    """The latest version of the incident whose id starts with ``prefix``."""

    frame = incidents(store, include_resolved=True)
    found = frame[frame["incident_id"].str.startswith(prefix)] if prefix and not frame.empty else frame.iloc[0:0]
    if found.empty:
        raise ValueError(f"no incident {prefix!r} (hfpanel incidents lists them)")
    if len(found) > 1:
        raise ValueError(f"{prefix!r} names {len(found)} incidents: give more of the id")
    return found.iloc[0]


def acknowledge(
    writer,
    store,
    incident: str,
    author: str,
    comment: str = "",
    expires: pd.Timestamp | None = None,
    sticky: bool = False,
    remove: bool = False,
    now: pd.Timestamp | None = None,
    actor=None,
) -> tuple[dict, pd.Series]:
    """Acknowledge (or with ``remove`` un-acknowledge) the open incident ``incident`` (an id or its
    start); returns the row written and the incident."""

    now = now if now is not None else utcnow()
    if actor is not None:
        actor.check("acknowledge")
        author = actor.author or author
    author = (author or "").strip()
    if not author:
        raise ValueError("say who you are (the author is shown with the acknowledgement)")
    found = find_incident(store, incident)
    if actor is not None:
        actor.check_incident(found)
    if found["status"] != "open":
        raise ValueError(f"incident {found['incident_id']} is {found['status']}: nothing to acknowledge")
    if expires is not None and expires <= now:
        raise ValueError("the acknowledgement would expire before it starts")
    row = {
        "ack_id": f"ack-{now:%Y%m%dT%H%M%S%f}",
        "incident_id": found["incident_id"],
        "time": now,
        "action": "unack" if remove else "ack",
        "author": author,
        "comment": comment or "",
        "expires": expires,
        "sticky": bool(sticky),
    }
    writer.write({tables.ACKS: tables.typed(pd.DataFrame([row], columns=list(tables.ACK_COLUMNS)))})
    return row, found


def parse_matchers(items, where: str = "match") -> dict:
    """``["module=sam_ce", "level=critical", "vo=atlas"]`` -> a rule matcher (site, category, module,
    level, kind; anything else is a label); ``where`` names the input in messages."""

    raw: dict = {}
    for item in items or []:
        key, sep, value = str(item).strip().partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"{where}: {item!r} is not LABEL=VALUE (e.g. module=sam_ce, category=storage)")
        if key in MATCH_KEYS and key != "labels":
            raw.setdefault(key, []).append(value)
        else:
            raw.setdefault("labels", {}).setdefault(key, []).append(value)
    problems: list[str] = []
    read_matcher(raw, where, lambda k, msg: problems.append(f"{k}: {msg}"))
    if problems:
        raise ValueError(problems[0])
    if not raw:
        raise ValueError(f"give at least one {where} LABEL=VALUE (a silence of everything is not what you want)")
    return raw


def add_silence(
    writer,
    matchers: dict,
    author: str,
    comment: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    now: pd.Timestamp | None = None,
    actor=None,
) -> dict:
    """A new silence of what ``matchers`` match from ``start`` to ``end``; returns the row written."""

    now = now if now is not None else utcnow()
    if actor is not None:
        actor.check_matchers(matchers)
        author = actor.author or author
    if not (author or "").strip():
        raise ValueError("say who you are (the author is shown with the silence)")
    if not (comment or "").strip():
        raise ValueError("say why (the comment is shown with the silence)")
    if end <= start:
        raise ValueError("the silence ends before it starts")
    row = {
        "silence_id": f"sil-{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}",  # two in one microsecond are two
        "version": 1,
        "time": now,
        "action": "create",
        "author": author.strip(),
        "comment": comment.strip(),
        "start": start,
        "end": end,
        "matchers": json.dumps(matchers, sort_keys=True),
    }
    writer.write({tables.SILENCES: tables.typed(pd.DataFrame([row], columns=list(tables.SILENCE_COLUMNS)))})
    return row


def expire_silence(writer, store, silence: str, author: str, now: pd.Timestamp | None = None, actor=None) -> dict:
    """End the silence ``silence`` (an id or its start) now; returns the new version's row."""

    now = now if now is not None else utcnow()
    if actor is not None:
        actor.check("silence")
        author = actor.author or author
    current = silences(store, include_ended=True)
    found = (
        current[current["silence_id"].str.startswith(silence)] if silence and not current.empty else current.iloc[0:0]
    )
    if len(found) != 1:
        raise ValueError(f"no silence {silence!r}" if found.empty else f"{silence!r} names several")
    row = found.iloc[0].to_dict()
    if actor is not None:
        actor.check_matchers(json.loads(row["matchers"]))
    row.update(version=int(row["version"]) + 1, time=now, action="expire", end=min(now, row["end"]))
    row["author"] = (author or "").strip() or row["author"]
    writer.write({tables.SILENCES: tables.typed(pd.DataFrame([row], columns=list(tables.SILENCE_COLUMNS)))})
    return row
