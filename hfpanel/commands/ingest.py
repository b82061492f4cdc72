"""``hfpanel ingest``: the command line of the transfer-monitoring ingest daemon."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("hfpanel.ingest")


def cmd_ingest(args) -> int:
    from ..config_error import ConfigError
    from ..durations import parse_duration
    from ..ingest.spool import SpoolLocked
    from ..transfers.config import load_transfers

    try:
        config = load_transfers(args.config, need_subscriptions=not args.replay)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    if args.spool:
        from pathlib import Path

        config.spool = Path(args.spool).resolve()
    from ..ingest.daemon import Ingest
    from ..transfer_runs import follower

    try:
        ingest = Ingest(config, after_aggregate=follower(args.config, wait=0.0, root=config.store))
    except SpoolLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    try:
        if args.replay:
            from tqdm import tqdm

            from ..ingest.replay import replay_file

            with open(args.replay, "rb") as handle:
                total = sum(1 for _ in handle)
            with tqdm(
                total=total,
                unit="msg",
                desc="replaying",
                file=sys.stderr,
                leave=False,
                disable=args.quiet or not sys.stderr.isatty(),
            ) as bar:
                code = replay_file(ingest, args.replay, progress=bar)
        else:
            code = ingest.run(until_idle=parse_duration(args.until_idle) if args.until_idle else None)
    except ConfigError as error:  # a password file that vanished, an unset environment variable
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    totals = ingest.flusher.totals
    if not args.quiet:
        print(
            f"ingested {totals['records']} messages: {totals['stored']} stored, {totals['duplicates']} "
            f"duplicates, {totals['quarantined']} quarantined; store {config.store}"
        )
    return code


def add_parser(sub) -> None:
    """Register ``hfpanel ingest`` on the main command's subparsers."""
    ingest = sub.add_parser("ingest", help="drain FTS/XRootD monitoring messages from ActiveMQ into the store")
    ingest.add_argument("--config", required=True, help="site YAML with a 'transfers:' section")
    ingest.add_argument(
        "--until-idle",
        metavar="SECONDS",
        help="stop after this long without a message (e.g. 30s); default: run until SIGTERM",
    )
    ingest.add_argument("--replay", metavar="FILE", help="read recorded bodies (one JSON string per line), no broker")
    ingest.add_argument("--spool", metavar="DIR", help="spool folder (default: transfers.spool of the config)")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    ingest.set_defaults(func=cmd_ingest)
