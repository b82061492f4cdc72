"""``hfpanel token create|list|revoke|rotate``: the API's tokens (``hfpanel.api.tokens``).

A new token is printed once, alone on stdout (so ``TOKEN=$(hfpanel token create …)`` works); what
it is goes to stderr. The tokens file lives in the API's state folder: ``--state DIR``, else the
configuration's ``api.state``, else ``<store>/_api``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..durations import format_duration, parse_duration
from .common import CliError, OneLineErrorParser, load_or_exit


def _folder(args) -> Path:

    if args.state:
        return Path(args.state)
    if args.config:
        config = load_or_exit(args.config)
        return config.api.state_folder(config.store)
    if args.store:
        return Path(args.store) / "_api"
    raise CliError("give --config FILE, --store DIR or --state DIR")


def _tokens(args):
    from ..api.tokens import TokenStore

    return TokenStore(_folder(args))


def _when(stamp) -> str:
    return "—" if stamp is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp))


def _duration(text, option):

    try:
        return parse_duration(text)
    except ValueError as error:
        raise CliError(f"{option}: {error}") from None


def cmd_create(args) -> int:
    from ..api.tokens import TokenError

    expires = _duration(args.expires, "--expires") if args.expires else None
    try:
        token, text = _tokens(args).create(args.name, args.scope or [], expires)
    except TokenError as error:
        raise CliError(str(error)) from None
    print(text)
    until = f", expires {_when(token.expires)} UTC" if token.expires else ""
    print(
        f"token {token.id} '{token.name}' ({', '.join(token.scopes)}){until}: shown once, keep it now",
        file=sys.stderr,
    )
    return 0


def cmd_list(args) -> int:
    tokens = _tokens(args).tokens()
    if not tokens:
        print("(no tokens)")
        return 0
    print(f"{'id':<8}  {'state':<16}  {'created':<16}  {'expires':<16}  {'name':<20}  scopes")
    for token in sorted(tokens.values(), key=lambda t: t.created):
        print(
            f"{token.id:<8}  {token.state():<16}  {_when(token.created):<16}  {_when(token.expires):<16}  "
            f"{token.name:<20}  {', '.join(token.scopes)}"
        )
    return 0


def cmd_revoke(args) -> int:
    from ..api.tokens import TokenError

    try:
        token = _tokens(args).revoke(args.id)
    except TokenError as error:
        raise CliError(str(error)) from None
    print(f"token {token.id} '{token.name}' revoked")
    return 0


def cmd_rotate(args) -> int:
    from ..api.tokens import TokenError

    overlap = _duration(args.overlap, "--overlap")
    try:
        new, text, old = _tokens(args).rotate(args.id, overlap)
    except TokenError as error:
        raise CliError(str(error)) from None
    print(text)
    print(
        f"token {new.id} replaces {old.id} '{old.name}'; {old.id} keeps working for {format_duration(overlap)} "
        f"(until {_when(old.expires)} UTC): shown once, keep it now",
        file=sys.stderr,
    )
    return 0


def add_parsers(sub) -> None:
    """Register ``hfpanel token …`` on the main command's subparsers."""

    token = sub.add_parser("token", help="create, list, revoke or rotate API tokens")
    commands = token.add_subparsers(dest="token_command", required=True, parser_class=OneLineErrorParser)

    def where(parser):
        parser.add_argument("--config", help="the site.yaml (its api.state, else <store>/_api)")
        parser.add_argument("--store", help="the store folder (tokens in <store>/_api)")
        parser.add_argument("--state", help="the API's state folder itself")

    create = commands.add_parser("create", help="a new token, printed once")
    create.add_argument("--name", required=True, help="who or what uses it, e.g. probe-ce01")
    create.add_argument(
        "--scope", action="append", help="read, push:MODULE, push:* or admin (repeat for several)", default=[]
    )
    create.add_argument("--expires", help="lifetime, e.g. 90d (default: until revoked)")
    where(create)
    create.set_defaults(func=cmd_create)
    listing = commands.add_parser("list", help="every token: id, state, dates, name, scopes (never the secret)")
    where(listing)
    listing.set_defaults(func=cmd_list)
    revoke = commands.add_parser("revoke", help="stop a token now")
    revoke.add_argument("id")
    where(revoke)
    revoke.set_defaults(func=cmd_revoke)
    rotate = commands.add_parser("rotate", help="a new token with the same scopes; the old one works for --overlap")
    rotate.add_argument("id")
    rotate.add_argument("--overlap", default="1d", help="how long the old token keeps working (default 1d)")
    where(rotate)
    rotate.set_defaults(func=cmd_rotate)
