"""Read-only access to a store: an in-memory DuckDB with one view per table over the live files.

The manifest is re-read (when it changed) before each query, so a long-lived reader such as the
served app sees new runs without reopening, and never a half-written one. A query is answered from
one manifest: its views, and the scans it was built from even when a commit landed while it was
being built (``Store.sql``). One connection per process-level ``Store``, a cursor per query, as
dbt-duckdb does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

import duckdb
import pandas as pd

from . import manifest
from .frames import utc_naive
from .manifest import detail_table_name  # noqa: F401  (imported from here by the queries)

EARLIEST, LATEST = pd.Timestamp("1970-01-01"), pd.Timestamp("2200-01-01")
#: how far back "the status as it was at time t" looks for a module's last row
STATUS_LOOKBACK = pd.Timedelta(days=7)
#: words in a query that ask about every table (so every view must exist)
_CATALOG_WORDS = re.compile(r"\b(show|information_schema|duckdb_\w+|pg_catalog)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
#: a scan's SQL starts with its number: ``/*scan 12*/``
_TAG = re.compile(r"/\*scan (\d+)\*/")
#: scans remembered (by number) so that a query built from several is answered from one manifest
ISSUED_MAX = 128
#: a scan this old (seconds) is re-made from the newest manifest instead of pinning the query to its
#: own: well inside the writer's grace period (``writer.RETIRE_GRACE``), so a pinned query's files exist
PIN_LIMIT = 120.0


_open_stores: weakref.WeakSet[Store] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close connections before interpreter teardown (DuckDB complains about leaks otherwise)."""
    for store in list(_open_stores):
        store.close()


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_sql(root: Path, parts: list[str], module: str | None = None) -> str:
    """SQL reading these files as one table, with the ``day`` column every table has (the UTC
    date of ``time``); packed detail files are filtered to ``module``'s rows."""
    sql = (
        f"SELECT *, CAST(time AS DATE) AS day FROM read_parquet({_sql_list([str(root / p) for p in parts])}, "
        f"hive_partitioning = false, union_by_name = true)"
    )
    return f"({sql} WHERE module = {_quote(module)})" if module is not None else f"({sql})"


def _named(query: str, data) -> list[str]:
    """The tables of ``data`` that ``query`` names (every table for a catalog question)."""
    query = _LITERAL.sub("''", query)  # file names in a scan's list are not table names
    if _CATALOG_WORDS.search(query) is not None:
        return data.tables()
    return [w for w in set(_WORD.findall(query)) if data.has(w)]


def _last_day(data, table: str, until=None) -> pd.Timestamp | None:
    high = utc_naive(until).strftime("%Y-%m-%d") if until is not None else "9999"
    for day in reversed(data.days_of(table, "", high)):
        if data.day(day).parts(table):
            return pd.Timestamp(day)
    return None


