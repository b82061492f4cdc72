"""The manifest: which files are live, committed by one atomic replace of ``_manifest.json``.

Readers trust only files listed here, so a writer killed mid-run leaves nothing visible, and a
compaction swaps many small files for one without any reader seeing both or neither.

Format 2 keeps a commit's cost in proportion to the commit, not to the store's history (format 1
listed every file of every day in one file, rewritten by every commit). The top file holds the
generation, the committed ``state``, a catalog (each table's first and last day) and, per day, the
names of the day's *segments*: small immutable files (``_days/<day>-<generation>-<id>.json``), each
listing what one commit added to or dropped from that day. A commit writes one segment per day it
touches and a new top file; compaction folds a day's segments into one; a reader folds only the
days it reads. Detail tables are *packed*: one file holds every module's rows of a detail table
name and schema (a segment names the modules in it), so a run of 1,000 modules writes tens of files,
not a thousand.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

MANIFEST = "_manifest.json"
SEGMENTS = "_days"
FORMAT = 2
FORMATS = (1, 2)


def detail_table_name(module: str, table: str = "rows") -> str:
    return f"detail__{module}__{table}"


class Day:
    """One day's live files, folded from its segments (never changed once built: a commit makes a
    new ``Day``, so a reader may keep using the one it holds)."""

    __slots__ = ("plain", "packs", "_index")

    def __init__(
        self, plain: dict[str, list[str]] | None = None, packs: dict[str, tuple[str, list[str]]] | None = None
    ):
        self.plain = plain or {}  # table -> its files
        self.packs = packs or {}  # packed file -> (detail table name, modules in it)
        self._index = None

    def applied(self, segment: dict) -> Day:
        """This day after ``segment`` (drops first, then additions)."""
        drop = set(segment.get("drop", ()))
        plain = {t: [p for p in ps if p not in drop] for t, ps in self.plain.items()}
        packs = {p: spec for p, spec in self.packs.items() if p not in drop}
        for table, paths in segment.get("add", {}).items():
            plain[table] = plain.get(table, []) + list(paths)
        for path, spec in segment.get("packs", {}).items():
            packs[path] = (spec["table"], list(spec["modules"]))
        return Day({t: ps for t, ps in plain.items() if ps}, packs)

    def _packed(self) -> dict[str, tuple[str, list[str]]]:
        """detail table name -> (module, packed files holding its rows)."""
        if self._index is None:
            index: dict[str, tuple[str, list[str]]] = {}
            for path, (kind, modules) in self.packs.items():
                for module in modules:
                    index.setdefault(detail_table_name(module, kind), (module, []))[1].append(path)
            self._index = index
        return self._index

    def parts(self, table: str) -> list[str]:
        packed = self._packed().get(table)
        plain = self.plain.get(table, [])
        return plain + packed[1] if packed else list(plain)

    def module_of(self, table: str) -> str | None:
        """The module whose rows ``table`` is, when some of its files are packed (a filter then applies)."""
        packed = self._packed().get(table)
        return packed[0] if packed else None

    def tables(self) -> set[str]:
        return set(self.plain) | set(self._packed())

    def files(self) -> list[str]:
        return [p for ps in self.plain.values() for p in ps] + list(self.packs)

    def segment(self) -> dict:
        """The whole day as one segment (what compaction and the migration write)."""
        return {
            "add": self.plain,
            "packs": {p: {"table": kind, "modules": modules} for p, (kind, modules) in self.packs.items()},
        }


EMPTY_DAY = Day()


def _read_local(path: str) -> str:
    with open(path) as handle:
        return handle.read()


class Manifest:
    """The top file, with each day's segments read (and folded) when first asked for.

    ``segments`` is a cache of segment name -> parsed segment shared between successive
    manifests of one reader: segments never change, so a reader reads each once.
    """

    def __init__(self, root, data: dict | None = None, read_text: Callable[[str], str] | None = None, segments=None):
        data = data or {}
        self.root = str(root).rstrip("/")
        self.format = FORMAT
        self.generation: int = data.get("generation", 0)
        self.state: dict = data.get("state", {})
        self.retired: list = data.get("retired", [])
        self.catalog: dict[str, list[str]] = data.get("tables", {})  # table -> [first day, last day]
        self.days: dict[str, dict] = data.get("days", {})  # day -> {"s": [segment names], "c": compacted}
        self._read_text = read_text or _read_local
        self._segments = {} if segments is None else segments
        self._folded: dict[str, tuple[tuple, Day]] = {}

    def copy(self) -> Manifest:
        """A manifest to change for the next commit (segments cache shared: segments never change)."""
        new = Manifest.__new__(Manifest)
        new.__dict__.update(self.__dict__)
        new.state, new.retired, new.catalog = dict(self.state), list(self.retired), dict(self.catalog)
        new.days, new._folded = dict(self.days), dict(self._folded)
        return new

    def forget(self, day: str) -> None:
        """Drop ``day``'s fold and segments from memory (a long-lived writer is done with it)."""
        self._folded.pop(day, None)
        for name in self.days.get(day, {}).get("s", ()):
            self._segments.pop(name, None)

    # -- reading ----------------------------------------------------------------------------
    def segment(self, name: str) -> dict:
        cached = self._segments.get(name)
        if cached is None:
            cached = self._segments[name] = json.loads(self._read_text(f"{self.root}/{name}"))
        return cached

    def day(self, day: str) -> Day:
        names = tuple(self.days.get(day, {}).get("s", ()))
        held = self._folded.get(day)
        if held is not None and held[0] == names:
            return held[1]
        folded = EMPTY_DAY
        for name in names:
            folded = folded.applied(self.segment(name))
        self._folded[day] = (names, folded)
        return folded

    def set_day(self, day: str, entry: dict, folded: Day | None = None) -> None:
        """Point ``day`` at new segments (a writer's commit), keeping the fold when it knows it."""
        self.days[day] = entry
        if folded is not None:
            self._folded[day] = (tuple(entry["s"]), folded)
        else:
            self._folded.pop(day, None)

    def days_of(self, table: str, low: str = "", high: str = "9999") -> list[str]:
        """The days in [low, high] that may hold ``table`` (within its catalog bounds), oldest first."""
        bounds = self.catalog.get(table)
        if not bounds:
            return []
        low, high = max(low, bounds[0]), min(high, bounds[1])
        return sorted(d for d in self.days if low <= d <= high)

    def parts(self, table: str, low: str = "", high: str = "9999") -> list[str]:
        """Files of ``table`` in the days [low, high] (``YYYY-MM-DD``), relative to the root."""
        return [p for d in self.days_of(table, low, high) for p in self.day(d).parts(table)]

    def parts_by_day(self, table: str) -> dict[str, list[str]]:
        out = {}
        for d in self.days_of(table):
            parts = self.day(d).parts(table)
            if parts:
                out[d] = parts
        return out

    def module_of(self, table: str, days) -> str | None:
        """The module filter for a packed detail table read over ``days`` (None for plain tables)."""
        if not table.startswith("detail__"):
            return None
        for d in days:
            module = self.day(d).module_of(table)
            if module is not None:
                return module
        return None

    def has(self, table: str) -> bool:
        return table in self.catalog

    def tables(self) -> list[str]:
        return sorted(self.catalog)

    def files(self) -> set[str]:
        """Every live data file (reads every day: for sweeps and counts, not for queries)."""
        return {p for d in self.days for p in self.day(d).files()}

    def segment_names(self) -> set[str]:
        return {name for entry in self.days.values() for name in entry.get("s", ())}

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "generation": self.generation,
            "state": self.state,
            "retired": self.retired,
            "tables": self.catalog,
            "days": self.days,
        }

    # -- format 1 -----------------------------------------------------------------------------
    @classmethod
    def from_format1(cls, root, data: dict, read_text=None) -> Manifest:
        """A format-1 manifest (every file in one list per table) seen as days, in memory: how a
        reader reads a store no writer has upgraded yet, and what the upgrade writes out."""
        made = cls(root, {k: data[k] for k in ("generation", "state") if k in data}, read_text)
        plain: dict[str, dict[str, list[str]]] = {}
        for table, paths in data.get("tables", {}).items():
            for path in paths:
                plain.setdefault(path.split("/")[1][4:], {}).setdefault(table, []).append(path)
            days = sorted({p.split("/")[1][4:] for p in paths})
            if days:
                made.catalog[table] = [days[0], days[-1]]
        for day, tables in plain.items():
            made.days[day] = {"s": []}
            made._folded[day] = ((), Day(tables))
        made.format = 1
        made.legacy_retired = data.get("retired", [])
        return made


