"""The local durable spool between the broker and the store.

A message is acknowledged to the broker only once its record is written *and fsynced* here, so the
broker may forget it; the store commit happens later and the checkpoint moves only after it. The
store commit also names the spool position it reached (under this spool's ``id``), so after a crash
between the two the records the store already holds are skipped (``resume``), not committed again.

Records live in append-only segment files (format: ``records.py``), so a torn tail from a crash
is recognised and cut.
Appends come from the broker's thread, ``sync()`` from the daemon's loop (one fsync per batch),
reads from the flusher: a lock guards only the short buffered write.
"""

from __future__ import annotations

import collections
import fcntl
import json
import logging
import os
import threading
import uuid
from pathlib import Path

from ..spoolfile import encode, read_records, segment_path

log = logging.getLogger("hfpanel.ingest.spool")
SEGMENT_BYTES = 64 * 1024 * 1024


class SpoolLocked(Exception):
    """Another ingest process owns this spool."""


class Spool:
    """One process's spool folder (an flock keeps a second ingest process out)."""

    def __init__(self, folder, segment_bytes: int = SEGMENT_BYTES):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._lock_fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolLocked(f"spool {self.folder} is used by another hfpanel ingest process") from None
        self._lock = threading.Lock()
        self._tokens, self._dirty = [], False
        self.id = self._identity()
        self.checkpoint = self._read_checkpoint()
        self.pending = collections.Counter()  # destination -> records past the checkpoint
        end = self.checkpoint
        for record in read_records(self.folder, self.checkpoint):
            self.pending[record.destination] += 1
            end = record.position
        self._open_for_append(end)

    def _identity(self) -> str:
        """This spool's name in the store's state: a random id made once, so two spools feeding one
        store never take each other's position, and a new spool folder never inherits an old one's."""
        path = self.folder / "id"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            identity = uuid.uuid4().hex
            tmp = self.folder / "id.tmp"
            tmp.write_text(identity + "\n")
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            return identity

    # -- positions ------------------------------------------------------------------------
    def _read_checkpoint(self) -> tuple[int, int]:
        try:
            data = json.loads((self.folder / "checkpoint.json").read_text())
            return int(data["segment"]), int(data["offset"])
        except FileNotFoundError:
            existing = sorted(self.folder.glob("segment-*.log"))
            return (int(existing[0].stem.split("-")[1]), 0) if existing else (0, 0)

    def _open_for_append(self, end: tuple[int, int]) -> None:
        """Continue the last segment after its last whole record (a torn tail is cut off)."""
        number, offset = end
        last = sorted(self.folder.glob("segment-*.log"))
        if last and int(last[-1].stem.split("-")[1]) > number:
            number, offset = int(last[-1].stem.split("-")[1]), 0  # an empty newer segment
        path = segment_path(self.folder, number)
        self._file = open(path, "ab")
        if self._file.tell() > offset:
            log.warning(
                "spool %s: cutting a torn record of %d bytes (a crash mid-write)", path, self._file.tell() - offset
            )
            self._file.truncate(offset)
        self._number, self.synced = number, (number, offset)
        os.fsync(self._file.fileno())

    @property
    def backlog(self) -> int:
        with self._lock:  # the receiver thread may be adding a destination
            return sum(self.pending.values())

    def pending_by_destination(self) -> collections.Counter:
        with self._lock:
            return self.pending.copy()

    # -- writing --------------------------------------------------------------------------
    def append(self, received: float, destination: str, headers: dict, body: bytes, token=None) -> None:
        """Buffer one record; it is durable after the next ``sync()``, which hands ``token`` (what
        is needed to acknowledge the message) back then and not before."""
        data = encode(received, destination, headers, body)
        with self._lock:
            self._file.write(data)
            self._dirty = True
            self.pending[destination] += 1
            if token is not None:
                self._tokens.append(token)

    def sync(self) -> list:
        """fsync what was appended; returns the tokens of the records now durable (to acknowledge)."""
        with self._lock:
            if not self._dirty:
                return []
            self._dirty = False
            self._file.flush()
            tokens, self._tokens = self._tokens, []
            position = (self._number, self._file.tell())
            rotate = position[1] >= self.segment_bytes
            if rotate:
                os.fsync(self._file.fileno())
                self._file.close()
                self._number += 1
                self._file = open(segment_path(self.folder, self._number), "ab")
                position = (self._number, 0)
        if not rotate:
            os.fsync(self._file.fileno())
        self.synced = max(self.synced, position)
        return tokens

    def read(self, limit: int):
        """Durable records past the checkpoint, at most ``limit`` (``Record.position``: after it)."""
        # up to ``synced`` every byte was written and fsynced by this process: no CRC needed
        return list(read_records(self.folder, self.checkpoint, self.synced, limit, verify=False))

    def resume(self, committed) -> int:
        """Move the checkpoint to ``committed``, the position the store's last commit of this spool
        names, when the checkpoint lags behind it (a crash after the store commit, before the
        checkpoint); returns the records skipped. A position past the end of this spool (a spool
        restored from an old copy) is ignored with a warning: records never committed are kept."""
        committed = tuple(committed) if committed else None
        if committed is None or committed <= self.checkpoint:
            return 0
        if committed > self.synced:
            log.warning(
                "spool %s: the store names position %s past this spool's end %s (an older copy of "
                "the spool?); every record here will be committed",
                self.folder,
                committed,
                self.synced,
            )
            return 0
        skipped = collections.Counter(r.destination for r in read_records(self.folder, self.checkpoint, committed))
        self.commit(committed, skipped)
        return sum(skipped.values())

    def commit(self, position: tuple[int, int], counts: collections.Counter) -> None:
        """Move the checkpoint past records now in the store; drop segments wholly before it."""
        tmp = self.folder / "checkpoint.json.tmp"
        with open(tmp, "w") as handle:
            json.dump({"segment": position[0], "offset": position[1]}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / "checkpoint.json")
        self.checkpoint = position
        with self._lock:
            self.pending.subtract(counts)
            self.pending = +self.pending
        for path in self.folder.glob("segment-*.log"):
            if int(path.stem.split("-")[1]) < position[0]:
                path.unlink()

    def close(self) -> None:
        self.sync()
        self._file.close()
        os.close(self._lock_fd)
