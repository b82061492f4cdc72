"""``hfpanel token``: a token is shown once and kept only as a digest; listed without its secret;
revoked or rotated by id; the api: section is checked with the rest of site.yaml."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys

import pytest

from hfpanel.api.tokens import TokenStore
from hfpanel.cli import main
from hfpanel.config import ConfigError, parse_config


def hfpanel(*args):
    return subprocess.run([sys.executable, "-m", "hfpanel.cli", *args], capture_output=True, text=True, timeout=120)


def test_a_token_is_shown_once_and_stored_as_a_digest(tmp_path):
    created = hfpanel("token", "create", "--store", str(tmp_path), "--name", "probe-ce", "--scope", "push:ce_probe")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("hfp_") and len(created.stdout.splitlines()) == 1
    assert "shown once" in created.stderr and token not in created.stderr
    path = tmp_path / "_api" / "tokens.json"
    text = path.read_text()
    secret = token.split("_", 2)[2]
    assert secret not in text and hashlib.sha256(secret.encode()).hexdigest() in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = hfpanel("token", "list", "--store", str(tmp_path))
    assert "probe-ce" in listed.stdout and "push:ce_probe" in listed.stdout and secret not in listed.stdout
    assert TokenStore(tmp_path / "_api").bearer(token).name == "probe-ce"


def test_revoke_and_rotate_by_id(tmp_path, capsys):
    assert main(["token", "create", "--store", str(tmp_path), "--name", "job", "--scope", "push:*"]) == 0
    token = capsys.readouterr().out.strip()
    token_id = token.split("_")[1]
    assert main(["token", "rotate", token_id, "--store", str(tmp_path), "--overlap", "1h"]) == 0
    rotated = capsys.readouterr()
    new = rotated.out.strip()
    assert new != token and "keeps working for 1h" in rotated.err
    tokens = TokenStore(tmp_path / "_api")
    assert tokens.bearer(token) is not None and tokens.bearer(new).scopes == ["push:*"]
    assert tokens.get(token_id).expires is not None
    assert main(["token", "revoke", token_id, "--store", str(tmp_path)]) == 0
    assert tokens.bearer(token) is None and tokens.bearer(new) is not None
    data = json.loads((tmp_path / "_api" / "tokens.json").read_text())
    assert [t["revoked"] is not None for t in data["tokens"]] == [True, False]


@pytest.mark.parametrize(
    "args, words",
    [
        (["token", "create", "--name", "x", "--scope", "push:*"], "give --config FILE, --store DIR or --state DIR"),
        (["token", "create", "--store", "S", "--name", "x", "--scope", "pull"], "not a scope: 'pull'"),
        (["token", "create", "--store", "S", "--name", "x"], "give at least one --scope"),
        (["token", "create", "--store", "S", "--name", "x", "--scope", "read", "--expires", "soon"], "--expires"),
        (["token", "revoke", "deadbeef", "--store", "S"], "no token 'deadbeef'"),
    ],
)
def test_token_mistakes_are_one_line_and_exit_2(tmp_path, capsys, args, words):
    args = [str(tmp_path) if a == "S" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_the_api_section_is_checked_with_the_configuration(tmp_path):
    base = {
        "site": "X",
        "store": str(tmp_path),
        "categories": [{"name": "c"}],
        "modules": [{"name": "m", "category": "c", "collector": "command", "params": {"argv": ["true"]}}],
    }
    config = parse_config({**base, "api": {"state": str(tmp_path / "state"), "push_max_body": "1m", "push_rate": 5}})
    assert config.api.push_max_body == 1024 * 1024 and config.api.state_folder(tmp_path) == tmp_path / "state"
    with pytest.raises(ConfigError) as error:
        parse_config({**base, "api": {"push_max_body": "big", "push_rate": 0, "colour": 1}})
    text = "\n".join(error.value.problems)
    assert "key 'api.push_max_body': not a size: 'big'" in text
    assert "key 'api.push_rate': must be a positive number" in text and "key 'api.colour': unknown" in text


def test_a_user_of_basic_sign_in_is_added_with_a_hash(tmp_path):
    users = tmp_path / "users.yaml"
    added = subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "auth", "user", "alice", "--users", str(users), "--group", "storage"],
        input="correct horse\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    from hfpanel.auth.passwords import read_users, verify

    entry = read_users(users)["alice"]
    assert entry["groups"] == ["storage"] and verify("correct horse", entry["password"])
    assert "correct horse" not in users.read_text() and stat.S_IMODE(users.stat().st_mode) == 0o600
    short = subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "auth", "user", "bob", "--users", str(users)],
        input="short\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