def empty(root="") -> Manifest:
    return Manifest(root)


def read_json(root, read_text=None) -> dict | None:
    """The top file as JSON (None when the store has none yet)."""
    try:
        return json.loads((read_text or _read_local)(f"{str(root).rstrip('/')}/{MANIFEST}"))
    except FileNotFoundError:
        return None


def read(root, read_text: Callable[[str], str] | None = None, segments=None) -> Manifest:
    """The store's manifest (format 1 or 2); ``read_text`` reads a file from a URL (a remote store)."""
    data = read_json(root, read_text)
    if data is None:
        return Manifest(root, read_text=read_text, segments=segments)
    if data.get("format") not in FORMATS:
        raise ValueError(f"{root}/{MANIFEST}: unsupported manifest format {data.get('format')!r}")
    if data["format"] == 1:
        return Manifest.from_format1(root, data, read_text)
    return Manifest(root, data, read_text, segments)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segment_name(day: str, generation: int) -> str:
    return f"{SEGMENTS}/{day}-{generation:09d}-{uuid.uuid4().hex[:8]}.json"


def write_json(path: Path, data) -> None:
    """A file written whole, not yet fsynced (the commit syncs its files together)."""
    with open(path, "w") as handle:
        json.dump(data, handle, separators=(",", ":"))


def write(root: Path, manifest: Manifest) -> Manifest:
    """Replace the top file atomically (temporary file, fsync, rename, fsync the folder): the
    commit point. Everything it names must already be durable."""
    tmp = Path(root) / f".{MANIFEST}.tmp-{uuid.uuid4().hex}"
    with open(tmp, "w") as handle:
        json.dump({**manifest.to_json(), "generation": manifest.generation + 1}, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, Path(root) / MANIFEST)
    fsync_dir(Path(root))
    manifest.generation += 1
    manifest.format = FORMAT
    return manifest
