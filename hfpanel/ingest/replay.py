"""``hfpanel ingest --replay FILE``: recorded bodies through the same spool and flusher, no broker.

Each line is one body as a JSON string (what a recorder of the STOMP stream writes); a line that
is not one is spooled as it is, so it ends in quarantine with its reason instead of vanishing.
The kind of each message is detected from its fields.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..store import StoreLocked

SYNC_EVERY_LINES = 2000


def replay_file(ingest, path, progress=None) -> int:
    """Feed ``path`` through ``ingest``'s spool and flusher; stops early (cleanly) on SIGTERM."""
    ingest._install_signals()
    spool, destination = ingest.spool, f"replay:{Path(path).name}"
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if ingest.stop.is_set():
                break
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                value = json.loads(line)
                body = value.encode() if isinstance(value, str) else line
            except ValueError:
                body = line  # quarantined with its reason, never dropped
            spool.append(time.time(), destination, {"line": str(number)}, body)
            if progress is not None:
                progress.update(1)
            if number % SYNC_EVERY_LINES == 0:
                spool.sync()
                if spool.backlog >= ingest.config.flush_messages:
                    try:
                        ingest.flusher.flush()
                    except StoreLocked:
                        pass  # the spool keeps it; the final drain waits for the lock
    spool.sync()
    ingest.drain()
    ingest.aggregate(force=True)
    spool.close()
    return 0
