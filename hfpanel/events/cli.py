"""``hfpanel events``: the stored events, filtered (a shifter's "what happened overnight").

    hfpanel events --store DIR [--since TIME] [--until TIME] [--last 1d] [--module M] [--kind K]

Without ``--since`` it lists the day before the store's latest run. Exit codes as every command:
0 listed (also when none matched), 2 bad input (time, kind, missing store).
"""

from __future__ import annotations

import argparse

from . import model


def _window(args, store):
    """(since, until) from --since/--until/--last; the default is the day before the latest run."""
    from ..cli import CliError
    from ..clock import parse_time
    from ..durations import parse_duration

    try:
        since, until = parse_time(args.since), parse_time(args.until)
    except ValueError as error:
        raise CliError(f"--since/--until: {error}") from None
    if since is None:
        try:
            last = parse_duration(args.last)
        except ValueError as error:
            raise CliError(f"--last: {error}") from None
        run = store.latest_run(until)
        if run is None:
            return None, until
        end = until if until is not None else run["time"]
        since = end - __import__("pandas").Timedelta(seconds=last)
    return since, until


def cmd_events(args) -> int:
    from ..cli import CliError, _open_store, print_table
    from ..queries.events import events

    unknown = sorted(set(args.kind or []) - set(model.KINDS))
    if unknown:
        raise CliError(f"--kind: unknown kind {', '.join(unknown)} (kinds: {', '.join(model.KINDS)})")
    store = _open_store(args)
    since, until = _window(args, store)
    frame = events(store, since, until, module=args.module, kind=args.kind, category=args.category)
    if args.format == "table":
        frame = frame[["time", "kind", "level", "subject", "text"]].assign(
            time=frame["time"].dt.strftime("%Y-%m-%d %H:%M")
        )
        if frame.empty:
            window = f"since {since:%Y-%m-%d %H:%M}" if since is not None else "in the store"
            print(
                f"no events {window}" + (" matching the filters" if args.module or args.kind or args.category else "")
            )
            return 0
    print_table(frame, args.limit, args.format)
    return 0


def add_parsers(sub) -> None:
    events = sub.add_parser(
        "events",
        help="list the events derived after each run (level changes, stale sources, new errors, jumps…)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="kinds: " + ", ".join(model.KINDS),
    )
    events.add_argument("--store")
    events.add_argument("--config")
    events.add_argument("--since", help="from this time (UTC), e.g. 2026-11-20T14:00")
    events.add_argument("--until", help="up to this time (UTC); default: the latest run")
    events.add_argument("--last", default="1d", help="without --since: this long before --until (default 1d)")
    events.add_argument("--module", action="append", help="only this module (repeatable)")
    events.add_argument("--category", action="append", help="only this category (repeatable)")
    events.add_argument("--kind", action="append", help="only this kind (repeatable; see below)")
    events.add_argument("--limit", type=int, default=200, help="rows printed as a table (default 200)")
    events.add_argument("--format", choices=("table", "csv", "json"), default="table")
    events.set_defaults(func=cmd_events)
