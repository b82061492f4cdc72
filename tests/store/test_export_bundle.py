"""``hfpanel export``: a window of the store as a post-mortem bundle — a store of its own with the
window's rows, the configuration, and one static page with everything escaped."""

import json
import re

import pytest
from store_factory import HOSTILE, build_store

from hfpanel.cli import main
from hfpanel.store import Store


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("bundle") / "store")


def test_the_bundle_holds_the_window_and_opens_as_a_store(site, tmp_path, capsys):
    out = tmp_path / "incident"
    first, last = site.times[1], site.times[-1]
    args = ["export", "--store", str(site.root), "--from", str(first), "--to", str(last), str(out)]
    assert main(args) == 0
    assert "rows of" in capsys.readouterr().out
    with Store(out / "store") as bundle, Store(site.root) as store:
        assert sorted(bundle.run_times()) == [t for t in store.run_times() if first <= t <= last]
        assert "raw_payloads" not in bundle.tables() and "detail__condor_nodes__rows" in bundle.tables()
        assert bundle.status_at().set_index("module")["level"].to_dict() == site.expected[last]
    config = json.loads((out / "config.json").read_text())[-1]  # the configurations in force, oldest first
    assert config["site"] == "TEST-SITE" and {m["name"] for m in config["modules"]} >= {"sam_ce", "condor_nodes"}
    html = (out / "index.html").read_text()
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert "<script src" not in html and "http" not in markup  # the JavaScript is inline: nothing to fetch
    assert main(args) == 2  # the folder exists now: never overwritten
    assert "exists: give a new folder" in capsys.readouterr().err


def test_an_empty_window_is_a_one_line_error(site, tmp_path, capsys):
    args = ["export", "--store", str(site.root), "--from", "2001-01-01", "--to", "2001-01-02", str(tmp_path / "x")]
    assert main(args) == 2
    assert "no module rows between" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
