"""The one writer of a store.

Every file is written under a temporary name, fsynced and renamed; a run becomes visible only
when the manifest naming its files replaces the old manifest. A lock file keeps a second writer
out (the operating system drops the lock when a process dies, even by SIGKILL).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import manifest
from .frames import to_arrow

log = logging.getLogger("hfpanel.store")
LOCK_FILE = ".writer.lock"
#: seconds a retired file is kept so that a reader mid-query never loses it
RETIRE_GRACE = 300.0


class StoreLocked(Exception):
    """Another process is writing this store."""


def _write_parquet(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class StoreWriter:
    """Context manager holding the store's write lock; ``write()`` commits tables atomically."""

    def __init__(self, root, wait: float | None = 0.0):
        self.root = Path(root)
        self.wait = wait
        self._lock_fd = None

    # -- lock -------------------------------------------------------------------------------
    def __enter__(self) -> StoreWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.wait is None else time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    os.close(fd)
                    raise StoreLocked(
                        f"store {self.root} is being written by {holder}; wait for it or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        self._lock_fd = fd
        self.manifest = manifest.read(self.root)
        self.collect_garbage()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _require_lock(self):
        if self._lock_fd is None:
            raise RuntimeError("StoreWriter must be used as a context manager (it holds the write lock)")

    # -- writing ----------------------------------------------------------------------------
    @property
    def next_generation(self) -> int:
        """The manifest generation the next commit will have: callers stamp rows with it so that a
        later reader can take 'everything committed after generation g' (an ingest watermark)."""
        return self.manifest.get("generation", 0) + 1

    def state(self, key: str, default=None):
        """A small value committed with the manifest (e.g. an aggregation watermark)."""
        return self.manifest.get("state", {}).get(key, default)

    def _write_table(self, name: str, frame) -> list[str]:
        """Write one table's rows (a DataFrame or an Arrow table) as one part per day; return the
        new relative paths."""
        table = frame if isinstance(frame, pa.Table) else to_arrow(frame)
        times = table.column("time")
        if not pa.types.is_timestamp(times.type):
            times = pc.cast(times, pa.timestamp("us"))
        days = pc.cast(times, pa.date32())  # a cast, not text formatting: 10 M rows in milliseconds
        if days.null_count:
            raise ValueError(f"table {name!r} has rows without a time")
        unique = sorted(pc.unique(days).to_pylist())

        def write_day(day) -> str:
            rows = table if len(unique) == 1 else table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
            folder = self.root / name / f"day={day:%Y-%m-%d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{uuid.uuid4().hex}.parquet"
            _write_parquet(rows, path)
            return str(path.relative_to(self.root))

        if len(unique) < 4:
            return [write_day(day) for day in unique]
        # many days (a rebuild, a backfill): Arrow's Parquet writer releases the GIL, so days are
        # filtered, compressed and fsynced on every core at once
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            return list(pool.map(write_day, unique))

    def write(self, tables: dict, replace_days: dict[str, list[str]] | None = None, state: dict | None = None) -> None:
        """Commit all tables at once: every file first, then one manifest replacement.

        ``tables`` maps a table name to a DataFrame or an Arrow table with a ``time`` column.
        ``replace_days`` maps a table name to days (``YYYY-MM-DD``) whose existing parts this commit
        retires: rewriting a day of statistics is then one atomic swap. ``state`` entries are
        merged into the manifest's ``state`` in the same commit (a watermark moves with the data
        it describes).
        """
        self._require_lock()
        added = {}
        for name, frame in tables.items():
            if frame is None or (frame.num_rows == 0 if isinstance(frame, pa.Table) else frame.empty):
                continue
            columns = frame.column_names if isinstance(frame, pa.Table) else frame.columns
            if "time" not in columns:
                raise ValueError(f"table {name!r} has no 'time' column to partition by")
            added[name] = self._write_table(name, frame)
        replace_days = {k: set(v) for k, v in (replace_days or {}).items() if v}
        if not added and not replace_days and not state:
            return
        for directory in {self.root / p.split("/", 1)[0] for parts in added.values() for p in parts}:
            manifest.fsync_dir(directory)
        data = self.manifest
        tables_now, dropped = {}, []
        for name, parts in data["tables"].items():
            days = {f"day={d}" for d in replace_days.get(name, ())}
            tables_now[name] = [p for p in parts if p.split("/")[1] not in days]
            dropped += [p for p in parts if p.split("/")[1] in days]
        for name, parts in added.items():
            tables_now.setdefault(name, []).extend(parts)
        update = {**data, "tables": tables_now}
        if dropped:
            update["retired"] = data.get("retired", []) + [[p, time.time()] for p in dropped]
        if state:
            update["state"] = {**data.get("state", {}), **state}
        self.manifest = manifest.write(self.root, update)

    def drop_days(self, table: str, days) -> int:
        """Retire every part of ``table`` in the given days (retention); returns parts retired."""
        before = len(self.manifest["tables"].get(table, []))
        self.write({}, replace_days={table: list(days)})
        return before - len(self.manifest["tables"].get(table, []))

    # -- housekeeping ----------------------------------------------------------------------
    def collect_garbage(self, now: float | None = None) -> int:
        """Remove what no reader can see: temporary files and parts a killed writer left behind,
        and retired files past their grace period. Safe only under the lock."""
        self._require_lock()
        now = time.time() if now is None else now
        live = {p for parts in self.manifest["tables"].values() for p in parts}
        retired = {p: t for p, t in self.manifest.get("retired", [])}
        removed = 0
        for path in self.root.rglob("*"):
            if not path.is_file() or path.name in (LOCK_FILE, manifest.MANIFEST):
                continue
            relative = str(path.relative_to(self.root))
            orphan = path.name.startswith(".tmp-") or path.name.startswith(f".{manifest.MANIFEST}.tmp-")
            orphan = orphan or (path.suffix == ".parquet" and relative not in live and relative not in retired)
            expired = relative in retired and now - retired[relative] > RETIRE_GRACE
            if orphan or expired:
                path.unlink(missing_ok=True)
                removed += 1
        if any(now - t > RETIRE_GRACE for t in retired.values()):
            keep = [[p, t] for p, t in retired.items() if now - t <= RETIRE_GRACE]
            self.manifest = manifest.write(self.root, {**self.manifest, "retired": keep})
        if removed:
            log.info("removed %d unreferenced or expired files from %s", removed, self.root)
        return removed

    def compact(self, keep_today: bool = True, min_files: int = 2, progress=None) -> int:
        """Merge each table's parts of a day into one file; returns how many files were merged.

        Today's partition is left alone by default (it is still growing); every merge is its own
        manifest commit, so an interrupted compaction leaves a consistent store.
        """
        self._require_lock()
        today = time.strftime("%Y-%m-%d", time.gmtime())
        groups = {}
        for name, parts in self.manifest["tables"].items():
            for part in parts:
                day = part.split("/")[1]
                groups.setdefault((name, day), []).append(part)
        todo = [
            (key, parts)
            for key, parts in sorted(groups.items())
            if len(parts) >= min_files and not (keep_today and key[1] == f"day={today}")
        ]
        merged = 0
        for (name, day), parts in progress(todo) if progress else todo:
            try:
                combined = pa.concat_tables(
                    [pq.read_table(self.root / p, partitioning=None) for p in parts], promote_options="permissive"
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
                log.warning("cannot compact %s/%s (schemas differ: %s); left as is", name, day, error)
                continue
            if "time" in combined.column_names:
                combined = combined.sort_by("time")
            path = self.root / name / day / f"part-{uuid.uuid4().hex}.parquet"
            _write_parquet(combined, path)
            manifest.fsync_dir(path.parent)
            drop = set(parts)
            tables_now = {k: [p for p in v if p not in drop] for k, v in self.manifest["tables"].items()}
            tables_now[name].append(str(path.relative_to(self.root)))
            retired = self.manifest.get("retired", []) + [[p, time.time()] for p in parts]
            self.manifest = manifest.write(self.root, {**self.manifest, "tables": tables_now, "retired": retired})
            merged += len(parts)
        return merged
