"""Sending what the outbox holds, with retries, exactly once in the ordinary case and never lost.

Messages reach the ``outbox`` table in the same commit as the run that caused them. ``dispatch``
(after each run's commit, or ``hfpanel notify send``) sends every message that is due, each through
its receiver, and commits one ``deliveries`` row per attempt right after it: ok, or the reason and
when to try again (``backoff`` doubling up to ``max_backoff``), until ``attempts`` are spent — then
the message is marked failed (``final``), logged and shown on the incidents page. Per receiver,
messages go in the order they were queued, and a receiver that fails is not tried again in the same
dispatch (its later messages wait, so a "resolved" never overtakes its "problem").

What a crash does: killed after the run's commit and before sending, nothing is lost — the next
dispatch finds the message without a delivery and sends it, once. Killed in the instant between a
receiver accepting a message and its delivery row being committed, that one message is sent again
on restart, with the same idempotency key (mail Message-ID, webhook ``Idempotency-Key``) for the
receiver to drop. Sending never breaks a run: it starts after the commit, within ``budget`` seconds.
"""

from __future__ import annotations

import logging
import time as _time

import pandas as pd

from ..clock import utcnow
from ..store import Store
from .delivery import DeliveryError, send
from .tables import DELIVERIES, DELIVERY_COLUMNS, OUTBOX, typed

log = logging.getLogger("hfpanel.notify")
#: messages older than this before the newest are not retried (every retry schedule ends far sooner)
WINDOW = pd.Timedelta(days=7)


def pending(store: Store) -> pd.DataFrame:
    """Outbox rows not delivered and not given up, oldest first, with their attempts so far."""
    if not store.has_table(OUTBOX):
        return pd.DataFrame()
    # the window ends at the newest message (not the wall clock): a backfill's or a stopped
    # collector's messages are still found
    since = store.last_day(OUTBOX) - WINDOW
    deliveries = (
        f"SELECT message_id, receiver, max(attempt) AS attempts, bool_or(ok) AS ok, bool_or(final) AS final, "
        f"arg_max(next_attempt, attempt) AS next_attempt, arg_max(error, attempt) AS last_error "
        f"FROM {store.scan(DELIVERIES)} GROUP BY message_id, receiver"
        if store.has_table(DELIVERIES)
        else "SELECT NULL::VARCHAR AS message_id, NULL::VARCHAR AS receiver, 0 AS attempts, false AS ok, "
        "false AS final, NULL::TIMESTAMP AS next_attempt, NULL::VARCHAR AS last_error WHERE false"
    )
    return store.sql(
        f"WITH d AS ({deliveries}) "
        f"SELECT o.* EXCLUDE (day), coalesce(d.attempts, 0) AS attempts, d.next_attempt, d.last_error "
        f"FROM {store.scan(OUTBOX, since)} o LEFT JOIN d USING (message_id, receiver) "
        "WHERE o.time >= ? AND NOT coalesce(d.ok, false) AND NOT coalesce(d.final, false) "
        "ORDER BY o.time, o.seq",
        [since.to_pydatetime()],
    )


def _next(settings, attempt: int, now: pd.Timestamp) -> pd.Timestamp:
    wait = min(settings.backoff * 2 ** (attempt - 1), settings.max_backoff)
    return now + pd.Timedelta(seconds=wait)


def dispatch(writer, config, now=None, budget: float | None = None, clock=utcnow) -> list[dict]:
    """Send every due message of the outbox; returns the delivery rows committed (one per attempt)."""
    notify = config.notifications.notify
    budget = notify.delivery.budget if budget is None else budget
    if not writer.has_table(OUTBOX):
        return []
    with Store(writer.root) as store:
        todo = pending(store)
    if todo.empty:
        return []
    started, blocked, done = _time.monotonic(), set(), []
    for row in todo.to_dict("records"):
        receiver_name = row["receiver"]
        if receiver_name in blocked:
            continue
        now_ = pd.Timestamp(now) if now is not None else clock()
        if row["next_attempt"] is not None and not pd.isna(row["next_attempt"]) and now_ < row["next_attempt"]:
            blocked.add(receiver_name)  # waiting for its backoff: its later messages wait too
            continue
        if _time.monotonic() - started > budget:
            log.info("notification budget of %ss spent; the rest waits for the next dispatch", budget)
            break
        receiver = notify.receivers.get(receiver_name)
        attempt = int(row["attempts"]) + 1
        ok, detail, error = False, "", ""
        if receiver is None:
            error = f"receiver '{receiver_name}' is no longer configured"
        else:
            try:
                detail = send(receiver, row)
                ok = True
            except DeliveryError as failure:
                error = str(failure)
            except Exception as failure:  # a bug in a sender: the message waits, the run goes on
                error = f"internal error: {type(failure).__name__}: {failure}"
                log.debug("sending %s failed", row["message_id"], exc_info=True)
        final = ok or receiver is None or attempt >= notify.delivery.attempts
        record = {
            "message_id": row["message_id"],
            "receiver": receiver_name,
            "time": now_,
            "attempt": attempt,
            "ok": ok,
            "final": final,
            "error": error,
            "detail": detail,
            "next_attempt": None if final else _next(notify.delivery, attempt, now_),
        }
        writer.write({DELIVERIES: typed(pd.DataFrame([record], columns=list(DELIVERY_COLUMNS)))})
        done.append(record)
        if not ok:
            blocked.add(receiver_name)
            if final:
                log.error(
                    "message %s to %s not delivered after %d attempts: %s",
                    row["subject"],
                    receiver_name,
                    attempt,
                    error,
                )
            else:
                log.warning("message to %s failed (attempt %d, retry later): %s", receiver_name, attempt, error)
    return done


def send_queued(writer, config) -> None:
    """Send what a run queued: after its commit, within the delivery budget; a failure is one log
    line and never the run's (its messages wait in the outbox for the next dispatch)."""
    if not config.notifications.notify.receivers:
        return
    try:
        dispatch(writer, config)
    except Exception as error:
        log.error("notifications not sent: %s: %s (they wait in the outbox)", type(error).__name__, error)
