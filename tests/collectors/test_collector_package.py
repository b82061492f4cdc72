"""docs/collectors.md, done: a site's own collector in its own package, named by dotted path,
checked, recorded against a real local server and tested with pytest in a subprocess, as the
site's CI would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fault_server import FaultServer

DOC = Path(__file__).parents[2] / "docs" / "collectors.md"
HFPANEL = Path(sys.executable).with_name("hfpanel")
TOKEN = "squid-monitor-token-5be81d0c"


def snippet(start: str) -> str:
    """The fenced code block of docs/collectors.md that begins with ``start``: the test runs the doc."""
    blocks = re.findall(r"```(?:python|yaml|toml)?\n(.*?)```", DOC.read_text(), re.S)
    return next(block for block in blocks if block.startswith(start))


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "mysite"
    (root / "mysite").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "mysite" / "__init__.py").write_text("")
    (root / "mysite" / "checks.py").write_text(snippet("# mysite/checks.py"))
    (root / "tests" / "test_checks.py").write_text(snippet("# tests/test_checks.py"))
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    return root


def run(argv, cwd, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def test_a_site_package_is_named_recorded_and_tested(package, tmp_path):
    squids = {
        "squids": [
            {"host": "squid1.example.org", "state": "UP", "hit_ratio": 0.93},
            {"host": "squid2.example.org", "state": "DOWN", "hit_ratio": 0.0},
            {"host": "squid3.example.org", "state": "UP", "hit_ratio": 0.9},
        ]
    }
    with FaultServer() as srv:
        srv.route("/status.json", json.dumps(squids), content_type="application/json")
        module = yaml.safe_load(snippet("modules:"))["modules"][0]
        assert module["collector"] == "mysite.checks:SquidCollector"
        module["params"].update(url=srv.url("/status.json"), bearer_token_file=str(tmp_path / "token"))
        (tmp_path / "token").write_text(TOKEN)
        site = {
            "site": "T2_XX_Mysite",
            "store": str(tmp_path / "store"),
            "categories": [{"name": "network"}],
            "modules": [module],
        }
        (package / "site.yaml").write_text(yaml.safe_dump(site))

        checked = run([str(HFPANEL), "config", "check", "site.yaml"], package)
        assert checked.returncode == 0, checked.stderr
        assert "site T2_XX_Mysite, 1 categories, 1 modules" in checked.stdout

        recorded = run(
            [str(HFPANEL), "record", "--config", "site.yaml", "--module", "squids", "--out", "tests/fixtures"], package
        )
        assert recorded.returncode == 0, recorded.stderr
        assert srv.requests("/status.json")[0].headers["authorization"] == f"Bearer {TOKEN}"

    fixtures = sorted(p.name for p in (package / "tests" / "fixtures").iterdir())
    assert fixtures == ["squids.json", "squids.meta.json"]
    for name in fixtures:
        assert TOKEN not in (package / "tests" / "fixtures" / name).read_text()

    tested = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], package)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout

    # the site's test fails when the collector's rule would no longer see the DOWN squid
    checks = package / "mysite" / "checks.py"
    checks.write_text(checks.read_text().replace('"DOWN": 0.0}', '"DOWN": 1.0}'))
    broken = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], package)
    assert broken.returncode == 1 and "level ok" in broken.stdout and "expected critical" in broken.stdout


def test_config_check_names_a_dotted_path_that_does_not_import(package):
    site = {
        "site": "T2_XX_Mysite",
        "store": "store",
        "categories": [{"name": "network"}],
        "modules": [
            {
                "name": "squids",
                "category": "network",
                "collector": "mysite.chekcs:SquidCollector",
                "params": {"url": "https://squid-mon.example.org/status.json"},
            },
            {
                "name": "other",
                "category": "network",
                "collector": "mysite.checks:SquidCollecter",
                "params": {"url": "https://squid-mon.example.org/status.json"},
            },
        ],
    }
    (package / "site.yaml").write_text(yaml.safe_dump(site))
    checked = run([str(HFPANEL), "config", "check", "site.yaml"], package)
    assert checked.returncode == 2
    assert (
        "site.yaml: module 'squids': key 'collector': cannot import 'mysite.chekcs' for collector "
        "'mysite.chekcs:SquidCollector'"
    ) in checked.stderr
    assert "module 'other': key 'collector': module 'mysite.checks' has no 'SquidCollecter'" in checked.stderr
