"""The engine adapter: the only engine-specific code between the SQL files and a store.

Everything that computes transfer statistics (``compute.py``, ``aggregate.py``, the MONIT importer)
talks to an :class:`Engine`: Parquet files as a view, an Arrow table as a view, a view from SQL, a
view computed once, a query to Arrow, a text file's content. :class:`DuckEngine` runs them in one
process; :class:`SparkEngine` on a Spark cluster (or ``local[N]``) over the same files. Dialect
and adapter differences (schema merging, hive columns, caching, object-store access) stay here, as
``docs/scaling.md`` says they must. One DuckDB connection per process serves incremental runs
(:func:`shared_engine`), as dbt-duckdb does: connecting costs ~20 ms, and Parquet footers cached
across runs pay off every minute.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import urllib.parse
import warnings

import pyarrow as pa

log = logging.getLogger("hfpanel.transfers.engine")
ENGINES = ("duckdb", "spark")
#: the extra that brings pyspark (named in the one-line error when it is missing)
SPARK_EXTRA = "hfpanel[spark]"


class EngineError(Exception):
    """An engine cannot start (pyspark or Java missing, Spark refused a setting); ``str()`` is one
    line for the user, ``code`` the command's exit code."""

    code = 4


class EngineFailed(EngineError):
    """The engine started but a job failed (a Spark stage aborted, an executor lost, a limit hit)."""

    code = 5


class EngineUsageError(EngineError):
    """Engine options that make no sense (a malformed ``--conf``, Spark options for DuckDB)."""

    code = 2


class Engine:
    """What the SQL files need from an engine. Names are temporary views the SQL refers to."""

    name = "engine"

    def files(self, name: str, paths: list[str]) -> None:
        """Parquet files (local paths or URLs) as view ``name``; columns added by later files appear."""
        raise NotImplementedError

    def table(self, name: str, table: pa.Table) -> None:
        """An Arrow table as view ``name``."""
        raise NotImplementedError

    def view(self, name: str, sql: str) -> None:
        raise NotImplementedError

    def materialize(self, name: str, sql: str) -> None:
        """``sql`` computed once into ``name`` (the SQL files do not care)."""
        raise NotImplementedError

    def query(self, sql: str) -> pa.Table:
        raise NotImplementedError

    def read_text(self, url: str) -> str:
        """A small text file (a manifest) from wherever the engine reads files."""
        raise NotImplementedError

    def list_files(self, folder: str) -> list[tuple[str, int]]:
        """(path, size) of the data files in ``folder``, sorted; names starting with ``.`` or
        ``_`` and ``*.tmp`` are files still being written (or markers) and are left out."""
        raise NotImplementedError

    def map_files(self, paths: list[str], func, schema: pa.Schema) -> pa.Table:
        """``func(path, content bytes) -> pa.Table`` (of ``schema``) for every file, concatenated:
        where the work of an importer runs (one process here, the executors on Spark)."""
        raise NotImplementedError

    def forget(self) -> None:
        """Free the tables registered and rows materialized by a run."""

    def close(self) -> None:
        pass


def is_remote(path: str) -> bool:
    """True for an object-store or HDFS URL (``s3://``, ``s3a://``, ``hdfs://``, ...), not a local path."""
    scheme = urllib.parse.urlsplit(str(path)).scheme
    return len(scheme) > 1 and scheme != "file"


def s3_filesystem():
    """Arrow's S3 client from the usual variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``): DuckDB's reader when its ``httpfs`` extension is
    not installed (it cannot be installed offline, and PyPI carries it only for older DuckDB)."""
    from pyarrow import fs

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
    parts = urllib.parse.urlsplit(endpoint) if endpoint else None
    return fs.S3FileSystem(
        endpoint_override=parts.netloc if parts else None,
        scheme=parts.scheme if parts else "https",
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        allow_bucket_creation=False,
    )


