"""``hfpanel transfers aggregate|recompute`` and ``hfpanel prune``: the statistics' command line.

``aggregate`` is what cron (or the ingest daemon itself) runs every few minutes; ``recompute
--since DATE`` rebuilds statistics after a topology change; ``prune`` applies the retention
(``transfers.retention: {raw: 30d, stats: 5y}``) in one atomic commit.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

log = logging.getLogger("hfpanel.transfers.cli")


def _settings(args) -> tuple[Path, object]:
    """The store and the transfers settings from ``--config`` (hfpanel.transfers.config) or ``--store``."""
    if getattr(args, "config", None):
        from hfpanel.config import ConfigError
        from .config import load_transfers
        try:
            config = load_transfers(args.config, need_subscriptions=False)
        except ConfigError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            raise SystemExit(2)
        return Path(args.store) if args.store else config.store, config
    if not args.store:
        raise SystemExit("error: give --store DIR or --config FILE")
    return Path(args.store), None


def _with_spinner(label: str, work):
    """Run ``work()`` while a tqdm bar shows elapsed time on a terminal (aggregating a month of
    raw rows takes seconds to minutes, in one DuckDB query per table)."""
    from tqdm import tqdm
    done = threading.Event()
    bar = tqdm(desc=label, bar_format="{desc}: {elapsed}", disable=not sys.stderr.isatty(), leave=False,
               file=sys.stderr)

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
    print(f"{summary.bins} bins over {days} day(s) in {summary.seconds:.2f}s, watermark "
          f"{summary.previous} -> {summary.watermark}")
    for name, rows in sorted(summary.rows.items()):
        print(f"  {name}: {rows} rows")


def cmd_aggregate(args) -> int:
    from .aggregate import aggregate
    from hfpanel.store import StoreLocked
    root, config = _settings(args)
    try:
        summary = _with_spinner("aggregating", lambda: aggregate(root, config, wait=args.wait))
    except StoreLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    _print_summary(summary)
    return 0


def cmd_recompute(args) -> int:
    import time
    from .aggregate import recompute
    try:
        time.strptime(args.since, "%Y-%m-%d")
    except ValueError:
        print(f"error: --since must be a date YYYY-MM-DD, got {args.since!r}", file=sys.stderr)
        return 2
    root, config = _settings(args)
    summary = _with_spinner(f"recomputing since {args.since}", lambda: recompute(root, args.since, config, wait=args.wait))
    _print_summary(summary)
    return 0


def cmd_prune(args) -> int:
    from .aggregate import transfers_section
    from .retention import RETENTION, prune
    root, config = _settings(args)
    retention = {**RETENTION, **(transfers_section(config).get("retention") or {})}
    retention.update({k: v for k, v in (("raw", args.raw), ("stats", args.stats)) if v})
    dropped = prune(root, retention, wait=args.wait)
    if not dropped:
        print("nothing to prune")
    for table, days in sorted(dropped.items()):
        print(f"{table}: {len(days)} day(s) dropped ({days[0]} .. {days[-1]})")
    return 0


def add_parsers(sub) -> None:
    """Register ``transfers`` (aggregate, recompute) and ``prune`` on hfpanel's subparsers."""
    transfers = sub.add_parser("transfers", help="transfer statistics from the raw FTS/XRootD tables")
    commands = transfers.add_subparsers(dest="transfers_command", required=True)

    def common(parser):
        parser.add_argument("--config", help="site YAML with a transfers: section (store, sites, retention)")
        parser.add_argument("--store", help="the store folder (default: the config's)")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for another writer")

    aggregate = commands.add_parser("aggregate", help="fold raw rows committed since the last run into statistics")
    common(aggregate)
    aggregate.set_defaults(func=cmd_aggregate)
    recompute = commands.add_parser("recompute", help="rebuild statistics from raw (e.g. after a topology change)")
    common(recompute)
    recompute.add_argument("--since", required=True, metavar="DATE", help="first day to rebuild, YYYY-MM-DD")
    recompute.set_defaults(func=cmd_recompute)

    prune = sub.add_parser("prune", help="drop raw and statistics days older than the retention")
    common(prune)
    prune.add_argument("--raw", help="keep raw tables this long (default: config, else 30d)")
    prune.add_argument("--stats", help="keep statistics this long (default: config, else 5y)")
    prune.set_defaults(func=cmd_prune)
