"""The ``hfpanel`` command: config check, collect, serve, demo, status, sql, compact, replay, events."""

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
from .clock import parse_time
from .commands import api as api_commands
from .commands import auth as auth_commands
from .commands import collector as collector_commands
from .commands import events as event_commands
from .commands import ingest as ingest_commands
from .commands import reports as report_commands
from .commands import transfers as transfer_commands
from .commands.common import CliError, OneLineErrorParser, load_or_exit, open_store, print_table, store_path
from .config import ConfigError, load_config
from .durations import format_duration, parse_duration
from .store.retention import DEFAULTS as RETENTION_DEFAULTS

log = logging.getLogger("hfpanel")
LEVEL_MARK = {"ok": "OK  ", "warning": "WARN", "critical": "CRIT", "noinfo": "N/A ", "downtime": "DOWN"}


def _progress(disable: bool):
    from tqdm import tqdm

    return tqdm(total=0, unit="module", desc="collecting", disable=disable, leave=False, file=sys.stderr)


#: exit codes of every command (``hfpanel status`` answers like a Nagios check: see NAGIOS)
EXIT_CODES = """exit codes:
  0    done (status: every module ok or in downtime)
  1    nothing to show: no archived payload (replay), the source failed (record), a receiver failed (notify);
       status: some module warning
  2    bad input: usage, configuration, time, SQL, unknown module, missing store; status: some module critical
  3    the store is busy: another writer holds it; status: unknown (no run, modules without information
       — also a module with no row for longer than its interval + max_age: the collector stopped —, or any error
       of the status command itself, as a Nagios plugin answers)
  70   internal error (a bug: run again with -vv for the traceback and report it)
  130  interrupted (Ctrl-C)
  141  the output pipe was closed (e.g. | head): stops quietly"""
#: ``hfpanel status`` exit codes, as a Nagios/Icinga plugin's
NAGIOS = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def nagios_code(frame) -> int:
    """Critical beats unknown beats warning beats ok; a module in downtime counts as ok."""
    levels = set(frame["level"]) if not frame.empty else {"noinfo"}
    for level, code in (("critical", 2), ("noinfo", 3), ("warning", 1)):
        if level in levels:
            return code
    return 0


def pd_time(value):
    import pandas as pd

    return pd.Timestamp(value)


def since_text(since, exact: bool, now) -> str:
    """ "since 04:15 (1h 45m)", with the date when it is not today's, "≥" when the streak is older
    than the history looked at."""
    import pandas as pd

    if since is None or pd.isna(since):
        return ""
    since = pd.Timestamp(since)
    clock = f"{since:%H:%M}" if since.date() == now.date() else f"{since:%Y-%m-%d %H:%M}"
    return f"since {'≥ ' if not exact else ''}{clock} ({format_duration((now - since).total_seconds())})"


def print_summary(frame, title: str, out=None, now=None) -> None:
    """Every module, worst first: level, category, module, since when, message. Names are never cut;
    on a terminal the message is cut to the width, in a pipe nothing is."""
    from .clock import utcnow
    from .levels import SEVERITY

    out = out or sys.stdout
    print(title, file=out)
    if frame.empty:
        print("  (no modules)", file=out)
        return
    now = now if now is not None else utcnow()
    frame = frame.assign(order=frame["level"].map(SEVERITY)).sort_values(["order", "category", "module"])
    counts = frame["level"].value_counts()
    since = (
        [since_text(row.get("since"), bool(row.get("since_exact", True)), now) for _, row in frame.iterrows()]
        if "since" in frame.columns
        else [""] * len(frame)
    )
    width = shutil.get_terminal_size((10_000, 40)).columns if out.isatty() else 10_000
    cat_w, mod_w = frame["category"].astype(str).str.len().max(), frame["module"].astype(str).str.len().max()
    since_w = max((len(t) for t in since), default=0)
    for row, when in zip(frame.itertuples(), since):
        stale = " (stale)" if getattr(row, "stale", False) is True else ""
        line = (
            f"  {LEVEL_MARK.get(row.level, row.level)} {row.category:<{cat_w}} {row.module:<{mod_w}} "
            f"{when:<{since_w}}  {' '.join(str(row.message).split())}{stale}"
        )
        print(line if len(line) < width else line[: width - 2] + "…", file=out)
    print(
        "  " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("ok", "warning", "critical", "noinfo", "downtime")),
        file=out,
    )


