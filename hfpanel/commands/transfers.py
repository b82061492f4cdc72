"""``hfpanel transfers aggregate|recompute|import-monit``: the statistics' command line.

``aggregate`` is what cron (or the ingest daemon itself) runs every few minutes; ``recompute
--since DATE`` rebuilds statistics after a topology change; both compute on DuckDB or, with
``--engine spark [--master URL] [--conf k=v ...]``, on Spark. ``import-monit`` loads days of
MONIT's archive into the raw tables. ``hfpanel prune`` (hfpanel/cli.py) applies the transfer
tables' retention (``transfers.retention: {raw: 30d, stats: 5y}``) through ``prune_transfers``.

Exit codes: 0 done; 2 bad arguments or configuration (a bad ``--conf`` included); 3 the store is
being written by another process; 4 the engine cannot start (pyspark or Java missing, Spark
refused a setting); 5 a Spark job failed (nothing of that run was committed); 1 ``import-monit``
found no archive files.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path

from ..transfers.engine import ENGINES, EngineError, open_engine, parse_conf
from ..transfers.messages import KINDS

log = logging.getLogger("hfpanel.commands.transfers")


def _settings(args) -> tuple[Path, object]:
    """The store and the transfers settings from ``--config`` (hfpanel.transfers.config) or ``--store``."""
    if getattr(args, "config", None):
        from hfpanel.config_error import ConfigError

        from ..transfers.config import load_transfers

        try:
            config = load_transfers(args.config, need_subscriptions=False)
        except ConfigError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            raise SystemExit(2) from None
        return Path(args.store) if args.store else config.store, config
    if not args.store:
        raise SystemExit("error: give --store DIR or --config FILE")
    return Path(args.store), None


def _on_engine(args, label: str, work, shared: bool = True):
    """(exit code, result) of ``work(engine)`` on the engine the arguments choose; errors are
    one line on stderr. ``shared``: plain DuckDB runs on the process's shared connection."""
    from hfpanel.store import StoreLocked

    try:
        plain = args.engine == "duckdb" and not args.master and not args.conf
        engine = None if shared and plain else open_engine(args.engine, args.master, parse_conf(args.conf))
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code, None
    try:
        return 0, _with_spinner(label, lambda: work(engine))
    except StoreLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 3, None
    except EngineError as error:  # a Spark job failed: nothing was committed
        print(f"error: {error}", file=sys.stderr)
        return error.code, None
    finally:
        if engine is not None:
            engine.close()


def _with_spinner(label: str, work):
    """Run ``work()`` while a tqdm bar shows elapsed time on a terminal (aggregating a month of
    raw rows takes seconds to minutes, in one DuckDB query per table)."""
    from tqdm import tqdm

    done = threading.Event()
    bar = tqdm(
        desc=label, bar_format="{desc}: {elapsed}", disable=not sys.stderr.isatty(), leave=False, file=sys.stderr
    )

    def tick():
        while not done.wait(0.5):
            bar.update(0)
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        return work()
    finally:
        done.set()
        thread.join()
        bar.close()


def _print_summary(summary) -> None:
    if summary.nothing_new or not summary.rows:
        print(f"nothing new since watermark {summary.previous}")
        return
    days = sum(len(d) for d in summary.days.values())
    print(
        f"{summary.bins} bins over {days} day(s) in {summary.seconds:.2f}s, watermark "
        f"{summary.previous} -> {summary.watermark}"
    )
    for name, rows in sorted(summary.rows.items()):
        print(f"  {name}: {rows} rows")


def _local_store(root: Path) -> None:
    """The store is committed by this process (``StoreWriter``: rename + lock), so it must be a
    file system path — local or a shared mount; docs/scaling.md says why and what else works."""
    if re.match(r"[a-z][a-z0-9+.-]+:/", str(root)) and not str(root).startswith("file:"):  # Path() keeps one '/'
        print(
            f"error: --store {root}: the store must be a file system path (local or a shared mount such as "
            "CephFS/EOS); object stores and HDFS are read by the engines, see docs/scaling.md",
            file=sys.stderr,
        )
        raise SystemExit(2)


def cmd_aggregate(args) -> int:
    from ..transfers.aggregate import aggregate

    root, config = _settings(args)
    _local_store(root)
    code, summary = _on_engine(
        args, "aggregating", lambda engine: aggregate(root, config, wait=args.wait, engine=engine)
    )
    if summary is not None:
        _print_summary(summary)
    if code == 0 and getattr(args, "config", None):
        _run_transfer_modules(args, summary, root)
    return code


def _run_transfer_modules(args, summary, root) -> None:
    """The site's modules that read the statistics run at once (hfpanel.transfer_runs): their
    events and messages follow the data by minutes, not by the collector's interval."""
    from ..transfer_runs import follower

    follow = follower(args.config, wait=max(float(args.wait or 0.0), 60.0), root=root)
    run = follow(summary) if follow is not None else None
    if run is not None and run.committed:
        levels = ", ".join(f"{m} {lvl}" for m, lvl in zip(run.statuses["module"], run.statuses["level"]))
        print(f"then run {run.run_id}: {levels}")


