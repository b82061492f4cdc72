"""``hfpanel record`` and ``hfpanel collectors``: the command line of writing and testing collectors.

``record --config site.yaml --module NAME [--out DIR]`` saves what the module's source answers now
as a fixture, secrets stripped (:mod:`hfpanel.record`); ``collectors`` lists the installed collector
types, ``collectors --doc`` prints docs/collector-reference.md (:mod:`hfpanel.reference`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..collector import SourceError, collector_class, registry
from ..config import ConfigError, load_config


def cmd_record(args) -> int:
    from ..record import record

    try:
        config = load_config(args.config)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    try:
        module = config.module(args.module)
    except KeyError:
        print(
            f"hfpanel record: error: no module {args.module!r} in {args.config} "
            f"(modules: {', '.join(m.name for m in config.modules)})",
            file=sys.stderr,
        )
        return 2
    try:
        saved = record(module, Path(args.out))
    except SourceError as error:
        print(f"hfpanel record: module {module.name}: the source failed, nothing recorded: {error}", file=sys.stderr)
        return 1
    hidden = f" (hidden: {', '.join(saved.redacted)})" if saved.redacted else ""
    print(f"recorded {module.name}: {saved.payload} ({saved.payload.stat().st_size} bytes), {saved.meta}{hidden}")
    return 0


def cmd_collectors(args) -> int:
    if args.doc:
        from ..reference import reference

        sys.stdout.write(reference())
        return 0
    for name in sorted(registry()):
        cls = collector_class(name)
        summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split())
        print(f"{name:20} {cls.__module__}:{cls.__qualname__}  {summary}")
    return 0


def add_parsers(sub) -> None:
    """Register ``hfpanel record`` and ``hfpanel collectors`` on the main command's subparsers."""
    record = sub.add_parser("record", help="save what a module's source answers now as a test fixture")
    record.add_argument("--config", required=True, help="the site.yaml naming the module")
    record.add_argument("--module", required=True, help="the module whose source is asked")
    record.add_argument(
        "--out", default="fixtures", help="folder for NAME.<suffix> and NAME.meta.json (default: ./fixtures)"
    )
    record.set_defaults(func=cmd_record)
    collectors = sub.add_parser("collectors", help="list the installed collector types")
    collectors.add_argument("--doc", action="store_true", help="print the parameter reference (Markdown)")
    collectors.set_defaults(func=cmd_collectors)
