"""``hfpanel auth user NAME --users FILE [--group G …]``: add or change a user of ``basic`` sign-in.

The password is read from the terminal (twice) or, when stdin is not a terminal, from its first
line; only its scrypt hash is written (the file becomes 0600)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import yaml

from .common import CliError, OneLineErrorParser


def cmd_user(args) -> int:
    from ..auth.passwords import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            raise CliError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise CliError("a password needs at least 8 characters")
    path = Path(args.users)
    try:
        data = yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    except yaml.YAMLError as error:
        raise CliError(f"{path}: not YAML: {getattr(error, 'problem', error)}") from None
    users = data.setdefault("users", {})
    previous = users.get(args.name, {})
    groups = args.group if args.group else previous.get("groups", [])
    users[args.name] = {"password": hash_password(password), "groups": list(groups)}
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(data, handle, sort_keys=True)
    os.replace(tmp, path)
    print(f"{'changed' if previous else 'added'} user {args.name} ({', '.join(groups) or 'no groups'}) in {path}")
    return 0


def add_parsers(sub) -> None:

    auth = sub.add_parser("auth", help="users of basic sign-in")
    commands = auth.add_subparsers(dest="auth_command", required=True, parser_class=OneLineErrorParser)
    user = commands.add_parser("user", help="add or change a user (password from the terminal or stdin)")
    user.add_argument("name")
    user.add_argument("--users", required=True, help="the users file (auth.users_file)")
    user.add_argument("--group", action="append", default=[], help="a group (repeat; default: keep the old ones)")
    user.set_defaults(func=cmd_user)
