"""The ``hfpanel`` command: config check, collect, serve, demo, status, sql, compact, replay."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from . import logs
from .config import ConfigError, load_config
from .durations import parse_duration

log = logging.getLogger("hfpanel")
LEVEL_MARK = {"ok": "OK  ", "warning": "WARN", "critical": "CRIT", "noinfo": "N/A ", "downtime": "DOWN"}


def _progress(disable: bool):
    from tqdm import tqdm
    return tqdm(total=0, unit="module", desc="collecting", disable=disable, leave=False, file=sys.stderr)


def print_summary(frame, title: str, out=None) -> None:
    """A one-screen table of modules, worst first, cut to the terminal's height."""
    out = out or sys.stdout
    from .levels import SEVERITY
    width, height = shutil.get_terminal_size((120, 40))
    print(title, file=out)
    if frame.empty:
        print("  (no modules)", file=out)
        return
    frame = frame.assign(order=frame["level"].map(SEVERITY)).sort_values(["order", "category", "module"])
    counts = frame["level"].value_counts()
    rows = frame.head(max(5, height - 6))
    for row in rows.itertuples():
        stale = " stale" if getattr(row, "stale", False) else ""
        line = f"  {LEVEL_MARK.get(row.level, row.level)} {row.category:<14.14} {row.module:<24.24} {row.message}{stale}"
        print(line[: width - 1], file=out)
    if len(frame) > len(rows):
        print(f"  … {len(frame) - len(rows)} more", file=out)
    print("  " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("ok", "warning", "critical", "noinfo", "downtime")), file=out)


def cmd_config_check(args) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return 2
    print(f"{args.file}: OK — site {config.site}, {len(config.categories)} categories, "
          f"{len(config.modules)} modules, store {config.store}")
    return 0


def _load(path):
    try:
        return load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(2)


def collect_loop(config, every: float | None, force: bool, wait: float | None, quiet: bool) -> int:
    """Run once, or every ``every`` seconds until SIGTERM/SIGINT; compacts finished days after runs."""
    from .runner import Runner
    from .store import StoreLocked, StoreWriter

    stop = {"now": False}
    if every:
        def _stop(signum, frame):
            stop["now"] = True
            log.info("signal %s received: finishing the current run, then stopping", signum)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    runner = Runner(config)
    try:
        with StoreWriter(config.store, wait=wait) as writer:
            while True:
                bar = _progress(disable=quiet or not sys.stderr.isatty())
                summary = runner.run_once(writer, force=force, progress=bar)
                bar.close()
                writer.compact()
                if not quiet:
                    print_summary(summary.statuses, f"run {summary.run_id}: {len(summary.statuses)} modules "
                                                    f"in {summary.duration:.1f}s")
                if not every:
                    return 0
                deadline = time.monotonic() + every
                while not stop["now"] and time.monotonic() < deadline:
                    time.sleep(min(1.0, deadline - time.monotonic()))
                if stop["now"]:
                    return 0
    except StoreLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 3


def cmd_collect(args) -> int:
    config = _load(args.config)
    every = parse_duration(args.every) if args.every else None
    wait = None if args.wait == "forever" else parse_duration(args.wait)
    return collect_loop(config, every, args.force, wait, args.quiet)


def _store_path(args) -> Path:
    if getattr(args, "store", None):
        return Path(args.store)
    if getattr(args, "config", None):
        return _load(args.config).store
    raise SystemExit("error: give --store DIR or --config FILE")


def cmd_serve(args) -> int:
    from .serve import serve
    return serve(store=_store_path(args), config=args.config, port=args.port, address=args.address,
                 show=args.show)


def cmd_demo(args) -> int:
    from .demo.run import run_demo
    return run_demo(store=Path(args.store), days=args.days, serve=not args.no_serve, port=args.port,
                    address=args.address, quiet=args.quiet)


def cmd_status(args) -> int:
    from .store import Store
    store = Store(_store_path(args))
    frame = store.status_at(args.at)
    run = store.latest_run(args.at)
    print_summary(frame, f"{store.root}: status as of run {run['run_id'] if run is not None else '—'}")
    return 0 if not frame.empty else 1


