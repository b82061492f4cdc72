"""A store as hfpanel wrote it before manifest format 2: one file per table, day and commit, every
file listed in one ``_manifest.json``, each file fsynced and renamed from ``.tmp-<name>``.

Written here byte for byte as the old writer did (not through today's writer), so the upgrade is
tested on what existing sites have on disk, leftovers of a killed writer included.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from hfpanel.store.frames import to_arrow


def write_format1(root, runs: list[dict[str, pd.DataFrame]], state: dict | None = None) -> dict:
    """Commit ``runs`` (table -> rows, one day each) the format-1 way; returns the manifest."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[str]] = {}
    for run in runs:
        for name, frame in run.items():
            day = f"{pd.Timestamp(frame['time'].iloc[0]):%Y-%m-%d}"
            folder = root / name / f"day={day}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{uuid.uuid4().hex}.parquet"
            pq.write_table(to_arrow(frame), path, compression="zstd")
            tables.setdefault(name, []).append(str(path.relative_to(root)))
    data = {"format": 1, "generation": len(runs), "tables": tables, "retired": [], "state": state or {}}
    (root / "_manifest.json").write_text(json.dumps(data))
    return data


def leave_debris(root) -> list[Path]:
    """What a format-1 writer killed mid-commit left: a temporary part and a whole part no
    manifest names, and a retired part past its grace period."""
    root = Path(root)
    data = json.loads((root / "_manifest.json").read_text())
    some = Path(root / data["tables"]["module_status"][0])
    tmp = some.with_name(f".tmp-part-{uuid.uuid4().hex}.parquet")
    orphan = some.with_name(f"part-{uuid.uuid4().hex}.parquet")
    retired = some.with_name(f"part-{uuid.uuid4().hex}.parquet")
    for path in (tmp, orphan, retired):
        path.write_bytes(some.read_bytes())
    data["retired"] = [[str(retired.relative_to(root)), time.time() - 3600]]
    (root / "_manifest.json").write_text(json.dumps(data))
    return [tmp, orphan, retired]
