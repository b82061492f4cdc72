"""`hfpanel config check`: every mistake named with file, module and key."""

import textwrap

import pytest

from hfpanel.cli import main
from hfpanel.config import ConfigError, load_config

GOOD = """
site: {name: T2_XX_Test, title: Test site}
store: ./store
categories:
  - {name: compute, title: Compute, rollup: worst}
  - {name: storage, title: Storage, rollup: {type: k_of_n, k: 1}}
modules:
  - name: ce_tests
    title: CE tests
    category: compute
    collector: http_json
    params: {url: "http://127.0.0.1:9/sam", rows: "hits.*", timeout: 5}
    interval: 15m
    max_age: 2h
    rating: {type: weakest_link, column: status, map: {OK: 1.0, CRITICAL: 0.0}, label: host}
    instruction: Ticket the site if a CE stays red for an hour.
    links: [{title: ETF, url: "https://etf.example.org"}]
  - name: pools
    category: storage
    collector: http_json
    params: {url: "file:///tmp/pools.json", metrics: {disabled: "summary.disabled"}}
    rating: {type: threshold, metric: disabled, warning: 1, critical: 3}
"""


def write(tmp_path, text):
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path, text):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return info.value.problems


def test_good_config_loads_with_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert [c.name for c in config.categories] == ["compute", "storage"]
    ce = config.module("ce_tests")
    assert ce.interval == 900 and ce.max_age == 7200 and ce.timeout == 30
    assert config.store == (tmp_path / "store").resolve()
    assert config.module("pools").make_collector().url == "file:///tmp/pools.json"


def test_every_mistake_is_named_with_file_module_and_key(tmp_path):
    bad = (
        GOOD.replace('collector: http_json\n    params: {url: "file', 'collector: http_jsn\n    params: {url: "file')
        .replace('rows: "hits.*"', 'rowz: "hits.*"')
        .replace("warning: 1, critical: 3", "warning: one, critical: 3")
        .replace("category: storage\n    collector", "category: storag\n    collector")
        .replace("interval: 15m", "interval: soon")
    )
    bad += "  - {name: ce_tests, category: compute, collector: command, params: {argv: [true]}}\n"
    problems = problems_of(tmp_path, bad)
    text = "\n".join(problems)
    assert all(p.startswith(str(tmp_path / "site.yaml")) for p in problems)
    assert "module 'pools': key 'collector': unknown collector type 'http_jsn'" in text
    assert "module 'ce_tests': key 'params.rowz': unknown parameter of collector 'http_json'" in text
    assert "module 'pools': key 'rating.warning': threshold must be a number" in text
    assert "module 'pools': key 'category': category 'storag' does not exist" in text
    assert "module 'ce_tests': key 'interval': not a duration: 'soon'" in text
    assert "module 'ce_tests': key 'name': duplicate module name" in text


def test_rollup_and_rating_shapes_are_checked(tmp_path):
    bad = GOOD.replace("{type: k_of_n, k: 1}", "{type: k_of_n, k: 5}").replace("weakest_link", "weakest")
    text = "\n".join(problems_of(tmp_path, bad))
    assert "category 'storage': key 'rollup.k': 5 is more than the 1 modules" in text
    assert "module 'ce_tests': key 'rating.type': unknown rating 'weakest'" in text


def test_yaml_syntax_error_gives_line(tmp_path):
    problems = problems_of(tmp_path, "site: {name: x\nstore: [\n")
    assert "line" in problems[0] and "invalid YAML" in problems[0]


