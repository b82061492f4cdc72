"""The spool's on-disk record format: ``<length, crc32, received>`` + destination + headers + body.

The length and CRC let a reader stop exactly at the last whole record: a crash mid-write leaves a
torn tail that is recognised (and cut by the spool when it reopens), never misread.
"""

from __future__ import annotations

import collections
import json
import struct
import zlib
from pathlib import Path

HEADER = struct.Struct("<IIdHI")  # payload length, crc32(received + payload), received, len(destination), len(headers)
#: ``headers`` stays JSON bytes: only a quarantined message needs them, so most are never decoded
Record = collections.namedtuple("Record", "received destination headers body")


def segment_path(folder: Path, number: int) -> Path:
    return folder / f"segment-{number:012d}.log"


def encode(received: float, destination: str, headers: dict, body: bytes) -> bytes:
    dest, head = destination.encode(), json.dumps(headers or {}, separators=(",", ":")).encode()
    payload = dest + head + body
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<d", received)))
    return HEADER.pack(len(payload), crc, received, len(dest), len(head)) + payload


def read_records(folder: Path, start: tuple[int, int], end: tuple[int, int] | None = None, limit: int = 0,
                 verify: bool = True):
    """Records from position ``start`` up to ``end`` (or the last whole record); yields
    ``(position after the record, Record)``. Stops at a torn or corrupt tail. Reads a segment's
    range in one call (a batch is bounded by the flush size) and slices it. ``verify=False``
    skips the CRC (3-4 µs a message) for records this process itself wrote and fsynced."""
    number, offset = start
    count, size_of, unpack = 0, HEADER.size, HEADER.unpack_from
    while True:
        path = segment_path(folder, number)
        if not path.exists() or (end is not None and (number, offset) >= end):
            return
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(end[1] - offset if end is not None and end[0] == number else -1)
        view, at = memoryview(data), 0
        while at + size_of <= len(data):
            size, crc, received, dest_len, head_len = unpack(data, at)
            payload = view[at + size_of:at + size_of + size]
            if len(payload) < size or (verify and zlib.crc32(payload, zlib.crc32(view[at + 8:at + 16])) != crc):
                return  # a torn or corrupt tail: nothing after it is trusted
            at += size_of + size
            yield (number, offset + at), Record(received, bytes(payload[:dest_len]).decode(),
                                                bytes(payload[dest_len:dest_len + head_len]),
                                                bytes(payload[dest_len + head_len:]))
            count += 1
            if limit and count >= limit:
                return
        if at < len(data) or not segment_path(folder, number + 1).exists():
            return
        number, offset = number + 1, 0