def cmd_config_check(args) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return 2
    print(
        f"{args.file}: OK — site {config.site}, {len(config.categories)} categories, "
        f"{len(config.modules)} modules, store {config.store}"
    )
    return 0


def nothing_due(summary) -> str:
    """The line ``collect`` prints when no module was due (cron runs more often than the intervals)."""
    if summary.next_due is None:
        return "no module due; nothing committed"
    when, module = summary.next_due
    return f"no module due; nothing committed (next: {module} at {when:%Y-%m-%d %H:%M:%S} UTC)"


def collect_loop(config, every: float | None, force: bool, wait: float | None, quiet: bool) -> int:
    """Run once, or every ``every`` seconds until SIGTERM/SIGINT; after a run, compacts finished
    days and applies the retention (from where the last prune stopped: cheap)."""
    from .events.outbox import send_queued
    from .runner import Runner
    from .store import StoreLocked, StoreWriter
    from .store.retention import prune

    stop = {"now": False}
    if every:

        def _stop(signum, frame):
            stop["now"] = True
            log.info("signal %s received: finishing the current run, then stopping", signum)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    runner = Runner(config)
    first = True
    while True:
        try:
            # the lock is held for a run (and its sending), not between runs: `hfpanel ack`,
            # `silence` and the ingest daemon commit in between
            with StoreWriter(config.store, wait=wait if first else max(wait or 0.0, 60.0)) as writer:
                bar = _progress(disable=quiet or not sys.stderr.isatty())
                summary = runner.run_once(writer, force=force, progress=bar)
                bar.close()
                if summary.committed:
                    writer.compact()
                    prune(writer, config.retention, now=summary.time)
                    send_queued(writer, config)
        except StoreLocked as error:
            if first:
                print(f"error: {error}", file=sys.stderr)
                return 3
            log.warning("run skipped: %s", error)
            summary = None
        first = False
        if quiet or summary is None:
            pass
        elif summary.committed:
            print_summary(
                summary.statuses,
                f"run {summary.run_id}: {len(summary.statuses)} modules in {summary.duration:.1f}s",
            )
        else:
            print(nothing_due(summary))
        if not every:
            return 0
        deadline = time.monotonic() + every
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(min(1.0, deadline - time.monotonic()))
        if stop["now"]:
            return 0


def cmd_collect(args) -> int:
    config = load_or_exit(args.config)
    every = parse_duration(args.every) if args.every else None
    wait = None if args.wait == "forever" else parse_duration(args.wait)
    return collect_loop(config, every, args.force, wait, args.quiet)


def cmd_serve(args) -> int:
    from .serve import serve

    return serve(store=store_path(args), config=args.config, port=args.port, address=args.address, show=args.show)


def cmd_demo(args) -> int:
    from .demo.run import run_demo

    return run_demo(
        store=Path(args.store),
        days=args.days,
        serve=not args.no_serve,
        port=args.port,
        address=args.address,
        quiet=args.quiet,
    )


def _at(args):
    """The ``--at`` time of a command (None = now), or a one-line usage error."""
    try:
        return parse_time(getattr(args, "at", None))
    except ValueError as error:
        raise CliError(f"--at: {error}") from None