def cmd_sql(args) -> int:
    from .store import Store
    import pandas as pd
    frame = Store(_store_path(args)).sql(args.query)
    with pd.option_context("display.max_rows", args.limit, "display.width", shutil.get_terminal_size().columns):
        print(frame.to_string(max_rows=args.limit))
    return 0


def cmd_compact(args) -> int:
    from tqdm import tqdm
    from .store import StoreWriter
    with StoreWriter(_store_path(args), wait=parse_duration(args.wait)) as writer:
        merged = writer.compact(keep_today=not args.today, progress=lambda items: tqdm(items, desc="compacting"))
    print(f"merged {merged} files")
    return 0


def cmd_replay(args) -> int:
    """Re-parse an archived payload with today's collector code (e.g. after fixing a parser)."""
    from .rating import rate
    from .store import Store
    config = _load(args.config)
    module = config.module(args.module)
    found = Store(config.store).raw_payload(module.name, args.at)
    if found is None:
        print(f"no archived payload for module {module.name}", file=sys.stderr)
        return 1
    when, payload = found
    collector = module.make_collector()
    result = collector.parse(payload)
    rating = rate(module.rating or collector.default_rating, result)
    print(f"{module.name} payload of {when} ({len(payload)} bytes): status {rating.status} — {rating.message}")
    for name, table in result.tables.items():
        print(f"table {name}: {len(table)} rows, columns {', '.join(map(str, table.columns))}")
    for name, value in sorted(result.metrics.items()):
        print(f"metric {name} = {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hfpanel", description=__doc__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="work with a site configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a site.yaml and list every problem")
    check.add_argument("file")
    check.set_defaults(func=cmd_config_check)

    collect = sub.add_parser("collect", help="run the due modules into the store")
    collect.add_argument("--config", required=True)
    mode = collect.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one run, then exit (for cron); the default")
    mode.add_argument("--every", metavar="DURATION", help="keep running, e.g. 15m (for systemd or a container)")
    collect.add_argument("--force", action="store_true", help="run every module, due or not")
    collect.add_argument("--wait", default="0", help="wait this long for another writer (or 'forever')")
    collect.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    collect.set_defaults(func=cmd_collect)

    serve = sub.add_parser("serve", help="serve the dashboard (wraps panel serve)")
    serve.add_argument("--config")
    serve.add_argument("--store")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="simulate a site, backfill days of runs, serve and keep collecting")
    demo.add_argument("--store", default="data/demo-store")
    demo.add_argument("--days", type=float, default=3.0)
    demo.add_argument("--no-serve", action="store_true", help="only the backfill")
    demo.add_argument("--port", type=int, default=5006)
    demo.add_argument("--address", default="127.0.0.1")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)

    status = sub.add_parser("status", help="print every module's status (now or --at TIME)")
    status.add_argument("--store")
    status.add_argument("--config")
    status.add_argument("--at", help="a time in UTC, e.g. 2026-11-20T14:00")
    status.set_defaults(func=cmd_status)

    sql = sub.add_parser("sql", help="run SQL over the store")
    sql.add_argument("query")
    sql.add_argument("--store")
    sql.add_argument("--config")
    sql.add_argument("--limit", type=int, default=50)
    sql.set_defaults(func=cmd_sql)

    compact = sub.add_parser("compact", help="merge each day's small files")
    compact.add_argument("--store")
    compact.add_argument("--config")
    compact.add_argument("--today", action="store_true", help="also compact today's partition")
    compact.add_argument("--wait", default="0")
    compact.set_defaults(func=cmd_compact)

    replay = sub.add_parser("replay", help="re-parse a module's archived payload")
    replay.add_argument("--config", required=True)
    replay.add_argument("--module", required=True)
    replay.add_argument("--at")
    replay.set_defaults(func=cmd_replay)
    __import__("hfpanel.ingest.cli", fromlist=["add_parser"]).add_parser(sub)
    __import__("hfpanel.transfers.cli", fromlist=["add_parsers"]).add_parsers(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    code = args.func(args)
    if any(t.name.startswith("module-") and t.is_alive() for t in threading.enumerate()):
        # a timed-out source still hangs in its daemon thread: leave without waiting for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
