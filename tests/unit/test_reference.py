"""docs/collector-reference.md is generated from the declarations: a change to a parameter that is
not regenerated into the committed file fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collectors.sam import SamCollector
from hfpanel.cli import main
from hfpanel.collector import collector_class, registry
from hfpanel.reference import reference

COMMITTED = Path(__file__).parents[2] / "docs" / "collector-reference.md"


def test_the_committed_reference_is_what_the_generator_makes():
    assert COMMITTED.read_text() == reference(), (
        "docs/collector-reference.md is out of date: run `python -m hfpanel.reference docs/collector-reference.md`"
    )


def test_every_collector_and_each_of_its_own_parameters_is_documented():
    text = reference()
    for name in registry():
        assert f"### `{name}`" in text
        for parameter in collector_class(name).param:
            if parameter != "name":
                assert f"| `{parameter}` |" in text, (name, parameter)


def test_a_changed_parameter_doc_changes_the_reference(monkeypatch):
    before = reference()
    monkeypatch.setattr(SamCollector.param["vo"], "doc", "The VO, spelled as MONIT spells it.")
    after = reference()
    assert before != after and "The VO, spelled as MONIT spells it." in after


def test_cli_prints_the_reference_and_the_list(capsys):
    assert main(["collectors", "--doc"]) == 0
    assert capsys.readouterr().out == reference()
    assert main(["collectors"]) == 0
    listed = capsys.readouterr().out
    assert "sam                  collectors.sam:SamCollector" in listed


def test_module_entry_point_writes_the_file(tmp_path):
    out = tmp_path / "reference.md"
    subprocess.run([sys.executable, "-m", "hfpanel.reference", str(out)], check=True, timeout=120)
    assert out.read_text() == reference()
