"""An OpenSearch/Elasticsearch answer's own word that it is incomplete.

A search answers 200 with hits even when some of its shards failed (``_shards.failed`` > 0, each
failure in ``_shards.failures`` with the index, the shard and the reason) or when it ran out of time
on the server (``timed_out: true``: the hits are those found in time). Rated as if it were whole,
such an answer shows "all fine" with no word of the missing half, so every reader of search answers
-- the MONIT client (:mod:`hfpanel.monit`: SAM, HammerCloud) and the generic ``http_json`` -- asks
:func:`gaps` and reports what it says as missing parts (:class:`hfpanel.collector.Missing`).
"""

from __future__ import annotations

from typing import Any

from .collector import Missing

SHARD, SEARCH = "shard", "search"


def _reason(failure: dict) -> str:
    reason = failure.get("reason")
    if isinstance(reason, dict):
        kind, text = reason.get("type") or "error", reason.get("reason") or ""
        return " ".join(f"{kind}: {text}".split())[:200] if text else str(kind)
    return " ".join(str(reason or "failed, no reason given").split())[:200]


def gaps(response: Any, where: str = "") -> tuple[list[Missing], int]:
    """``(missing, shards)`` of one search response: its failed shards (named "index shard n", with
    the reason), a server-side timeout (a missing "search": how much it left out nobody can say), and
    how many shards it asked (0 when it does not say). ``where`` prefixes the names when an answer
    holds several responses."""
    if not isinstance(response, dict):
        return [], 0
    prefix = f"{where} " if where else ""
    missing = []
    shards = response.get("_shards") if isinstance(response.get("_shards"), dict) else {}
    total = shards.get("total") if isinstance(shards.get("total"), int) else 0
    failed = shards.get("failed") if isinstance(shards.get("failed"), int) else 0
    failures = [f for f in shards.get("failures") or [] if isinstance(f, dict)]
    for number, failure in enumerate(failures):
        index, shard = failure.get("index"), failure.get("shard")
        name = f"{index} shard {shard}" if index is not None and shard is not None else f"failure {number + 1}"
        missing.append(Missing(SHARD, prefix + name, _reason(failure)))
    for number in range(len(failures), failed):  # counted as failed, not described
        missing.append(Missing(SHARD, f"{prefix}unnamed {number + 1}", "failed, no reason given"))
    if response.get("timed_out") is True:
        missing.append(
            Missing(SEARCH, where or "the search", "timed out on the server: only the hits found in time came back")
        )
    return missing, total


def answer_gaps(doc: Any) -> tuple[list[Missing], dict[str, int]]:
    """:func:`gaps` of a ``_search`` answer or of each response of an ``_msearch`` answer, with the
    count of shards asked (``{"shard": n}``) for the share."""
    responses = doc.get("responses") if isinstance(doc, dict) else None
    if isinstance(responses, list):
        several = len(responses) > 1
        found = [gaps(r, f"responses.{i}" if several else "") for i, r in enumerate(responses)]
    else:
        found = [gaps(doc)]
    missing = [m for items, _ in found for m in items]
    total = sum(n for _, n in found)
    return missing, ({SHARD: total} if total else {})