def cmd_status(args) -> int:
    """Every module at a time, worst first, with since when; exits like a Nagios check. A module
    with no row for longer than its interval + ``max_age`` at that time has no information (a stopped
    collector is UNKNOWN, not OK)."""
    from .clock import utcnow
    from .queries import status
    from .queries.since import with_since

    store = open_store(args)
    at = _at(args)
    frame = store.status_at(at)
    run = store.latest_run(at)
    if run is None:
        print(f"UNKNOWN: no run in {store.root}" + (f" at or before {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""))
        return NAGIOS["unknown"]
    frame = with_since(frame, store, at)
    reference = pd_time(at) if at is not None else utcnow()
    config = load_or_exit(args.config) if getattr(args, "config", None) else None
    frame = status.overdue_as_noinfo(frame, reference, status.silence_limits(store, at, config))
    print_summary(
        frame,
        f"{store.root}: status as of run {run['run_id']} ({pd_time(run['time'])} UTC"
        + (f", {format_duration((reference - pd_time(run['time'])).total_seconds())} ago)" if at is None else ")"),
        now=pd_time(run["time"]) if at is not None else reference,
    )
    return nagios_code(frame)


def cmd_sql(args) -> int:
    import duckdb

    store = open_store(args)
    try:
        frame = store.sql(args.query)
    except duckdb.Error as error:
        raise CliError(f"SQL: {str(error).splitlines()[0]}") from None
    print_table(frame, args.limit, args.format)
    return 0


def cmd_prune(args) -> int:
    """Apply the retention: the store's table families (``retention:``), then the transfer tables
    (``transfers.retention:``); each in one commit, readers never see half a prune."""
    import yaml

    from .store import StoreLocked, StoreWriter
    from .store.manifest import MANIFEST
    from .store.retention import FAMILIES, parse_retention, prune

    if not args.store and not args.config:
        raise CliError("give --store DIR or --config FILE")
    try:
        wait = parse_duration(args.wait)
    except ValueError as error:
        raise CliError(f"--wait: {error}") from None
    root, transfers = transfer_commands.settings(args)
    section = None
    if args.config:
        section = (yaml.safe_load(Path(args.config).read_text()) or {}).get("retention")
    retention, problems = parse_retention(section)
    if problems:
        raise CliError(f"{args.config}: {problems[0][0]}: {problems[0][1]}")
    try:
        retention = retention.with_overrides({f: getattr(args, f) for f in FAMILIES})
    except ValueError as error:
        raise CliError(f"retention: {error}") from None
    if not (root / MANIFEST).exists():
        raise CliError(f"no store at {root}")
    try:
        with StoreWriter(root, wait=wait) as writer:
            dropped = prune(writer, retention, everything=True)
        transfers = transfer_commands.prune_transfers(root, transfers, args.raw, args.stats, wait)
    except StoreLocked as error:
        raise CliError(str(error), code=3) from None
    except ValueError as error:  # a --raw/--stats duration
        raise CliError(f"retention: {error}") from None
    if not dropped and not transfers:
        print("nothing to prune")
    for name, days in [*dropped.items(), *sorted(transfers.items())]:
        print(f"{name}: {len(days)} day(s) dropped ({days[0]} .. {days[-1]})")
    return 0


def cmd_compact(args) -> int:
    from tqdm import tqdm

    from .store import StoreWriter

    with StoreWriter(store_path(args), wait=parse_duration(args.wait)) as writer:
        merged = writer.compact(keep_today=not args.today, progress=lambda items: tqdm(items, desc="compacting"))
    print(f"merged {merged} files")
    return 0


def cmd_replay(args) -> int:
    """Re-parse archived payloads with today's collector code (e.g. after fixing a parser): one payload
    printed (``--module`` [``--at``]), or every payload ``--since`` a time stored as a replay."""
    from .collector import SourceError
    from .rating import rate

    config = load_or_exit(args.config)
    if args.module:
        try:
            config.module(args.module)
        except KeyError:
            raise CliError(
                f"no module {args.module!r} in {args.config} (modules: {', '.join(m.name for m in config.modules)})"
            ) from None
    if args.since:
        return _replay_since(args, config)
    if not args.module:
        raise CliError("give --module NAME (one payload) or --since TIME (every payload, stored as a replay)")
    module = config.module(args.module)
    found = open_store(args).raw_payload(module.name, _at(args))
    if found is None:
        print(f"hfpanel replay: no archived payload for module {module.name}", file=sys.stderr)
        return 1
    when, payload = found
    collector = module.make_collector()
    try:
        result = collector.parse(payload)
        rating = rate(module.effective_rating(collector), result)
    except SourceError as error:
        print(f"{module.name} payload of {when} ({len(payload)} bytes): no information — {error}")
        return 0
    print(f"{module.name} payload of {when} ({len(payload)} bytes): status {rating.status} — {rating.message}")
    for name, table in result.tables.items():
        print(f"table {name}: {len(table)} rows, columns {', '.join(map(str, table.columns))}")
    for name, value in sorted(result.metrics.items()):
        print(f"metric {name} = {value}")
    return 0


def _replay_since(args, config) -> int:
    from .replay import replay_payloads
    from .store import StoreLocked, StoreWriter

    try:
        since, until = parse_time(args.since), parse_time(args.until)
    except ValueError as error:
        raise CliError(f"--since/--until: {error}") from None
    if since is None:
        raise CliError("--since: give a time, e.g. 2026-11-01")
    store = open_store(args)
    try:
        with StoreWriter(config.store, wait=parse_duration(args.wait)) as writer:
            done = replay_payloads(store, writer, config, since, until, args.module)
    except StoreLocked as error:
        raise CliError(str(error), code=3) from None
    if not done.payloads:
        print(f"hfpanel replay: no archived payload since {since}", file=sys.stderr)
        return 1
    print(
        f"{done.replay_id}: {done.payloads} payloads of {len(done.modules)} modules re-parsed, {done.failed} without "
        f"information, {done.changed} at another level than stored (the stored runs are unchanged; "
        f"read it with hfpanel report ar --replay {done.replay_id})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="hfpanel", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineErrorParser)

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
    sql.add_argument("--limit", type=int, default=50, help="rows printed as a table (default 50)")
    sql.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default), or every row as CSV / JSON lines",
    )
    sql.set_defaults(func=cmd_sql)

    compact = sub.add_parser("compact", help="merge each day's small files")
    compact.add_argument("--store")
    compact.add_argument("--config")
    compact.add_argument("--today", action="store_true", help="also compact today's partition")
    compact.add_argument("--wait", default="0")
    compact.set_defaults(func=cmd_compact)

    prune = sub.add_parser(
        "prune",
        help="drop the days older than the retention (retention: and transfers.retention: of site.yaml)",
        description="Retire every whole day older than its table family's retention, in one commit; retired "
        "files are deleted by a later writer after a grace period (readers mid-query keep them). Families and "
        "defaults: "
        + ", ".join(f"{family} {value}" for family, value in RETENTION_DEFAULTS.items())
        + "; transfer tables: raw 30d (only once aggregated), statistics 5y.",
    )
    prune.add_argument("--store", help="the store folder (default: the config's)")
    prune.add_argument("--config", help="site YAML with retention: (and transfers.retention:)")
    for family, value in RETENTION_DEFAULTS.items():
        prune.add_argument(
            f"--{family}", metavar="DURATION", help=f"keep {family} this long (default: config, {value})"
        )
    prune.add_argument("--raw", metavar="DURATION", help="keep raw transfer tables this long (default: config, 30d)")
    prune.add_argument("--stats", metavar="DURATION", help="keep transfer statistics this long (default: config, 5y)")
    prune.add_argument("--wait", default="60", help="wait this long for another writer (default 60s)")
    prune.set_defaults(func=cmd_prune)

    replay = sub.add_parser("replay", help="re-parse archived payloads with today's code (one, or --since as a replay)")
    replay.add_argument("--config", required=True)
    replay.add_argument("--module", help="the module (required without --since)")
    replay.add_argument("--at", help="the payload archived at or before this time (UTC); default: the latest")
    replay.add_argument("--since", help="every payload since this time, stored as a replay beside the runs")
    replay.add_argument("--until", help="with --since: up to this time (default: now)")
    replay.add_argument("--wait", default="10s", help="with --since: wait this long for the collector's write lock")
    replay.set_defaults(func=cmd_replay)
    ingest_commands.add_parser(sub)
    transfer_commands.add_parsers(sub)
    collector_commands.add_parsers(sub)
    event_commands.add_parsers(sub)
    api_commands.add_parsers(sub)
    auth_commands.add_parsers(sub)
    report_commands.add_parsers(sub)
    event_commands.add_notification_parsers(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    code = run_command(args)
    if any(t.name.startswith("module-") and t.is_alive() for t in threading.enumerate()):
        # a timed-out source still hangs in its daemon thread: leave without waiting for it
        _flush_quietly()
        os._exit(code)
    return code


def run_command(args) -> int:
    """Run the chosen command; user errors become one line on stderr and their exit code."""
    name = " ".join(
        filter(
            None,
            [
                "hfpanel",
                args.command,
                getattr(args, "config_command", None),
                getattr(args, "token_command", None),
                getattr(args, "auth_command", None),
            ],
        )
    )
    try:
        return args.func(args)
    except CliError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return NAGIOS["unknown"] if args.command == "status" else error.code
    except BrokenPipeError:
        # the reader (e.g. `| head`) has gone: stop writing, quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line by default, the traceback with -vv
        if args.verbose >= 2:
            log.exception("%s failed", name)
        print(
            f"{name}: internal error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} "
            "(run with -vv for the traceback)",
            file=sys.stderr,
        )
        return NAGIOS["unknown"] if args.command == "status" else 70


def _flush_quietly() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


if __name__ == "__main__":
    # run the imported module's main, not __main__'s: commands in other modules raise hfpanel.cli.CliError,
    # which must be the class run_command catches
    from hfpanel.cli import main as imported_main

    sys.exit(imported_main())