def _duck_s3_secret() -> str:
    """DuckDB's S3 secret from the same variables Arrow's client reads (an endpoint such as
    MinIO's or Ceph's is addressed path-style)."""

    def quoted(value):
        return "'" + str(value).replace("'", "''") + "'"

    options = {
        "TYPE": "s3",
        "REGION": quoted(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"),
    }
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options.update(
            KEY_ID=quoted(os.environ["AWS_ACCESS_KEY_ID"]), SECRET=quoted(os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
        )
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
    if endpoint:
        parts = urllib.parse.urlsplit(endpoint)
        options.update(ENDPOINT=quoted(parts.netloc), URL_STYLE="'path'", USE_SSL=str(parts.scheme == "https").lower())
    return ", ".join(f"{key} {value}" for key, value in options.items())


def _s3_key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def data_file(name: str) -> bool:
    """Not a marker (``_SUCCESS``), hidden or in-progress (``.x``, ``*.tmp``) file."""
    return not name.startswith((".", "_")) and not name.endswith(".tmp")


def local_path(path: str) -> str:
    """``file:/x`` and ``file:///x`` (as Spark names files) → ``/x``; anything else unchanged."""
    if str(path).startswith("file:"):
        return "/" + urllib.parse.urlsplit(str(path)).path.lstrip("/")
    return str(path)


class DuckEngine(Engine):
    """Parquet files as views, Arrow tables registered, SQL results as Arrow.

    Store files never change once written (new content gets a new name), so Parquet footers are
    cached across runs of a long-lived process such as the ingest daemon. ``s3://`` URLs are read
    by DuckDB's ``httpfs`` when it loads, else through Arrow's S3 client (same rows).
    """

    name = "duckdb"

    def __init__(self, threads: int | None = None):
        import duckdb

        self._duckdb = duckdb
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET parquet_metadata_cache = true")
        self._registered: set[str] = set()
        self._materialized: set[str] = set()
        self._httpfs: bool | None = None
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def _has_httpfs(self) -> bool:
        if self._httpfs is None:
            try:
                self.con.execute("LOAD httpfs")
                self.con.execute(f"CREATE OR REPLACE SECRET hfpanel_s3 ({_duck_s3_secret()})")
                self._httpfs = True
            except self._duckdb.Error as error:
                log.info("DuckDB httpfs not available (%s); reading s3:// through Arrow", str(error).splitlines()[0])
                self._httpfs = False
        return self._httpfs

    @staticmethod
    def _remote(*paths: str) -> bool:
        """True when any path is an object-store URL; DuckDB reads local paths and S3 only."""
        schemes = {urllib.parse.urlsplit(str(p)).scheme for p in paths if is_remote(p)}
        if schemes - {"s3", "s3a"}:
            raise EngineUsageError(
                f"DuckDB reads local paths and s3:// URLs, not {sorted(schemes)[0]}://: "
                "use --engine spark (HDFS) or a mount"
            )
        return bool(schemes)

    def files(self, name: str, paths: list[str]) -> None:
        if self._remote(*paths):
            if not self._has_httpfs():
                import pyarrow.dataset as ds

                dataset = ds.dataset([_s3_key(p) for p in paths], format="parquet", filesystem=s3_filesystem())
                self.table(name, dataset)
                return
            paths = ["s3://" + _s3_key(p) for p in paths]
        files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
        self.view(name, f"SELECT * FROM read_parquet({files}, hive_partitioning = false, union_by_name = true)")

    def table(self, name: str, table) -> None:
        self._drop(name)
        self.con.register(name, table)
        self._registered.add(name)

    def forget(self) -> None:
        for name in self._registered:
            self.con.unregister(name)
        for name in self._materialized:
            self._drop(name)
        self._registered.clear()
        self._materialized.clear()

    def _drop(self, name: str) -> None:
        if name in self._registered:
            self.con.unregister(name)
            self._registered.discard(name)
        try:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        except self._duckdb.CatalogException:  # it is a table (materialized by an earlier run)
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def view(self, name: str, sql: str) -> None:
        self._drop(name)
        self.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")

    def materialize(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name}__next AS {sql}")
        self._drop(name)
        self.con.execute(f"ALTER TABLE {name}__next RENAME TO {name}")
        self._materialized.add(name)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def read_text(self, url: str) -> str:
        if not self._remote(url):
            with open(local_path(url)) as handle:
                return handle.read()
        if not self._has_httpfs():
            with s3_filesystem().open_input_stream(_s3_key(url), compression=None) as handle:
                return handle.read().decode()
        return self.con.execute("SELECT content FROM read_text(?)", ["s3://" + _s3_key(url)]).fetchone()[0]

    def list_files(self, folder: str) -> list[tuple[str, int]]:
        if self._remote(folder):
            from pyarrow import fs

            base = urllib.parse.urlsplit(folder)
            infos = s3_filesystem().get_file_info(fs.FileSelector(_s3_key(folder).rstrip("/"), allow_not_found=True))
            return sorted(
                (f"{base.scheme}://{info.path}", info.size)
                for info in infos
                if info.type == fs.FileType.File and data_file(info.base_name)
            )
        folder = os.path.abspath(local_path(folder))
        if not os.path.isdir(folder):
            return []
        with os.scandir(folder) as entries:
            return sorted(
                (entry.path, entry.stat().st_size) for entry in entries if entry.is_file() and data_file(entry.name)
            )

    def map_files(self, paths: list[str], func, schema: pa.Schema) -> pa.Table:
        tables = [pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema)]
        for path in paths:
            if self._remote(path):
                with s3_filesystem().open_input_stream(_s3_key(path), compression=None) as handle:
                    content = handle.read()
            else:
                with open(local_path(path), "rb") as handle:
                    content = handle.read()
            tables.append(func(path, content))
        return pa.concat_tables(tables)

    def close(self) -> None:
        self.con.close()


#: defaults of a Spark session hfpanel starts (the user's ``--conf`` wins); local ones also
#: get few shuffle partitions, as the data of one machine are small
SPARK_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    # statistics come back to this process (it commits): Spark's 1g default stops a
    # 50 M-row rebuild; the driver's memory is the real bound
    "spark.driver.maxResultSize": "4g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.mergeSchema": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile=file://"
    + os.path.join(os.path.dirname(__file__), "log4j2.properties"),
}
#: local masters talk to themselves only: the driver and its block manager on the loopback address
LOCAL_NETWORK = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


