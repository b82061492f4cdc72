"""The one writer of a store.

A commit writes its files (Parquet data, one manifest segment per day it touches), fsyncs them
all together — the kernel's journal commits concurrent fsyncs in one go, where one file after
another paid a journal commit each — and then replaces the top manifest: the commit point. Files
no manifest names are invisible, so a writer killed anywhere leaves nothing half-visible; it
lists what it is about to write in ``.pending.json`` first, so the next writer removes exactly
those files instead of listing the whole store. A lock file keeps a second writer out (the
operating system drops the lock when a process dies, even by SIGKILL). Format and layout:
``manifest.py``; retention: ``retention.py``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import manifest
from .frames import to_arrow_many
from .manifest import SEGMENTS, Day, Manifest, detail_table_name

log = logging.getLogger("hfpanel.store")
LOCK_FILE = ".writer.lock"
PENDING = ".pending.json"
#: packed detail files live here: ``_detail/<table>/day=YYYY-MM-DD/``, whatever the module
PACKED = "_detail"
_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


def packed_path(kind: str, day: str) -> str:
    """Where a packed file of detail table ``kind`` goes (the manifest, not the path, says which
    modules and table it holds; the folder lets plain DuckDB find a table's files by glob)."""
    folder = kind if _SAFE.fullmatch(kind) and not kind.startswith(".") else "other"
    return f"{PACKED}/{folder}/day={day}/part-{uuid.uuid4().hex}.parquet"


#: seconds a retired file is kept so that a reader mid-query never loses it
RETIRE_GRACE = 300.0
#: a day whose commits left more segments than this is folded into one (today, mostly)
MAX_SEGMENTS = 32
#: rows per row group of a compacted file, sorted by module then time: one module's day sits in
#: one or two row groups and a reader skips the others by their statistics
ROW_GROUP = 16384

_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """Threads for Parquet writes (Arrow releases the GIL) and for fsyncs (which wait on the disk)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="hfpanel-store")
    return _pool


class StoreLocked(Exception):
    """Another process is writing this store."""


def _write_parquet(table: pa.Table, path: Path, row_group_size: int | None = None) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=row_group_size)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync(paths) -> None:
    """fsync files and folders concurrently: one wait for the disk instead of one per file."""
    paths = list(paths)
    if len(paths) == 1:
        _fsync(paths[0])
    elif paths:
        list(pool().map(_fsync, paths))


def _arrow(name: str, table: pa.Table) -> pa.Table:
    """The rows with a ``timestamp[us]`` time and no ``day`` (readers derive it)."""
    if "time" not in table.column_names:
        raise ValueError(f"table {name!r} has no 'time' column to partition by")
    if "day" in table.column_names:
        table = table.drop_columns(["day"])
    times = table.column("time")
    if times.type != pa.timestamp("us"):
        table = table.set_column(table.column_names.index("time"), "time", pc.cast(times, pa.timestamp("us")))
    if table.column("time").null_count:
        raise ValueError(f"table {name!r} has rows without a time")
    return table.replace_schema_metadata(None)


def _by_day(table: pa.Table) -> list[tuple[str, pa.Table]]:
    low, high = (v.as_py() for v in pc.min_max(table.column("time")).values())
    if low.date() == high.date():  # a run's rows: one day, found without a pass per row
        return [(f"{low:%Y-%m-%d}", table)]
    days = pc.cast(table.column("time"), pa.date32())  # a cast, not text formatting: 10 M rows in milliseconds
    unique = sorted(pc.unique(days).to_pylist())
    if len(unique) == 1:
        return [(f"{unique[0]:%Y-%m-%d}", table)]
    return [(f"{d:%Y-%m-%d}", table.filter(pc.equal(days, pa.scalar(d, pa.date32())))) for d in unique]


def packed_identity(name: str, table: pa.Table) -> tuple[str, str] | None:
    """(module, detail table) when ``name`` is ``detail__<module>__<table>`` and every row's
    ``module`` is that module: such rows are packed with other modules' rows of that table."""
    if not name.startswith("detail__") or "module" not in table.column_names or not table.num_rows:
        return None
    column = table.column("module")
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return None
    low, high = pc.min_max(column).values()
    module = low.as_py()
    if module is None or module != high.as_py() or column.null_count:
        return None
    prefix = detail_table_name(module, "")
    kind = name[len(prefix) :] if name.startswith(prefix) else ""
    return (module, kind) if kind else None


def _sorted(table: pa.Table) -> pa.Table:
    keys = [(c, "ascending") for c in ("module", "time") if c in table.column_names]
    return table.sort_by(keys) if keys else table


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
        try:
            data = manifest.read_json(self.root)
            if data is not None and data.get("format") == 1:
                from .migrate import upgrade

                self.manifest = Manifest.from_format1(self.root, data)
                upgrade(self)
            else:
                self.manifest = manifest.read(self.root)
            self.collect_garbage()
        except BaseException:
            self.__exit__()
            raise
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
        return self.manifest.generation + 1

    def state(self, key: str, default=None):
        """A small value committed with the manifest (e.g. an aggregation watermark)."""
        return self.manifest.state.get(key, default)

    def has_table(self, name: str) -> bool:
        return self.manifest.has(name)

    def write(self, tables: dict, replace_days: dict[str, list[str]] | None = None, state: dict | None = None) -> None:
        """Commit all tables at once: every file first, then one manifest replacement.

        ``tables`` maps a table name to a DataFrame or an Arrow table with a ``time`` column.
        ``replace_days`` maps a table name to days (``YYYY-MM-DD``) whose existing parts this commit
        retires: rewriting a day of statistics is then one atomic swap. ``state`` entries are
        merged into the manifest's ``state`` in the same commit (a watermark moves with the data
        it describes).
        """
        self._require_lock()
        files: list[tuple[str, pa.Table]] = []
        segments: dict[str, dict] = {}
        packs: dict[tuple[str, str], list[tuple[pa.Schema, list[tuple[str, pa.Table]]]]] = {}

        def segment(day: str) -> dict:
            return segments.setdefault(day, {"add": {}, "packs": {}, "drop": []})

        tables = {
            name: frame
            for name, frame in tables.items()
            if frame is not None and (frame.num_rows if isinstance(frame, pa.Table) else not frame.empty)
        }
        frames = {name: frame for name, frame in tables.items() if not isinstance(frame, pa.Table)}
        for name, frame in frames.items():
            if "time" not in frame.columns:
                raise ValueError(f"table {name!r} has no 'time' column to partition by")
        tables.update(to_arrow_many(frames))
        for name, frame in tables.items():
            table = _arrow(name, frame)
            identity = packed_identity(name, table)
            for day, rows in _by_day(table):
                if identity is None:
                    path = f"{name}/day={day}/part-{uuid.uuid4().hex}.parquet"
                    files.append((path, rows))
                    segment(day)["add"].setdefault(name, []).append(path)
                    continue
                groups = packs.setdefault((day, identity[1]), [])
                group = next((g for g in groups if g[0] == rows.schema), None)
                if group is None:
                    groups.append(group := (rows.schema, []))
                group[1].append((identity[0], rows))
        for (day, kind), groups in packs.items():
            for _, members in groups:
                path = packed_path(kind, day)
                files.append((path, pa.concat_tables([rows for _, rows in members])))
                segment(day)["packs"][path] = {"table": kind, "modules": [module for module, _ in members]}
        for name, days in (replace_days or {}).items():
            for day in days:
                self._drop(name, day, segment(day), files)
        segments = {day: seg for day, seg in segments.items() if any(seg.values())}
        if not segments and not state and not replace_days:
            return
        self._commit(files, segments, state=state)

    def _drop(self, name: str, day: str, segment: dict, files: list) -> None:
        """Retire ``name``'s files of ``day`` in this commit; a packed file loses only that
        module's rows (rewritten without them), the other modules keep theirs."""
        current = self.manifest.day(day)
        segment["drop"] += current.plain.get(name, [])
        module = current.module_of(name)
        if module is None:
            return
        for path in current.parts(name):
            if path not in current.packs:
                continue
            kind, modules = current.packs[path]
            segment["drop"].append(path)
            rest = [m for m in modules if m != module]
            if rest:
                rows = pq.read_table(self.root / path, partitioning=None)
                new = packed_path(kind, day)
                files.append((new, rows.filter(pc.not_equal(rows.column("module"), module))))
                segment["packs"][new] = {"table": kind, "modules": rest}

    def _commit(
        self,
        files: list[tuple[str, pa.Table]],
        segments: dict[str, dict],
        *,
        state: dict | None = None,
        whole: bool = False,
        retire: list[str] = (),
        clean: bool = False,
        row_group_size: int | None = None,
    ) -> None:
        """Write ``files`` and one segment per day, fsync them together, then the manifest.

        A segment is appended to its day's segments, or with ``whole`` it *is* the day (a
        compaction, a fold, the migration) and replaces them. ``retire`` adds paths no longer
        live (besides the segments' drops and, with ``whole``, the day's old segments).
        """
        old = self.manifest
        generation = old.generation + 1
        names = {day: manifest.segment_name(day, generation) for day in segments}
        retired = list(retire) + [p for s in segments.values() for p in s.get("drop", ())]
        if whole:
            retired += [n for day in segments for n in old.days.get(day, {}).get("s", ())]
        batch = f"{SEGMENTS}/retired-{generation:09d}-{uuid.uuid4().hex[:8]}.json" if retired else None
        written = [p for p, _ in files] + list(names.values()) + ([batch] if batch else [])
        manifest.write_json(self.root / PENDING, {"generation": generation, "paths": written})
        folders = {self.root / p.rsplit("/", 1)[0] for p in written}
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        if len(files) > 1:
            list(pool().map(lambda f: _write_parquet(f[1], self.root / f[0], row_group_size), files))
        for path, table in files[:1] if len(files) == 1 else ():
            _write_parquet(table, self.root / path, row_group_size)
        for day, seg in segments.items():
            manifest.write_json(self.root / names[day], {k: v for k, v in seg.items() if v})
        if batch:
            manifest.write_json(self.root / batch, retired)
        sync([self.root / p for p in written] + [self.root / PENDING] + sorted(folders))

        new, shrunk = old.copy(), {}
        for day, seg in segments.items():
            new._segments[names[day]] = seg
            before = old.day(day) if (whole or seg.get("drop") or day in old._folded) else None
            if whole:
                after = Day().applied(seg)
                new.set_day(day, {"s": [names[day]], **({"c": True} if clean else {})}, after)
            else:
                after = before.applied(seg) if before is not None else None
                new.set_day(day, {"s": old.days.get(day, {}).get("s", []) + [names[day]]}, after)
            added = set(seg.get("add", {})) | {
                detail_table_name(m, spec["table"]) for spec in seg.get("packs", {}).values() for m in spec["modules"]
            }
            for table in added:
                first, last = new.catalog.get(table, (day, day))
                new.catalog[table] = [min(first, day), max(last, day)]
            if before is not None:
                for table in before.tables() - after.tables():
                    shrunk.setdefault(table, []).append(day)
        for table, days in shrunk.items():
            self._rebound(new, table, days)
        if batch:
            new.retired = old.retired + [[batch, time.time()]]
            for name in retired:
                new._segments.pop(name, None)
        if state:
            new.state = {**old.state, **state}
        self.manifest = manifest.write(self.root, new)
        for day in segments:
            if not whole and len(self.manifest.days[day]["s"]) > MAX_SEGMENTS:
                self.fold(day)

    @staticmethod
    def _rebound(new: Manifest, table: str, left: list[str]) -> None:
        """``table`` left the days ``left``: when one was a bound of its catalog entry, the bound
        moves to the nearest day still holding it (after a prune: usually the next day)."""
        first, last = new.catalog[table]
        if first not in left and last not in left:
            return
        days = new.days_of(table)
        first = next((d for d in days if new.day(d).parts(table)), None)
        if first is None:
            new.catalog.pop(table, None)
            return
        if last in left:
            last = next(d for d in reversed(days) if new.day(d).parts(table))
        new.catalog[table] = [first, last]

    def commit_segments(self, segments: dict[str, dict], state: dict | None = None) -> None:
        """Commit changes to days' file lists made elsewhere (retention's drops) with ``state``."""
        self._require_lock()
        self._commit([], segments, state=state)

    def fold(self, day: str) -> None:
        """One segment for ``day`` instead of its commits' many (no data file changes)."""
        self._commit([], {day: self.manifest.day(day).segment()}, whole=True)

    def drop_days(self, table: str, days) -> int:
        """Retire every part of ``table`` in the given days (retention); returns parts retired."""
        before = len(self.manifest.parts(table))
        self.write({}, replace_days={table: list(days)})
        return before - len(self.manifest.parts(table))

    # -- housekeeping ----------------------------------------------------------------------
    def collect_garbage(self, now: float | None = None, full: bool = False) -> int:
        """Remove what no reader can see: the files of a commit that never happened (named in
        ``.pending.json``), the manifest's temporary files, and retired files past their grace
        period; returns how many data files went. ``full`` also walks the whole store for files
        nothing names (a format-1 store's leftovers, a power cut's). Safe only under the lock."""
        self._require_lock()
        now = time.time() if now is None else now
        removed = 0
        try:
            pending = json.loads((self.root / PENDING).read_text())
        except (FileNotFoundError, ValueError):
            pending = None
        if pending and pending.get("generation", 0) > self.manifest.generation:
            for path in pending.get("paths", []):
                removed += _unlink(self.root / path)
        for name in os.listdir(self.root):
            if name.startswith(f".{manifest.MANIFEST}.tmp-"):
                removed += _unlink(self.root / name)
        keep = []
        for batch, when in self.manifest.retired:
            if now - when <= RETIRE_GRACE:
                keep.append([batch, when])
                continue
            try:
                paths = json.loads((self.root / batch).read_text())
            except (FileNotFoundError, ValueError):
                paths = []
            removed += sum(_unlink(self.root / p) for p in paths)
            _unlink(self.root / batch)
        if len(keep) != len(self.manifest.retired):
            new = self.manifest.copy()
            new.retired = keep
            self.manifest = manifest.write(self.root, new)
        if full:
            removed += self._sweep()
        if removed:
            log.info("removed %d unreferenced or expired data files from %s", removed, self.root)
        return removed

    def _sweep(self) -> int:
        live = self.manifest.files() | self.manifest.segment_names()
        for batch, _ in self.manifest.retired:
            live.add(batch)
            try:
                live.update(json.loads((self.root / batch).read_text()))
            except (FileNotFoundError, ValueError):
                pass
        removed = 0
        for path in self.root.rglob("*"):
            if not path.is_file() or path.parent == self.root:
                continue
            relative = str(path.relative_to(self.root))
            if relative not in live and (path.suffix in (".parquet", ".json") or path.name.startswith(".tmp-")):
                removed += _unlink(path)
        return removed

    def compact(self, keep_today: bool = True, min_files: int = 2, progress=None) -> int:
        """Merge each day's files into one per table (detail tables: one per table and schema,
        every module's rows in it, sorted by module); returns how many files were merged.

        Only days written since their last compaction are read (the manifest marks compacted
        days), so the cost follows the new data, not the history. Today's partition is left
        alone by default (it is still growing); every day is its own commit, so an interrupted
        compaction leaves a consistent store.
        """
        self._require_lock()
        today = time.strftime("%Y-%m-%d", time.gmtime())
        todo = sorted(d for d, e in self.manifest.days.items() if not e.get("c") and not (keep_today and d == today))
        merged = 0
        for day in progress(todo) if progress else todo:
            merged += self._compact_day(day, min_files)
            self.manifest.forget(day)
        return merged

    def _compact_day(self, day: str, min_files: int) -> int:
        current = self.manifest.day(day)
        plain, packs = dict(current.plain), dict(current.packs)
        files, retire = [], []
        units: dict[tuple[str, pa.Schema], list[tuple[str, list[str], bool]]] = {}
        for table, parts in current.plain.items():
            identity = self._file_identity(table, parts) if table.startswith("detail__") else None
            if identity is not None:  # a format-1 per-module file: packed with the others
                for part in parts:
                    schema = pq.read_schema(self.root / part).remove_metadata()
                    units.setdefault((identity[1], schema), []).append((part, [identity[0]], True))
                continue
            if len(parts) < min_files:
                continue
            combined = self._combine(table, day, parts)
            if combined is not None:
                path = f"{table}/day={day}/part-{uuid.uuid4().hex}.parquet"
                files.append((path, combined))
                plain[table] = [path]
                retire += parts
        for path, (kind, modules) in current.packs.items():
            schema = pq.read_schema(self.root / path).remove_metadata()
            units.setdefault((kind, schema), []).append((path, modules, False))
        for (kind, _), members in units.items():
            if len(members) < min_files and not any(legacy for _, _, legacy in members):
                continue
            combined = self._combine(f"detail tables {kind!r}", day, [p for p, _, _ in members])
            if combined is None:
                continue
            path = packed_path(kind, day)
            files.append((path, combined))
            modules = list(dict.fromkeys(m for _, ms, _ in members for m in ms))
            packs[path] = (kind, sorted(modules))
            for part, ms, legacy in members:
                retire.append(part)
                if legacy:
                    plain.pop(detail_table_name(ms[0], kind), None)
                else:
                    packs.pop(part, None)
        entry = self.manifest.days.get(day, {})
        if not files and len(entry.get("s", ())) <= 1 and self.manifest.format == manifest.FORMAT:
            new = self.manifest.copy()  # nothing to merge: only remember that
            new.days[day] = {**entry, "c": True}
            self.manifest = manifest.write(self.root, new)
            return 0
        whole = Day(plain, packs).segment()
        self._commit(files, {day: whole}, whole=True, retire=retire, clean=True, row_group_size=ROW_GROUP)
        return len(retire)

    def _file_identity(self, table: str, parts: list[str]) -> tuple[str, str] | None:
        try:
            column = pq.read_table(self.root / parts[0], columns=["module"], partitioning=None)
        except (pa.ArrowInvalid, KeyError):
            return None
        return packed_identity(table, column)

    def _combine(self, what: str, day: str, parts: list[str]) -> pa.Table | None:
        try:
            tables = [pq.read_table(self.root / p, partitioning=None).replace_schema_metadata(None) for p in parts]
            return _sorted(pa.concat_tables(tables, promote_options="permissive"))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            log.warning("cannot compact %s of %s (schemas differ: %s); left as is", what, day, error)
            return None


def _unlink(path: Path) -> int:
    """Remove a file; counts 1 for a data file removed (segments and journals are bookkeeping)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return int(path.suffix == ".parquet")
