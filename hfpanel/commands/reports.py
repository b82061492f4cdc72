"""``hfpanel report``: the monthly availability/reliability report and the corrections behind it.

hfpanel report ar --store DIR --month 2026-11 [--profile NAME] [--format table|csv|json|pdf] [--out FILE]
hfpanel report exclude  --store DIR --from T --to T [--module M] --reason TEXT [--who NAME]
hfpanel report downtime --store DIR --from T --to T [--module M] --reason TEXT [--who NAME]
hfpanel report withdraw --store DIR ID --reason TEXT [--who NAME]
hfpanel report corrections --store DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..availability import corrections
from ..clock import parse_time
from ..durations import parse_duration
from .common import CliError, load_or_exit, open_store, print_table, store_path

FORMATS = ("table", "csv", "json", "pdf")


def _report(args):
    from ..queries.availability import ar_report, month_window

    try:
        start, end = month_window(args.month)
    except ValueError as error:
        raise CliError(f"--month: {error}") from None
    store = open_store(args)
    config = load_or_exit(args.config) if getattr(args, "config", None) else None
    try:
        return ar_report(store, start, end, profile=args.profile, config=config, replay=args.replay)
    except KeyError as error:
        raise CliError(f"{'--replay' if 'replay' in str(error) else '--profile'}: {error.args[0]}") from None


def _write(out: str | None, write_text=None, write_binary=None) -> None:
    if out in (None, "-"):
        if write_binary is not None:
            raise CliError("--format pdf needs --out FILE")
        write_text(sys.stdout)
        return
    path = Path(out)
    if not path.parent.is_dir():
        raise CliError(f"--out: no folder {path.parent}")
    if write_binary is not None:
        write_binary(path)
    else:
        with path.open("w", newline="") as handle:
            write_text(handle)
    print(f"wrote {path}", file=sys.stderr)


def cmd_ar(args) -> int:
    from ..reports import export

    report = _report(args)
    if args.format == "csv":
        _write(args.out, lambda out: export.to_csv(report, out))
    elif args.format == "json":
        _write(args.out, lambda out: out.write(export.to_json(report) + "\n"))
    elif args.format == "pdf":
        from ..reports.pdf import write_pdf

        _write(args.out, write_binary=lambda path: write_pdf(report, path))
    else:
        _write(args.out, lambda out: out.write(export.text(report) + "\n"))
    return 0 if not report.result.summary.empty else 1


def _times(args):
    try:
        start, end = parse_time(args.start), parse_time(args.end)
    except ValueError as error:
        raise CliError(str(error)) from None
    if start is None or end is None:
        raise CliError("give --from and --to as times (now is not a bound)")
    return start, end


def _commit(args, frame) -> int:
    from ..store import StoreLocked, StoreWriter

    path = store_path(args)
    if not path.is_dir():
        raise CliError(f"no store at {path}")
    if getattr(args, "module", None):
        store = open_store(args)
        known = (
            set(store.sql("SELECT DISTINCT module FROM module_status")["module"])
            if store.has_table("module_status")
            else set()
        )
        if args.module not in known:
            raise CliError(f"--module: no module {args.module!r} in {path} (modules: {', '.join(sorted(known))})")
    try:
        with StoreWriter(path, wait=parse_duration(args.wait)) as writer:
            key = corrections.record(writer, frame)
    except StoreLocked as error:
        raise CliError(str(error), code=3) from None
    print(f"recorded {frame['kind'].iloc[0]} {key}")
    return 0


def cmd_correct(args) -> int:
    start, end = _times(args)
    try:
        frame = corrections.correction_row(args.kind, start, end, args.module or "", args.reason, args.who or "")
    except corrections.CorrectionError as error:
        raise CliError(str(error)) from None
    return _commit(args, frame)


def cmd_withdraw(args) -> int:
    known = corrections.load(open_store(args))
    if args.id not in set(known["id"]):
        raise CliError(f"no correction {args.id!r} (hfpanel report corrections lists them)")
    try:
        frame = corrections.correction_row(
            corrections.WITHDRAWAL, reason=args.reason, who=args.who or "", withdraws=args.id
        )
    except corrections.CorrectionError as error:
        raise CliError(str(error)) from None
    return _commit(args, frame)


def cmd_list(args) -> int:
    frame = corrections.load(open_store(args))
    print_table(frame, 1000, args.format)
    return 0 if not frame.empty else 1


def cmd_handover(args) -> int:
    from ..reports.handover import handover, to_markdown, write_pdf

    store = open_store(args)
    try:
        shift = handover(store, args.start, args.end, base_url=args.base_url)
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.format == "pdf":
        _write(args.out, write_binary=lambda path: write_pdf(shift, path))
    else:
        _write(args.out, lambda out: out.write(to_markdown(shift)))
    return 0


def cmd_export(args) -> int:
    from ..reports.bundle import export

    store = open_store(args)
    start, end = _times(args)
    try:
        counts = export(store, start, end, args.out, with_payloads=args.with_payloads)
    except ValueError as error:
        raise CliError(str(error)) from None
    rows = sum(counts.values())
    print(f"wrote {args.out}: {rows} rows of {len(counts)} tables, config.json, index.html (open it in a browser)")
    return 0


def _store_args(parser) -> None:
    parser.add_argument("--store")
    parser.add_argument("--config")


def add_parsers(sub) -> None:
    report = sub.add_parser("report", help="availability/reliability reports and their corrections")
    report_sub = report.add_subparsers(dest="report_command", required=True, parser_class=type(report))

    ar = report_sub.add_parser("ar", help="availability and reliability of a month (WLCG definitions)")
    _store_args(ar)
    ar.add_argument("--month", required=True, help="YYYY-MM (UTC)")
    ar.add_argument("--profile", help="an availability profile of the configuration (default: the first)")
    ar.add_argument("--format", choices=FORMATS, default="table")
    ar.add_argument("--out", help="write to this file (needed for pdf; default: standard output)")
    ar.add_argument("--replay", help="read a replay's rows instead of the stored ones it replayed (an id, or latest)")
    ar.set_defaults(func=cmd_ar)

    for kind, help_text in (
        (corrections.EXCLUSION, "exclude a period from A/R (e.g. a monitoring fault), with a reason"),
        (corrections.DOWNTIME, "add a scheduled downtime after the fact, with a reason"),
    ):
        name = "exclude" if kind == corrections.EXCLUSION else "downtime"
        parser = report_sub.add_parser(name, help=help_text)
        _store_args(parser)
        parser.add_argument("--from", dest="start", required=True, help="UTC time, e.g. 2026-11-03T10:00")
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--module", help="one module (default: the whole site)")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--who", help="who decided (default: your user name)")
        parser.add_argument("--wait", default="10s", help="wait this long for the collector's write lock")
        parser.set_defaults(func=cmd_correct, kind=kind)

    withdraw = report_sub.add_parser("withdraw", help="take back a correction (it stays on record)")
    _store_args(withdraw)
    withdraw.add_argument("id")
    withdraw.add_argument("--reason", required=True)
    withdraw.add_argument("--who")
    withdraw.add_argument("--wait", default="10s")
    withdraw.set_defaults(func=cmd_withdraw)

    handover = sub.add_parser("handover", help="the shift handover as Markdown (for an e-log) or PDF")
    _store_args(handover)
    handover.add_argument("--from", dest="start", help="the shift's start (UTC; default: 8 h before its end)")
    handover.add_argument("--to", dest="end", help="the shift's end (UTC; default: the latest run)")
    handover.add_argument("--format", choices=("markdown", "pdf"), default="markdown")
    handover.add_argument("--out", help="write to this file (needed for pdf; default: standard output)")
    handover.add_argument(
        "--base-url", default="", help="the dashboard's address for the links, e.g. https://hf.example.org"
    )
    handover.set_defaults(func=cmd_handover)

    bundle = sub.add_parser(
        "export", help="a window as a self-contained post-mortem bundle (Parquet, config, static page)"
    )
    _store_args(bundle)
    bundle.add_argument("--from", dest="start", required=True, help="UTC time, e.g. 2026-11-20T06:00")
    bundle.add_argument("--to", dest="end", required=True)
    bundle.add_argument("out", help="a new folder for the bundle")
    bundle.add_argument("--with-payloads", action="store_true", help="also the archived raw payloads")
    bundle.set_defaults(func=cmd_export)

    listing = report_sub.add_parser("corrections", help="every correction recorded")
    _store_args(listing)
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    listing.set_defaults(func=cmd_list)
