"""``hfpanel events``: the stored events, filtered (a shifter's "what happened overnight").

    hfpanel events --store DIR [--since TIME] [--until TIME] [--last 1d] [--module M] [--kind K]

Without ``--since`` it lists the day before the store's latest run. Exit codes as every command:
0 listed (also when none matched), 2 bad input (time, kind, missing store).
"""

from __future__ import annotations

import argparse

import pandas as pd

from ..events import model
from .common import CliError, load_or_exit, open_store, print_table, store_path


def _window(args, store):
    """(since, until) from --since/--until/--last; the default is the day before the latest run."""
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
        since = end - pd.Timedelta(seconds=last)
    return since, until


def cmd_events(args) -> int:
    from ..queries.events import events

    unknown = sorted(set(args.kind or []) - set(model.KINDS))
    if unknown:
        raise CliError(f"--kind: unknown kind {', '.join(unknown)} (kinds: {', '.join(model.KINDS)})")
    store = open_store(args)
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
    events_sub = events.add_subparsers(dest="events_command", required=False)
    replay = events_sub.add_parser(
        "replay",
        help="re-derive events and incidents from the stored history with these (or other) rules; send nothing",
    )
    replay.add_argument("--config", required=True, help="the site configuration (its rules, unless --rules)")
    replay.add_argument("--since", required=True, help="from this time (UTC)")
    replay.add_argument("--until", help="up to this time (UTC; default: the latest run)")
    replay.add_argument("--rules", help="a YAML file whose notifications: section replaces the configuration's")
    replay.add_argument("--events", action="store_true", help="also list every event re-derived")
    replay.add_argument("--limit", type=int, default=500)
    replay.add_argument("--format", choices=("table", "csv", "json"), default="table")
    replay.set_defaults(func=cmd_replay)


def _proposed(config_path: str, rules_path: str | None):
    """The site configuration, with the ``notifications:`` section of ``rules_path`` when given."""
    import yaml

    from ..config import ConfigError, parse_config

    if not rules_path:
        return load_or_exit(config_path)
    try:
        site = yaml.safe_load(open(config_path).read())
        rules = yaml.safe_load(open(rules_path).read())
    except (OSError, yaml.YAMLError) as error:
        raise CliError(f"--rules: cannot read {rules_path}: {getattr(error, 'strerror', None) or error}") from None
    section = rules.get("notifications", rules) if isinstance(rules, dict) else rules
    try:
        from pathlib import Path

        return parse_config({**site, "notifications": section}, source=rules_path, path=Path(config_path).resolve())
    except ConfigError as error:
        import sys

        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_replay(args) -> int:
    import sys

    from ..clock import parse_time
    from ..events.replay import replay
    from ..store import Store

    config = _proposed(args.config, args.rules)
    try:
        since, until = parse_time(args.since), parse_time(args.until)
    except ValueError as error:
        raise CliError(f"--since/--until: {error}") from None
    try:
        store = Store(config.store)
    except FileNotFoundError:
        raise CliError(f"no store at {config.store}") from None
    result = replay(store, config, since, until)
    if args.events and args.format == "table":
        frame = result.events[["time", "kind", "subject", "text"]]
        print_table(frame.assign(time=frame["time"].dt.strftime("%Y-%m-%d %H:%M")), args.limit)
        print()
    messages = result.messages
    if args.format != "table":
        print_table(messages.drop(columns=["html", "payload"]), args.limit, args.format)
        return 0
    shown = (
        messages.groupby("message_id", sort=False)
        .agg(
            time=("time", "first"),
            kind=("kind", "first"),
            receivers=("receiver", ", ".join),
            subject=("subject", "first"),
        )
        .reset_index(drop=True)
    )
    if shown.empty:
        print("no message would have been sent")
    else:
        print_table(shown.assign(time=shown["time"].dt.strftime("%Y-%m-%d %H:%M")), args.limit)
    incidents = messages["incident_id"].nunique() if not messages.empty else 0
    print(
        f"{result.runs} runs, {len(result.events)} events, {incidents} incidents, {len(shown)} messages "
        f"(nothing sent) in {result.seconds:.1f}s",
        file=sys.stderr,
    )
    return 0


# -- incidents, acknowledgements, silences ------------------------------------------------------------
def _writer(args):
    from ..durations import parse_duration
    from ..store import StoreWriter

    path = _store_dir(args)
    if not (path / "_manifest.json").exists():
        raise CliError(f"no store at {path} (give --store DIR of an existing store)")
    try:
        return StoreWriter(path, wait=parse_duration(args.wait))
    except ValueError as error:
        raise CliError(f"--wait: {error}") from None


