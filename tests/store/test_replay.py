"""``hfpanel replay --since``: archived payloads re-parsed with today's code, stored as a replay beside
the runs (never in place of them); a reader chooses it (``report ar --replay``) or ignores it."""

import json
import shutil

import pandas as pd
import pytest
import store_factory
import yaml
from store_factory_reports import ar_config_data, build_ar_store

from hfpanel.cli import main
from hfpanel.collector import ParseResult
from hfpanel.store import Store


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_ar_store(tmp_path_factory.mktemp("replay") / "store")


@pytest.fixture
def site(built, tmp_path):
    root = shutil.copytree(built.root, tmp_path / "store")
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(ar_config_data(root, {"health": 1.0}, {"health": 1.0}, {"health": 1.0})))
    return root, path


def fixed_parser(self, payload: bytes) -> ParseResult:
    """Today's "fixed" parser: it reads the health the old one got wrong as fine."""
    doc = json.loads(payload)
    return ParseResult(tables={"rows": pd.DataFrame(doc["rows"])}, metrics={"health": max(doc["health"], 0.95)})


def test_a_replay_is_stored_beside_the_runs_and_chosen_by_a_reader(site, monkeypatch, capsys):
    root, path = site
    with Store(root) as store:
        before = store.sql("SELECT level, count(*) AS n FROM module_status GROUP BY level ORDER BY level")
    monkeypatch.setattr(store_factory.FakeCollector, "parse", fixed_parser)
    assert main(["replay", "--config", str(path), "--since", "2026-11-03", "--module", "sam_ce"]) == 0
    out = capsys.readouterr().out
    replay_id = out.split(":")[0]
    # 18 payloads archived (the 6 failed fetches have none); 13 critical hours now read as ok
    assert "18 payloads of 1 modules re-parsed, 0 without information, 13 at another level" in out
    with Store(root) as store:
        after = store.sql("SELECT level, count(*) AS n FROM module_status GROUP BY level ORDER BY level")
        replayed = store.sql("SELECT * FROM replay_module_status")
        runs = store.sql("SELECT * FROM replay_runs")
    pd.testing.assert_frame_equal(before, after)  # the truth is untouched
    assert set(replayed["level"]) == {"ok"} and set(replayed["replay_id"]) == {replay_id}
    assert (runs["payloads"].iloc[0], runs["changed"].iloc[0]) == (18, 13)

    assert main(["report", "ar", "--store", str(root), "--month", "2026-11", "--format", "json"]) == 0
    stored = {(r["scope"], r["period"]): r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert (
        main(["report", "ar", "--store", str(root), "--month", "2026-11", "--format", "json", "--replay", "latest"])
        == 0
    )
    chosen = {(r["scope"], r["period"]): r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert round(stored[("site", "2026-11-03")]["availability"], 4) == round(5 / 18, 4)
    assert chosen[("site", "2026-11-03")]["availability"] == 1.0


def test_replay_mistakes(site, capsys):
    root, path = site
    assert main(["replay", "--config", str(path)]) == 2
    assert "give --module NAME (one payload) or --since TIME" in capsys.readouterr().err
    assert main(["replay", "--config", str(path), "--since", "2030-01-01"]) == 1
    assert "no archived payload since 2030-01-01" in capsys.readouterr().err
    assert main(["report", "ar", "--store", str(root), "--month", "2026-11", "--replay", "nope"]) == 2
    assert "--replay: no replay 'nope' (replays: none)" in capsys.readouterr().err
