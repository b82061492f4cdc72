"""JSON paths in configurations: the plain dotted paths keep their meaning, and JMESPath expressions
(what site admins know from the AWS CLI, Ansible, Grafana) select and filter too."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from collectors.command import CommandCollector
from collectors.http_json import HttpJsonCollector
from hfpanel.collector import SourceError
from hfpanel.config import ConfigError, parse_config
from hfpanel.tabular import is_jmespath, json_path

SAM = (Path(__file__).parents[1] / "fixtures" / "sam" / "sam_results.json").read_bytes()
DOTTED = "responses.0.hits.hits.*._source.data"
JMES = "responses[0].hits.hits[*]._source.data"


def test_a_dotted_path_and_its_jmespath_twin_give_the_same_table():
    dotted = HttpJsonCollector(rows=DOTTED).parse(SAM).tables["rows"]
    jmes = HttpJsonCollector(rows=JMES).parse(SAM).tables["rows"]
    pd.testing.assert_frame_equal(dotted, jmes)
    assert len(dotted) == 16


def test_jmespath_filters_and_functions_in_rows_and_metrics():
    collector = HttpJsonCollector(
        rows="responses[0].hits.hits[?_source.data.status=='CRITICAL']._source.data",
        columns={"host": "dst_hostname", "status": "status"},
        metrics={"results": "length(responses[0].hits.hits)", "took_ms": "took"},
    )
    result = collector.parse(SAM)
    assert set(result.tables["rows"]["status"]) == {"CRITICAL"}
    assert result.metrics == {"rows": float(len(result.tables["rows"])), "results": 16.0, "took_ms": 184.0}


@pytest.mark.parametrize(
    "path, jmes",
    [
        ("hits.total.value", False),
        ("responses.0.hits.hits.*._source", False),
        ("_source.@timestamp", False),
        ("responses[0].hits", True),
        ("items[?state=='DOWN']", True),
        ("length(hits)", True),
        ("a | b", True),
    ],
)
def test_which_language_a_path_is(path, jmes):
    assert is_jmespath(path) is jmes


def test_a_dotted_path_over_an_object_keeps_the_key_and_its_precise_error():
    doc = {"pools": {"p1": {"free": 1}, "p2": {"free": 2}}}
    assert json_path(doc, "pools.*") == [{"_key": "p1", "free": 1}, {"_key": "p2", "free": 2}]
    with pytest.raises(SourceError, match=r"no key 'pool'; keys: pools"):
        json_path(doc, "pool.*")


def test_jmespath_missing_key_is_named_not_an_empty_table():
    with pytest.raises(SourceError, match=r"rows path 'responses\[0\]\.hitz' selects nothing \(JMESPath answers null"):
        HttpJsonCollector(rows="responses[0].hitz").parse(SAM)


def test_jmespath_type_error_at_run_time_is_a_source_error():
    with pytest.raises(SourceError, match=r"path 'length\(took\)': "):
        HttpJsonCollector(metrics={"n": "length(took)"}).parse(SAM)


def test_a_broken_expression_is_a_config_error_naming_module_and_key(tmp_path):
    config = {
        "site": "T2_XX_Paths",
        "store": str(tmp_path),
        "categories": [{"name": "c"}],
        "modules": [
            {
                "name": "sam_json",
                "category": "c",
                "collector": "http_json",
                "params": {"url": "file:///x.json", "rows": "responses[0.hits"},
            },
            {
                "name": "script",
                "category": "c",
                "collector": "command",
                "params": {"argv": ["true"], "rows": ".", "metrics": {"n": "length(items"}},
            },
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config, source="site.yaml")
    text = "\n".join(info.value.problems)
    assert "site.yaml: module 'sam_json': key 'params': rows: invalid JMESPath expression 'responses[0.hits'" in text
    assert "module 'script': key 'params': metric 'n': invalid JMESPath expression 'length(items'" in text


def test_command_output_accepts_jmespath(tmp_path):
    script = tmp_path / "queues.py"
    script.write_text(
        "import json\nprint(json.dumps({'queues': [{'name': 'a', 'held': 3}, {'name': 'b', 'held': 0}]}))"
    )
    collector = CommandCollector(argv=[sys.executable, str(script)], rows="queues[?held > `0`]")
    result = collector.parse(collector.fetch())
    assert result.tables["rows"]["name"].tolist() == ["a"]
    assert json.loads(collector.fetch())["returncode"] == 0
