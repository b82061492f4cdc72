"""Format 1 -> format 2, done by the first writer that opens an old store (under its lock).

Format 1 kept every file of every day in one manifest; format 2 keeps one segment per day (see
``manifest.py``). The upgrade moves no data: it writes each day's files as that day's segment and
the new top file in one commit, so a reader sees the old manifest or the new one, both complete.
The days are left uncompacted, so the next compaction packs their per-module detail files; then a
sweep removes what a format-1 writer left behind (its temporary files, parts it never committed).
Readers of this version read both formats; an older hfpanel refuses format 2 with a clear error.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("hfpanel.store")


def upgrade(writer) -> None:
    """Rewrite ``writer.manifest`` (a format-1 store seen as days) as format 2."""
    legacy = writer.manifest
    started = time.perf_counter()
    segments = {day: legacy.day(day).segment() for day in sorted(legacy.days)}
    retired = [path for path, _ in getattr(legacy, "legacy_retired", [])]
    writer._commit([], segments, whole=True, retire=retired)
    removed = writer._sweep()
    log.info(
        "upgraded store %s to manifest format 2 (%d days, %d leftover files removed) in %.1fs",
        writer.root,
        len(segments),
        removed,
        time.perf_counter() - started,
    )