def cmd_recompute(args) -> int:
    import time

    from ..transfers.aggregate import recompute

    try:
        time.strptime(args.since, "%Y-%m-%d")
    except ValueError:
        print(f"error: --since must be a date YYYY-MM-DD, got {args.since!r}", file=sys.stderr)
        return 2
    root, config = _settings(args)
    _local_store(root)
    code, summary = _on_engine(
        args,
        f"recomputing since {args.since}",
        lambda engine: recompute(root, args.since, config, wait=args.wait, engine=engine),
    )
    if summary is not None:
        _print_summary(summary)
    return code


def cmd_import_monit(args) -> int:
    import time

    from ..transfers.importers.monit import import_days

    try:
        first, last = (time.strptime(d, "%Y-%m-%d") for d in (args.day, args.until or args.day))
    except ValueError:
        print(f"error: --day/--until must be dates YYYY-MM-DD, got {args.day!r}/{args.until!r}", file=sys.stderr)
        return 2
    days = [
        time.strftime("%Y-%m-%d", time.gmtime(t))
        for t in range(int(time.mktime(first) - time.timezone), int(time.mktime(last) - time.timezone) + 1, 86400)
    ]
    if not days:
        print(f"error: --until {args.until} is before --day {args.day}", file=sys.stderr)
        return 2
    root, config = _settings(args)
    _local_store(root)
    max_bytes = getattr(config, "max_message_bytes", None) or 1_000_000
    code, summary = _on_engine(
        args,
        f"importing {len(days)} day(s)",
        lambda engine: import_days(root, args.source, days, args.kind, engine, wait=args.wait, max_bytes=max_bytes),
        shared=False,
    )
    if summary is None:
        return code
    print(
        f"{summary.files} files, {summary.documents} documents in {summary.seconds:.1f}s: "
        f"{summary.stored} rows stored, "
        f"{summary.duplicates} duplicates, {summary.quarantined} quarantined ({summary.commits} commits)"
    )
    if not summary.files:
        print(
            f"error: no archive files under {args.source} for {days[0]}..{days[-1]} (expected YYYY/MM/DD folders)",
            file=sys.stderr,
        )
        return 1
    return 0


def settings(args) -> tuple[Path, object]:
    """The store and the transfers settings of ``--config``/``--store`` (for ``hfpanel prune``)."""
    return _settings(args)


def prune_transfers(root: Path, config, raw: str | None, stats: str | None, wait: float) -> dict[str, list[str]]:
    """The transfer tables' retention (``transfers.retention``, overridden by ``--raw``/``--stats``)."""
    from ..transfers.aggregate import transfers_section
    from ..transfers.retention import RETENTION, prune

    retention = {**RETENTION, **(transfers_section(config).get("retention") or {})}
    retention.update({k: v for k, v in (("raw", raw), ("stats", stats)) if v})
    return prune(root, retention, wait=wait)


def add_parsers(sub) -> None:
    """Register ``transfers`` (aggregate, recompute, import-monit) on hfpanel's subparsers."""
    transfers = sub.add_parser("transfers", help="transfer statistics from the raw FTS/XRootD tables")
    commands = transfers.add_subparsers(dest="transfers_command", required=True)

    def common(parser):
        parser.add_argument("--config", help="site YAML with a transfers: section (store, sites, retention)")
        parser.add_argument("--store", help="the store folder (default: the config's)")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for another writer")

    def engine(parser):
        parser.add_argument(
            "--engine",
            choices=ENGINES,
            default="duckdb",
            help="what computes: DuckDB in this process (default) or Spark (needs hfpanel[spark])",
        )
        parser.add_argument("--master", help="Spark master URL (default local[2]), e.g. yarn, spark://host:7077")
        parser.add_argument(
            "--conf",
            action="append",
            metavar="KEY=VALUE",
            default=[],
            help="a Spark setting, repeatable, e.g. spark.executor.memory=8g",
        )

    aggregate = commands.add_parser("aggregate", help="fold raw rows committed since the last run into statistics")
    common(aggregate)
    engine(aggregate)
    aggregate.set_defaults(func=cmd_aggregate)
    recompute = commands.add_parser("recompute", help="rebuild statistics from raw (e.g. after a topology change)")
    common(recompute)
    engine(recompute)
    recompute.add_argument("--since", required=True, metavar="DATE", help="first day to rebuild, YYYY-MM-DD")
    recompute.set_defaults(func=cmd_recompute)
    monit = commands.add_parser(
        "import-monit", help="load days of MONIT's archive (gzipped JSON documents) into the raw tables"
    )
    common(monit)
    engine(monit)
    monit.add_argument(
        "--source",
        required=True,
        help="the archive folder holding YYYY/MM/DD/ (a path, or hdfs:// with --engine spark)",
    )
    monit.add_argument("--kind", required=True, choices=KINDS, help="what the archive holds (as a subscription's kind)")
    monit.add_argument("--day", required=True, metavar="DATE", help="the (first) day to import, YYYY-MM-DD")
    monit.add_argument("--until", metavar="DATE", help="the last day to import (default: --day)")
    monit.set_defaults(func=cmd_import_monit)