def test_cli_config_check(tmp_path, capsys):
    good = write(tmp_path, GOOD)
    assert main(["config", "check", str(good)]) == 0
    assert "2 modules" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text(
        GOOD.replace("category: compute\n    collector", "category: nowhere\n    collector")
    )
    assert main(["config", "check", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert "module 'ce_tests': key 'category': category 'nowhere' does not exist" in err
    assert "1 problem(s) found" in err


def test_a_module_without_instruction_gets_its_collectors_default(tmp_path):
    text = (
        GOOD
        + """  - name: jobs
    category: compute
    collector: htcondor_jobs
    params: {url: "file:///tmp/condor_q.json"}
"""
    )
    config = load_config(write(tmp_path, text))
    assert "hold reason" in config.module("jobs").instruction  # the collector's own advice
    assert config.module("ce_tests").instruction == "Ticket the site if a CE stays red for an hour."


def test_transfers_section_is_checked_with_the_rest(tmp_path):
    """One site file holds the modules and the ingest daemon's section; one check names problems in both."""
    good = (
        GOOD
        + """
transfers:
  brokers: {mb: {hosts: ["127.0.0.1:61613"], client_id: hfpanel-ingest}}
  subscriptions: [{broker: mb, destination: /topic/transfer.fts_monitoring_complete, durable: hf, kind: fts_complete}]
"""
    )
    config = load_config(write(tmp_path, good))
    assert [m.name for m in config.modules] == ["ce_tests", "pools"]
    bad = (
        GOOD
        + """
transfers:
  subscriptions: [{broker: nope, destination: /topic/x, kind: weird}]
"""
    )
    problems = problems_of(tmp_path, bad)
    assert any("section 'transfers': key 'subscriptions[0].broker': unknown broker 'nope'" in p for p in problems)
    assert any("subscriptions[0].kind': must be one of" in p for p in problems)


def test_transfer_efficiency_levels_are_read_and_checked(tmp_path):
    """The matrix's thresholds: fractions or percentages, checked with the rest of the file."""
    config = load_config(write(tmp_path, GOOD + "transfers:\n  efficiency_levels: {warning: 95%, critical: 0.6}\n"))
    levels = config.transfers.efficiency_levels
    assert (levels.warning, levels.critical) == (0.95, 0.6)
    assert [levels.level(v) for v in (0.62, 0.5, 0.96, None)] == ["warning", "critical", "ok", "noinfo"]
    assert load_config(write(tmp_path, GOOD)).transfers is None, "no section: the views use the defaults"
    bad = GOOD + "transfers:\n  efficiency_levels: {warning: 70%, critical: 80%, red: 1}\n"
    text = "\n".join(problems_of(tmp_path, bad))
    assert "section 'transfers': key 'efficiency_levels.red': unknown key (known: critical, warning)" in text
    assert "key 'efficiency_levels': critical (80%) must not be above warning (70%)" in text
    text = "\n".join(problems_of(tmp_path, GOOD + "transfers:\n  efficiency_levels: {warning: 90}\n"))
    assert "key 'efficiency_levels.warning': must be a fraction 0…1 or a percentage like 80%, got 90" in text


def test_a_category_keeps_its_description(tmp_path):
    text = GOOD.replace(
        "{name: compute, title: Compute, rollup: worst}",
        "{name: compute, title: Compute, rollup: worst, description: CEs and the batch farm}",
    )
    config = load_config(write(tmp_path, text))
    assert config.category("compute").description == "CEs and the batch farm"
    assert config.category("storage").description == ""


def test_each_collector_class_is_looked_up_once_per_module(tmp_path, monkeypatch):
    import hfpanel.config as config_module

    calls = []
    real = config_module.collector_class
    monkeypatch.setattr(config_module, "collector_class", lambda name: calls.append(name) or real(name))
    load_config(write(tmp_path, GOOD + "http: {user_agent: hfpanel-test}\n"))
    assert calls == ["http_json", "http_json"]


def test_mistakes_in_every_section_are_named_at_once(tmp_path):
    bad = GOOD.replace("{name: compute, title: Compute, rollup: worst}", "{name: compute, rollup: worst, colour: red}")
    bad += "defaults: {interval: 5m, timout: 10s}\nlevels: {ok: 0.2, warning: 0.5}\n"
    bad = bad.replace("    interval: 15m\n", "    interval: 15m\n    weight: -2\n    hosts: ce01.example.org\n")
    text = "\n".join(problems_of(tmp_path, bad))
    assert "category 'compute': unknown key 'colour' (known: description, name, rollup, title)" in text
    assert "key 'defaults.timout': unknown (known: interval, timeout, max_age, partial)" in text
    assert "key 'levels': levels must satisfy" in text
    assert "module 'ce_tests': key 'weight': must be a non-negative number, got -2" in text
    assert "module 'ce_tests': key 'hosts': must be a list of host names" in text


def test_a_new_top_level_section_is_one_reader(tmp_path, monkeypatch):
    """How another part adds its section (as retention: and notifications: were): a function and one line."""
    import hfpanel.config as config_module

    def read_archive(raw, reading):
        if raw is not None and not isinstance(raw, dict):
            reading.problems.add("", "key 'archive': must be a mapping of setting to value")
        return raw

    text = GOOD + "archive: {bucket: old-runs}\n"
    assert "unknown top-level key 'archive'" in "\n".join(problems_of(tmp_path, text))
    monkeypatch.setitem(config_module.SECTIONS, "archive", read_archive)
    load_config(write(tmp_path, text))
    assert "key 'archive': must be a mapping" in "\n".join(problems_of(tmp_path, GOOD + "archive: 30d\n"))