def parse_conf(items) -> dict[str, str]:
    """``["k=v", ...]`` from ``--conf`` as a dict; a malformed item is an :class:`EngineError`."""
    conf = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise EngineUsageError(f"--conf {item!r}: expected KEY=VALUE, e.g. spark.executor.memory=4g")
        if not key.strip().startswith(("spark.", "fs.")):
            raise EngineUsageError(f"--conf {item!r}: Spark settings start with 'spark.' (or 'fs.' for Hadoop)")
        conf[key.strip()] = value.strip()
    return conf


def spark_session(master: str | None = None, conf: dict | None = None, app: str = "hfpanel-transfers"):
    """A SparkSession for ``master`` (default ``local[2]``) with hfpanel's defaults and ``conf``.
    Raises :class:`EngineError` (one line) when pyspark or Java is missing or a setting is refused."""
    with warnings.catch_warnings():  # pyspark's own notice about the pandas version, once per import
        warnings.simplefilter("ignore", FutureWarning)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineError(f"--engine spark needs pyspark: pip install '{SPARK_EXTRA}'") from None
    master = master or "local[2]"
    settings = dict(SPARK_DEFAULTS)
    if master.startswith("local"):
        cores = master[6:-1] if master.startswith("local[") else "1"
        cores = cores if cores.isdigit() else str(os.cpu_count() or 2)
        settings.update(
            {
                "spark.sql.shuffle.partitions": cores,
                "spark.default.parallelism": cores,
                "spark.pyspark.python": sys.executable,
                **LOCAL_NETWORK,
            }
        )
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import hfpanel as the driver does
    settings.update(conf or {})
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in settings.items():
        fs_key = key if key.startswith("spark.") else f"spark.hadoop.{key}"
        builder = builder.config(fs_key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            session = builder.getOrCreate()
    except Exception as error:  # the JVM's own words, cut to one line
        text = " ".join(str(error).split())
        raise EngineError(f"cannot start Spark (master {master}): {text[:300]}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_reason(error) -> str:
    """One line from a Spark failure: the innermost Java cause, or the last line of a Python
    worker's traceback, instead of the JVM's stack trace."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        while java.getCause() is not None:
            java = java.getCause()
        text = str(java.getMessage() or java.toString())
    else:
        lines = [line for line in str(error).splitlines() if line.strip()]
        text = lines[-1] if lines else type(error).__name__
    return " ".join(text.split())[:400]


@contextlib.contextmanager
def spark_errors(what: str):
    """Spark's exceptions (py4j's, pyspark's) as one-line :class:`EngineFailed`."""
    try:
        yield
    except EngineError:
        raise
    except Exception as error:
        module = type(error).__module__ or ""
        if not module.startswith(("py4j", "pyspark")):
            raise
        raise EngineFailed(f"Spark failed ({what}): {_spark_reason(error)}") from None


class SparkEngine(Engine):
    """The engine interface over a SparkSession: the same SQL text, Spark's dialect settings."""

    name = "spark"

    def __init__(self, spark, owned: bool = False):
        self.spark, self.owned = spark, owned
        self._cached = []
        self._views: set[str] = set()

    @staticmethod
    def _url(path: str) -> str:
        """Local paths as ``file:`` URLs: on a cluster a bare path means the default (HDFS) file system."""
        return str(path) if is_remote(path) or str(path).startswith("file:") else "file://" + os.path.abspath(path)

    def files(self, name: str, paths: list[str]) -> None:
        # explicit files: no partition discovery, so no hive ``day`` column (as on DuckDB)
        with spark_errors("reading Parquet files"):
            frame = self.spark.read.option("mergeSchema", "true").parquet(*[self._url(p) for p in paths])
        self._register(name, frame)

    def table(self, name: str, table: pa.Table) -> None:
        self._register(name, self.spark.createDataFrame(table))

    def view(self, name: str, sql: str) -> None:
        with spark_errors("a view"):
            self._register(name, self.spark.sql(sql))

    def materialize(self, name: str, sql: str) -> None:
        with spark_errors("a view"):
            frame = self.spark.sql(sql).cache()
        self._cached.append(frame)
        self._register(name, frame)

    def _register(self, name: str, frame) -> None:
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def query(self, sql: str) -> pa.Table:
        with spark_errors("a query"):
            return self.spark.sql(sql).toArrow()

    def read_text(self, url: str) -> str:
        with spark_errors(f"reading {url}"):
            rows = self.spark.read.text(self._url(url), wholetext=True).collect()
        return rows[0][0] if rows else ""

    def list_files(self, folder: str) -> list[tuple[str, int]]:
        """Through Hadoop's FileSystem API, so ``hdfs://`` (and ``s3a://`` where the connector
        is installed) list as local folders do."""
        context = self.spark.sparkContext
        with spark_errors(f"listing {folder}"):
            path = context._jvm.org.apache.hadoop.fs.Path(self._url(folder))
            system = path.getFileSystem(context._jsc.hadoopConfiguration())
            if not system.exists(path):
                return []
            found = [
                (status.getPath().toString(), status.getLen())
                for status in system.listStatus(path)
                if status.isFile() and data_file(status.getPath().getName())
            ]
        return sorted(found)

    def map_files(self, paths: list[str], func, schema: pa.Schema) -> pa.Table:
        """Files read by the executors (``binaryFile``: one row per file, a task's files — up to
        ``spark.sql.files.maxPartitionBytes`` — in one Arrow batch) and handed to ``func`` one by one."""
        from pyspark.sql.pandas.types import from_arrow_schema

        def run(batches):
            for batch in batches:
                for path, content in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                    yield from func(path, content).to_batches()

        with spark_errors("listing files"):
            frame = self.spark.read.format("binaryFile").load([self._url(p) for p in paths]).select("path", "content")
        # (not maxRecordsPerBatch=1 for big files: it also cuts the collected result into
        # one-row batches, which took gigabytes for 100,000 rows)
        with warnings.catch_warnings(), spark_errors("reading and parsing files"):
            warnings.simplefilter("ignore", FutureWarning)  # pyspark's notice about the pandas version
            result = frame.mapInArrow(run, from_arrow_schema(schema)).toArrow()
        return result.cast(schema) if result.num_rows else pa.table({f.name: pa.array([], f.type) for f in schema})

    def forget(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()

    def close(self) -> None:
        self.forget()
        if self.owned:
            self.spark.stop()


def open_engine(name: str = "duckdb", master: str | None = None, conf: dict | None = None) -> Engine:
    """A new engine by name; the caller closes it. Spark options only go with ``spark``."""
    if name == "duckdb":
        if master or conf:
            raise EngineUsageError("--master and --conf are Spark settings: add --engine spark")
        return DuckEngine()
    if name == "spark":
        return SparkEngine(spark_session(master, conf), owned=True)
    raise EngineUsageError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


_shared: dict[str, DuckEngine] = {}
#: held by whoever uses the shared engine (one incremental run at a time per process)
shared_lock = threading.Lock()


def shared_engine() -> DuckEngine:
    """The process's one DuckDB connection for incremental runs; hold :data:`shared_lock`."""
    if "duck" not in _shared:
        _shared["duck"] = DuckEngine()
    return _shared["duck"]


def release_shared() -> None:
    """Free what the last run registered or materialized on the shared engine."""
    if "duck" in _shared:
        _shared["duck"].forget()
