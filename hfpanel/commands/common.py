"""What every ``hfpanel`` sub-command shares: the one-line user error, the argument parser that
says a usage mistake in one line, loading the configuration, finding and opening the store, and
printing a query's answer. Its own module so the sub-commands of the wings (events, reports, api,
auth) import it downwards instead of importing ``hfpanel.cli``, which imports them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError, load_config


class CliError(Exception):
    """A mistake of the user's (bad argument, missing store, bad SQL): one line on stderr, ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def print_table(frame, limit: int, fmt: str = "table", out=None) -> None:
    """A query's answer: an aligned table (no index, no pandas ellipses), or CSV / JSON lines."""
    out = out or sys.stdout
    if fmt == "csv":
        frame.to_csv(out, index=False)
        return
    if fmt == "json":
        frame.to_json(out, orient="records", lines=True, date_format="iso")
        return
    shown = frame.head(limit)
    if frame.empty:
        print("(no rows)" if len(frame.columns) else "(no result)", file=out)
        return
    text = shown.astype(object).where(shown.notna(), "").to_string(index=False, max_colwidth=80)
    print(text, file=out)
    more = f", showing the first {limit} (--limit N)" if len(frame) > limit else ""
    print(f"({len(frame)} row{'s' if len(frame) != 1 else ''}{more})", file=out)


def load_or_exit(path):
    try:
        return load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(2) from None


def store_path(args) -> Path:
    if getattr(args, "store", None):
        return Path(args.store)
    if getattr(args, "config", None):
        return load_or_exit(args.config).store
    raise CliError("give --store DIR or --config FILE")


def open_store(args):
    from ..store import Store

    path = store_path(args)
    try:
        return Store(path)
    except FileNotFoundError:
        raise CliError(
            f"no store at {path} (give --store DIR of an existing store, or run hfpanel collect first)"
        ) from None


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the command and what is wrong), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
