"""The spool's on-disk record format: ``<length, crc32, received>`` + destination + headers + body.

Written by the ingest daemon (``hfpanel.ingest.spool``) and read by it and by the ``ingest_health``
collector (``backlog_of``), so it lives below both.

The length and CRC let a reader stop exactly at the last whole record: a crash mid-write leaves a
torn tail that is recognised (and cut by the spool when it reopens), never misread.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from pathlib import Path

import msgspec

HEADER = struct.Struct("<IIdHI")  # payload length, crc32(received + payload), received, len(destination), len(headers)


class Record(msgspec.Struct, gc=False):
    """One spooled message and ``position``, the spool position just after it (where the
    checkpoint moves once it is stored). ``headers`` stays JSON bytes: only a quarantined message
    needs them, so most are never decoded. A ``gc=False`` struct, not ``(position, namedtuple)``:
    a flush holds 20,000 records, and as objects the cyclic GC tracks they made it run full
    collections (15% of a flush)."""

    received: float
    destination: str
    headers: bytes
    body: bytes
    position: tuple


def segment_path(folder: Path, number: int) -> Path:
    return folder / f"segment-{number:012d}.log"


def encode(received: float, destination: str, headers: dict, body: bytes) -> bytes:
    dest, head = destination.encode(), json.dumps(headers or {}, separators=(",", ":")).encode()
    payload = dest + head + body
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<d", received)))
    return HEADER.pack(len(payload), crc, received, len(dest), len(head)) + payload


def _segment(path: Path, mapped: bool):
    """A segment's bytes. ``mapped``: memory-mapped, so a batch copies only its bodies out of the
    page cache (``read()`` copied the whole rest of the 64 MB segment for every batch). Only for
    the spool's owner reading what it fsynced: no one truncates a segment under it then (the
    torn tail is cut when the owner opens the spool, before any read), whereas another process
    (``backlog_of``) could meet that cut, and a mapping touched past the end is a SIGBUS."""
    with open(path, "rb") as handle:
        if not mapped or os.fstat(handle.fileno()).st_size == 0:
            return handle.read()
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def read_records(
    folder: Path, start: tuple[int, int], end: tuple[int, int] | None = None, limit: int = 0, verify: bool = True
):
    """Records from position ``start`` up to ``end`` (or the last whole record). Stops at a torn
    or corrupt tail. ``verify=False`` skips the CRC (3-4 µs a message) for records this process
    itself wrote and fsynced, and reads the segments memory-mapped."""
    number, offset = start
    count, size_of, unpack, names = 0, HEADER.size, HEADER.unpack_from, {}
    while True:
        path = segment_path(folder, number)
        if not path.exists() or (end is not None and (number, offset) >= end):
            return
        data = _segment(path, mapped=not verify)
        view = memoryview(data)
        stop = min(len(data), end[1]) if end is not None and end[0] == number else len(data)
        at = offset
        while at + size_of <= stop:
            size, crc, received, dest_len, head_len = unpack(data, at)
            head, body, after = at + size_of + dest_len, at + size_of + dest_len + head_len, at + size_of + size
            if after > stop or (
                verify and zlib.crc32(view[at + size_of : after], zlib.crc32(view[at + 8 : at + 16])) != crc
            ):
                return  # a torn or corrupt tail: nothing after it is trusted
            destination = data[at + size_of : head]
            name = names.get(destination)
            if name is None:
                name = names[destination] = destination.decode()
            at = after
            yield Record(received, name, data[head:body], data[body:after], (number, at))
            count += 1
            if limit and count >= limit:
                return
        if at < stop or not segment_path(folder, number + 1).exists():
            return
        number, offset = number + 1, 0


def backlog_of(folder) -> int | None:
    """Records past the checkpoint of a spool folder, read without taking it over (for the health
    collector); None when there is no spool there."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    try:
        data = json.loads((folder / "checkpoint.json").read_text())
        start = int(data["segment"]), int(data["offset"])
    except FileNotFoundError:
        existing = sorted(folder.glob("segment-*.log"))
        start = (int(existing[0].stem.split("-")[1]), 0) if existing else (0, 0)
    return sum(1 for _ in read_records(folder, start))