def _store_dir(args):

    return store_path(args)


def _author(args) -> str:
    import getpass

    return args.author or getpass.getuser()


def cmd_incidents(args) -> int:
    from ..queries.events import incidents

    store = open_store(args)
    frame = incidents(store, include_resolved=args.all)
    if frame.empty:
        print("no open incidents" if not args.all else "no incidents")
        return 0
    shown = frame.assign(
        opened=frame["opened"].dt.strftime("%Y-%m-%d %H:%M"),
        ack=[f"{b}: {c}" if b else "" for b, c in zip(frame["acked_by"], frame["ack_comment"])],
    )[["incident_id", "status", "level", "rule", "category", "opened", "alerts", "summary", "ack"]]
    print_table(shown, args.limit, args.format)
    return 0


def cmd_ack(args) -> int:
    import pandas as pd

    from ..acks import acknowledge
    from ..clock import utcnow
    from ..durations import format_duration, parse_duration
    from ..store import Store

    now = utcnow()
    expires = None
    if args.expires:
        try:
            expires = now + pd.Timedelta(seconds=parse_duration(args.expires))
        except ValueError as error:
            raise CliError(f"--expires: {error}") from None
    with _writer(args) as writer, Store(writer.root) as store:
        try:
            row, incident = acknowledge(
                writer, store, args.incident, _author(args), args.comment, expires, args.sticky, args.remove, now
            )
        except ValueError as error:
            raise CliError(str(error)) from None
    what = "acknowledgement removed from" if args.remove else "acknowledged"
    until = f" until {expires:%Y-%m-%d %H:%M} UTC ({format_duration(parse_duration(args.expires))})" if expires else ""
    kind = " (sticky)" if args.sticky else ""
    print(f"{what} {incident['incident_id']} ({incident['summary']}) by {row['author']}{kind}{until}")
    return 0


def cmd_silence(args) -> int:
    import pandas as pd

    from ..acks import add_silence, expire_silence, parse_matchers
    from ..clock import parse_time, utcnow
    from ..durations import parse_duration
    from ..queries.events import silences
    from ..store import Store

    if args.silence_command == "list":
        frame = silences(open_store(args), include_ended=args.all)
        if frame.empty:
            print("no silences" if args.all else "no active silences")
            return 0
        print_table(frame[["silence_id", "author", "comment", "start", "end", "matchers"]], args.limit, args.format)
        return 0
    now = utcnow()
    with _writer(args) as writer, Store(writer.root) as store:
        try:
            if args.silence_command == "expire":
                row = expire_silence(writer, store, args.silence, _author(args), now)
            else:
                try:
                    start = parse_time(args.start) or now
                    end = (
                        parse_time(args.end)
                        if args.end
                        else start + pd.Timedelta(seconds=parse_duration(args.duration))
                    )
                except ValueError as error:
                    raise CliError(f"--start/--end/--for: {error}") from None
                matchers = parse_matchers(args.match, "--match")
                row = add_silence(writer, matchers, _author(args), args.comment or "", start, end, now)
        except ValueError as error:
            raise CliError(str(error)) from None
    verb = "expired" if args.silence_command == "expire" else "silenced"
    print(
        f"{verb} {row['silence_id']}: {row['matchers']} from {row['start']:%Y-%m-%d %H:%M} to {row['end']:%Y-%m-%d %H:%M} UTC"
    )
    return 0


# -- sending ------------------------------------------------------------------------------------
def cmd_notify(args) -> int:
    from ..events.outbox import dispatch, pending
    from ..store import Store, StoreLocked, StoreWriter

    config = load_or_exit(args.config)
    if args.notify_command == "test":
        return notify_test(config)
    if args.notify_command == "outbox":
        try:
            store = Store(config.store)
        except FileNotFoundError:
            raise CliError(f"no store at {config.store}") from None
        frame = pending(store)
        if frame.empty:
            print("the outbox is empty: every message was delivered or given up")
            return 0
        print_table(frame[["time", "receiver", "kind", "subject", "attempts", "next_attempt", "last_error"]], 200)
        return 0
    try:
        with StoreWriter(config.store, wait=60) as writer:
            done = dispatch(writer, config, budget=args.budget)
    except StoreLocked as error:
        raise CliError(str(error), code=3) from None
    ok = sum(1 for d in done if d["ok"])
    print(f"{ok} delivered, {len(done) - ok} failed" + (" (see hfpanel notify outbox)" if len(done) - ok else ""))
    return 0 if ok == len(done) else 1