class SharedLock:
    """Many holders in ``shared`` mode, or one in ``exclusive`` (a waiting exclusive holder goes
    next): queries share the views, remaking them waits for running queries and holds new ones."""

    def __init__(self):
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextlib.contextmanager
    def shared(self):
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self):
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._exclusive and not self._shared)
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class Store:
    """A read-only view of the store at ``root``; safe to share between threads and sessions."""

    def __init__(self, root):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"no store at {self.root} (run `hfpanel collect` or `hfpanel demo` first)")
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone='UTC'") if self._has_icu() else None
        self._lock = threading.RLock()
        self._stamp = None
        self._segments: dict[str, dict] = {}  # segment name -> content (segments never change)
        self._manifest = manifest.empty(self.root)
        self._views: dict[str, tuple] = {}  # view name -> the files it was made over
        self._views_of = None  # the manifest every view was made from
        self._views_lock = SharedLock()
        self._issued: OrderedDict[int, tuple] = OrderedDict()  # scan number -> (manifest, when, arguments, SQL)
        self._scans = 0
        _open_stores.add(self)

    def close(self) -> None:
        self._con.close()

    @property
    def cache_key(self) -> str:
        """What tells this store's answers apart in caches (a reader's filtered view adds to it)."""
        return str(self.root)

    def _table_sql(self, table: str, parts: list[str], module: str | None) -> str:
        """SQL of one table over these files: every view and every scan is made here, the one
        place a reader's filtered view (``hfpanel.queries.viewed``) narrows what a query can see."""
        return read_sql(self.root, parts, module)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _has_icu(self) -> bool:
        try:
            self._con.execute("SELECT current_setting('TimeZone')")
            return True
        except duckdb.Error:
            return False

    # -- views ------------------------------------------------------------------------------
    def stamp(self):
        """What identifies the store's current content: the manifest file's identity and size
        (every commit and compaction replaces the manifest). Cheap: one ``stat``."""
        try:
            st = os.stat(self.root / manifest.MANIFEST)
            return (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return None

    def refresh(self) -> bool:
        """Re-read the manifest's top file if it changed (days are read when a query needs them,
        views made when a query names them); returns True when it changed."""
        stamp = self.stamp()
        if stamp == self._stamp:
            return False
        with self._lock:
            if stamp == self._stamp:
                return False
            data = manifest.read(self.root, segments=self._segments)
            live = data.segment_names()
            for gone in [n for n in self._segments if n not in live]:
                del self._segments[gone]
            self._manifest, self._stamp = data, stamp
        return True

    def _ensure_views(self, query: str) -> None:
        """A view for every table the query names (made when first named: opening a store costs
        nothing per table). When the manifest changed, every view is remade from it at once, with
        no query running: a query never joins one commit's ``runs`` with another's statuses."""
        data = self._manifest
        wanted = _named(query, data)
        if data is self._views_of and all(w in self._views for w in wanted):
            return
        with self._views_lock.exclusive():
            data = self._manifest  # the newest, whatever this thread saw before waiting
            wanted = _named(query, data)
            for name in [v for v in self._views if not data.has(v)]:
                self._con.execute(f'DROP VIEW IF EXISTS "{name}"')
                del self._views[name]
            for name in set(wanted) | (set(self._views) if data is not self._views_of else set()):
                days = data.days_of(name)
                parts = [p for d in days for p in data.day(d).parts(name)]
                module = data.module_of(name, days)
                if not parts or self._views.get(name) == (parts, module):
                    continue
                self._con.execute(
                    f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM {self._table_sql(name, parts, module)}'
                )
                self._views[name] = (parts, module)
            self._views_of = data

    def _question(self, query: str):
        """The manifest ``query`` is answered from, and the query with every scan in it made from
        that manifest. Usually the newest; but when the query was built from scans and a commit
        landed between them, the manifest of its oldest scan (its files stay on disk for the
        writer's grace period): runs and statuses of one commit, never of two."""
        current = self._manifest
        with self._lock:
            issued = [(tag, self._issued.get(int(tag[1]))) for tag in _TAG.finditer(query)]
        issued = [(tag, entry) for tag, entry in issued if entry is not None]
        if all(entry[0] is current for _, entry in issued):
            return current, query
        now = time.monotonic()
        pinned = [entry[0] for _, entry in issued if entry[0] is not None and now - entry[1] < PIN_LIMIT]
        base = min(pinned, key=lambda m: m.generation, default=current)
        for tag, (data, _, args, text) in issued:
            if data is not base:
                query = query.replace(tag[0] + text, tag[0] + self._scan_sql(base, *args))
        return base, query

    def _own_views(self, cursor, query: str, data) -> None:
        """Views of ``data`` for this query alone (temporary views of its cursor hide the shared ones)."""
        for name in _named(query, data):
            days = data.days_of(name)
            parts = [p for d in days for p in data.day(d).parts(name)]
            if parts:
                table = self._table_sql(name, parts, data.module_of(name, days))
                cursor.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM {table}')

    def state(self, key: str, default=None):
        """A value committed in the manifest's ``state`` (see ``StoreWriter.write``)."""
        return manifest.read(self.root).state.get(key, default)

    def parts(self, table: str) -> list[str]:
        """The live files of ``table``, relative to the store root (``table/day=…/part-….parquet``;
        a packed detail table's files hold other modules' rows too)."""
        self.refresh()
        return self._manifest.parts(table)

    def tables(self) -> list[str]:
        self.refresh()
        return self._manifest.tables()

    def has_table(self, name: str) -> bool:
        self.refresh()
        return self._manifest.has(name)

    def scan(self, table: str, since=None, until=None) -> str:
        """SQL for one table restricted to the day partitions in [since, until]: the manifest
        knows each file's day, so the planner never opens files outside the window. The scan is
        remembered, so that a query built from it is answered from its manifest (``sql``)."""
        self.refresh()
        data = self._manifest
        text = self._scan_sql(data, table, since, until)
        with self._lock:
            number = self._scans = self._scans + 1
            now = time.monotonic()
            self._issued[number] = (data, now, (table, since, until), text)
            while len(self._issued) > ISSUED_MAX:
                self._issued.popitem(last=False)
            for key, entry in self._issued.items():  # too old to pin a query: its manifest is let go
                if entry[0] is not None and now - entry[1] >= PIN_LIMIT:
                    self._issued[key] = (None, *entry[1:])
        return f"/*scan {number}*/{text}"

    def _scan_sql(self, data, table: str, since=None, until=None) -> str:
        """``scan``'s SQL made from the manifest ``data``."""
        low = utc_naive(since).strftime("%Y-%m-%d") if since is not None else ""
        high = utc_naive(until).strftime("%Y-%m-%d") if until is not None else "9999"
        days = data.days_of(table, low, high)
        parts = [p for d in days for p in data.day(d).parts(table)]
        if parts:
            return self._table_sql(table, parts, data.module_of(table, days))
        last = _last_day(data, table)  # nothing in the window: no rows, with the table's columns
        if last is None:
            return f'(SELECT * FROM "{table}" WHERE false)'
        day = last.strftime("%Y-%m-%d")
        return f"(SELECT * FROM {self._table_sql(table, data.day(day).parts(table), data.module_of(table, [day]))} WHERE false)"

    def last_day(self, table: str, until=None) -> pd.Timestamp | None:
        """The latest day partition of ``table`` at or before ``until`` (from the manifest)."""
        self.refresh()
        return _last_day(self._manifest, table, until)

    def sql(self, query: str, params=None, arrow: bool = False) -> pd.DataFrame:
        """Run SQL over every table of the store (table names are view names), answered from one
        manifest: the views, and the scans the query was built from (``_question``).

        ``arrow=True`` hands the result over as Arrow (strings stay in Arrow buffers instead of
        becoming Python objects first): the same frame, about three times cheaper for the millions
        of rows a year's what-if or A/R reads."""
        self.refresh()
        data, query = self._question(query)
        if data is self._manifest:
            self._ensure_views(query)
        with self._views_lock.shared():
            cursor = self._con.cursor()
            try:
                if self._views_of is not data:  # a commit landed meanwhile: this query's own views
                    self._own_views(cursor, query, data)
                if arrow:
                    return cursor.sql(query, params=params or None).to_arrow_table().to_pandas()
                return cursor.execute(query, params or []).df()
            finally:
                cursor.close()

    # -- the questions everyone asks --------------------------------------------------------
    def runs(self, start=None, end=None) -> pd.DataFrame:
        if not self.has_table("runs"):
            return pd.DataFrame(columns=["run_id", "start", "end", "time"])
        start = utc_naive(start) if start is not None else EARLIEST
        end = utc_naive(end) if end is not None else LATEST
        return self.sql(
            "SELECT * EXCLUDE (day) FROM runs WHERE time BETWEEN ? AND ? ORDER BY time",
            [start.to_pydatetime(), end.to_pydatetime()],
        )

    def run_times(self) -> list[pd.Timestamp]:
        if not self.has_table("runs"):
            return []
        return list(self.sql("SELECT time FROM runs ORDER BY time")["time"])

    def _resolve(self, at) -> pd.Timestamp:
        """``at`` as a naive UTC timestamp; None means the latest run (the store's "now")."""
        if at is not None:
            return utc_naive(at)
        run = self.latest_run()
        return pd.Timestamp(run["time"]) if run is not None else LATEST

    def latest_run(self, at=None) -> pd.Series | None:
        at = utc_naive(at) if at is not None else LATEST
        day = self.last_day("runs", at)
        if day is None:
            return None
        # the latest run at or before `at` lies in the last day partition holding runs before it
        frame = self.sql(
            f"SELECT * EXCLUDE (day) FROM {self.scan('runs', day - pd.Timedelta(days=1), at)} "
            "WHERE time <= ? ORDER BY time DESC LIMIT 1",
            [at.to_pydatetime()],
        )
        return None if frame.empty else frame.iloc[0]

    def _latest_rows(self, table: str, key: str, at, lookback=STATUS_LOOKBACK) -> pd.DataFrame:
        if not self.has_table(table):
            return pd.DataFrame()
        run = self.latest_run(at)
        if run is None:
            return pd.DataFrame()
        until = pd.Timestamp(run["time"])
        since = until - lookback
        return self.sql(
            f"SELECT * EXCLUDE (day) FROM {self.scan(table, since, until)} WHERE time > ? AND time <= ? "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY time DESC) = 1 ORDER BY {key}",
            [since.to_pydatetime(), until.to_pydatetime()],
        )

    def status_at(self, time=None) -> pd.DataFrame:
        """Every module as it was at ``time`` (default: now): its latest row at or before then."""
        return self._latest_rows("module_status", "module", time)

    def category_status_at(self, time=None) -> pd.DataFrame:
        return self._latest_rows("category_status", "category", time)

    def module_history(self, module: str, start=None, end=None) -> pd.DataFrame:
        if not self.has_table("module_status"):
            return pd.DataFrame()
        start = utc_naive(start) if start is not None else EARLIEST
        end = utc_naive(end) if end is not None else LATEST
        return self.sql(
            f"SELECT * EXCLUDE (day) FROM {self.scan('module_status', start, end)} "
            "WHERE module = ? AND time BETWEEN ? AND ? ORDER BY time",
            [module, start.to_pydatetime(), end.to_pydatetime()],
        )

    def metrics(self, module: str, at=None) -> dict[str, float]:
        """The module's metrics from its latest row at or before ``at``."""
        if not self.has_table("metrics"):
            return {}
        at = self._resolve(at)
        row = self.sql(
            f"SELECT run_id, time FROM {self.scan('module_status', at - STATUS_LOOKBACK, at)} "
            "WHERE module = ? AND time <= ? ORDER BY time DESC LIMIT 1",
            [module, at.to_pydatetime()],
        )
        if row.empty:
            return {}
        when = pd.Timestamp(row["time"].iloc[0])
        frame = self.sql(
            f"SELECT metric, value FROM {self.scan('metrics', when, when)} WHERE run_id = ? AND module = ?",
            [row["run_id"].iloc[0], module],
        )
        return dict(zip(frame["metric"], frame["value"]))

    def detail(self, module: str, table: str = "rows", at=None) -> pd.DataFrame:
        """The module's detail table from its latest successful run at or before ``at``
        (empty when that run produced no rows: an empty table is an answer too)."""
        name = detail_table_name(module, table)
        if not self.has_table(name):
            return pd.DataFrame()
        at = self._resolve(at)
        last = self.sql(
            f"SELECT max(time) AS t FROM {self.scan('module_status', at - STATUS_LOOKBACK, at)} "
            "WHERE module = ? AND status >= 0 AND time <= ?",
            [module, at.to_pydatetime()],
        )["t"].iloc[0]
        if pd.isna(last):
            return pd.DataFrame()
        last = pd.Timestamp(last)
        frame = self.sql(
            f"SELECT * EXCLUDE (day) FROM {self.scan(name, last, last)} WHERE time = ?", [last.to_pydatetime()]
        )
        return frame.dropna(axis=1, how="all") if not frame.empty else frame

    def raw_payload(self, module: str, at=None) -> tuple[pd.Timestamp, bytes] | None:
        """The archived raw payload of the module's latest run at or before ``at``."""
        if not self.has_table("raw_payloads"):
            return None
        at = self._resolve(at)
        last = self.sql(
            f"SELECT max(time) AS t FROM {self.scan('raw_payloads', at - STATUS_LOOKBACK, at)} "
            "WHERE module = ? AND time <= ?",
            [module, at.to_pydatetime()],
        )["t"].iloc[0]
        if pd.isna(last):
            return None
        last = pd.Timestamp(last)
        frame = self.sql(
            f"SELECT payload FROM {self.scan('raw_payloads', last, last)} WHERE module = ? AND time = ?",
            [module, last.to_pydatetime()],
        )
        return last, bytes(frame["payload"].iloc[0])

    def describe(self) -> dict:
        """Counts for the CLI and the notebook: tables, files, runs, first and last run."""
        self.refresh()
        times = self.run_times()
        return {
            "root": str(self.root),
            "tables": len(self._manifest.tables()),
            "files": len(self._manifest.files()),
            "runs": len(times),
            "first_run": times[0] if times else None,
            "last_run": times[-1] if times else None,
        }
