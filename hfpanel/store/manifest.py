"""The manifest: the single file whose atomic replacement commits a run or a compaction.

Readers trust only files listed here, so a writer killed mid-run leaves nothing visible, and a
compaction swaps many small files for one without any reader seeing both or neither.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

MANIFEST = "_manifest.json"
FORMAT = 1


def empty() -> dict:
    return {"format": FORMAT, "generation": 0, "tables": {}, "retired": []}


def read(root: Path) -> dict:
    try:
        with open(root / MANIFEST) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return empty()
    if data.get("format") != FORMAT:
        raise ValueError(f"{root / MANIFEST}: unsupported manifest format {data.get('format')!r}")
    return data


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(root: Path, data: dict) -> dict:
    """Replace the manifest atomically (temporary file, fsync, rename, fsync the folder)."""
    data = {**data, "generation": data.get("generation", 0) + 1}
    tmp = root / f".{MANIFEST}.tmp-{uuid.uuid4().hex}"
    with open(tmp, "w") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / MANIFEST)
    fsync_dir(root)
    return data