def notify_test(config) -> int:
    """A sample message through every receiver: what each said."""
    import json

    from ..clock import utcnow
    from ..events.delivery import DeliveryError, send

    receivers = config.notifications.notify.receivers
    if not receivers:
        print("no receivers configured (notifications.receivers in the site configuration)")
        return 1
    now = utcnow()
    failed = 0
    for name, receiver in receivers.items():
        key = f"test-{now:%Y%m%dT%H%M%S}"
        text = f"This is a test message from hfpanel for site {config.site}, sent at {now:%Y-%m-%d %H:%M:%S} UTC."
        row = {
            "message_id": key,
            "incident_id": "test",
            "run_id": "test",
            "receiver": name,
            "kind": "test",
            "subject": f"{config.site} TEST: hfpanel can reach {name}",
            "text": text + "\n",
            "html": f"<p>{text}</p>",
            "payload": json.dumps(
                {
                    "version": "4",
                    "status": "firing",
                    "receiver": name,
                    "groupLabels": {"alertname": "hfpanel_test"},
                    "commonLabels": {"alertname": "hfpanel_test", "site": config.site},
                    "commonAnnotations": {"summary": text},
                    "externalURL": config.notifications.notify.base_url,
                    "alerts": [],
                    "incidentId": "test",
                    "runId": "test",
                    "idempotencyKey": key,
                }
            ),
        }
        try:
            detail = send(receiver, row)
            print(f"{name} ({receiver.kind}): delivered — {detail}")
        except DeliveryError as error:
            failed += 1
            print(f"{name} ({receiver.kind}): FAILED — {error}")
    return 1 if failed else 0


def add_notification_parsers(sub) -> None:
    def store_args(parser, wait: bool = False):
        parser.add_argument("--store")
        parser.add_argument("--config")
        if wait:
            parser.add_argument("--wait", default="60", help="wait this long for the collector's lock (default 60s)")

    incidents = sub.add_parser("incidents", help="list open incidents (--all: resolved too) with who acknowledged them")
    store_args(incidents)
    incidents.add_argument("--all", action="store_true")
    incidents.add_argument("--limit", type=int, default=200)
    incidents.add_argument("--format", choices=("table", "csv", "json"), default="table")
    incidents.set_defaults(func=cmd_incidents)

    ack = sub.add_parser("ack", help="acknowledge an incident: no reminders while someone works on it")
    ack.add_argument("incident", help="the incident id (or its unique beginning)")
    ack.add_argument("--author", help="who (default: your user name)")
    ack.add_argument("--comment", help="why, what is being done", required=False)
    ack.add_argument("--expires", help="the acknowledgement ends after this long, e.g. 4h")
    ack.add_argument("--sticky", action="store_true", help="keep it through changes of level (default: cleared)")
    ack.add_argument("--remove", action="store_true", help="take the acknowledgement back")
    store_args(ack, wait=True)
    ack.set_defaults(func=cmd_ack)

    silence = sub.add_parser("silence", help="hold back messages of matching alerts for a while")
    silence_sub = silence.add_subparsers(dest="silence_command", required=True)
    add = silence_sub.add_parser("add", help="a new silence: --match LABEL=VALUE … --comment WHY --for 2h")
    add.add_argument("--match", action="append", help="site=, category=, module=, level=, kind= or a label (repeat)")
    add.add_argument("--author")
    add.add_argument("--comment")
    add.add_argument("--start", help="from (UTC; default now)")
    add.add_argument("--end", help="until (UTC)")
    add.add_argument("--for", dest="duration", default="2h", help="or this long (default 2h)")
    store_args(add, wait=True)
    listing = silence_sub.add_parser("list", help="active silences (--all: ended ones too)")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    store_args(listing)
    expire = silence_sub.add_parser("expire", help="end a silence now")
    expire.add_argument("silence")
    expire.add_argument("--author")
    store_args(expire, wait=True)
    silence.set_defaults(func=cmd_silence)

    notify = sub.add_parser("notify", help="send what the outbox holds, test the receivers, list the outbox")
    notify_sub = notify.add_subparsers(dest="notify_command", required=True)
    for name, text in (
        ("send", "send every due message now (the collector does this after each run)"),
        ("test", "send a sample message through every configured receiver and say what happened"),
        ("outbox", "list messages not yet delivered (with their last error)"),
    ):
        command = notify_sub.add_parser(name, help=text)
        command.add_argument("--config", required=True)
        if name == "send":
            command.add_argument("--budget", type=float, default=None, help="seconds to spend at most")
    notify.set_defaults(func=cmd_notify)
