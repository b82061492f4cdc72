"""The command line with mistakes, as a new user makes them: one line on stderr, the documented exit
code, never a traceback; and `hfpanel status` answering like a Nagios check."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from store_factory import build_store


def hfpanel(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", *args], capture_output=True, text=True, timeout=120, **kwargs
    )


def one_line_error(result, code: int, *words):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("cli") / "store")


def test_a_bad_time_is_one_line(store):
    one_line_error(
        hfpanel("status", "--store", str(store.root), "--at", "yesterday-ish"),
        3,
        "not a time: 'yesterday-ish'",
        "2026-11-20T14:00",
    )
    one_line_error(hfpanel("replay", "--config", "nowhere.yaml", "--module", "x", "--at", "3 o'clock"), 2)


def test_an_sql_error_is_one_line(store):
    line = one_line_error(hfpanel("sql", "--store", str(store.root), "SELEC module FROM module_status"), 2, "SQL:")
    assert "syntax error" in line.lower()
    one_line_error(hfpanel("sql", "--store", str(store.root), "SELECT nope FROM module_status"), 2, "nope")


def test_a_missing_store_is_one_line(tmp_path):
    one_line_error(hfpanel("status", "--store", str(tmp_path / "nothing")), 3, "no store at")
    one_line_error(hfpanel("sql", "--store", str(tmp_path / "nothing"), "SELECT 1"), 2, "no store at")
    one_line_error(hfpanel("status"), 3, "give --store DIR or --config FILE")


def test_an_unknown_module_in_replay_names_the_known_ones(store, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "site": "T",
                "store": str(store.root),
                "categories": [{"name": "c"}],
                "modules": [
                    {
                        "name": "probe",
                        "category": "c",
                        "collector": "command",
                        "params": {"argv": ["true"], "output": "exit_code"},
                    }
                ],
            }
        )
    )
    one_line_error(
        hfpanel("replay", "--config", str(path), "--module", "sam_ce"), 2, "no module 'sam_ce'", "modules: probe"
    )


def test_usage_mistakes_are_one_line():
    one_line_error(hfpanel("status", "--no-such-flag"), 2, "unrecognized arguments")
    one_line_error(hfpanel("collect"), 2, "--config")


def test_a_closed_pipe_stops_quietly(store):
    """`hfpanel sql … | head -1`: no BrokenPipeError traceback, the documented code."""
    query = "SELECT * FROM range(200000) t(i)"
    result = subprocess.run(
        f"{sys.executable} -m hfpanel.cli sql --store {store.root} --limit 200000 "
        f"'{query}' | head -1; echo \"${{PIPESTATUS[0]}}\" >&2",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "i"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "141"


def test_status_is_a_nagios_check_with_since_when(store):
    """The store ends with sam_ce critical (since the last run) and condor_queue without information
    since the second run: exit 2 (CRITICAL), names whole, since-when from the stored history."""
    result = hfpanel("status", "--store", str(store.root))
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    crit = next(line for line in lines if "sam_ce" in line)
    assert crit.split()[0] == "CRIT" and f"since {store.times[-1]:%H:%M} (" in crit
    noinfo = next(line for line in lines if "condor_queue" in line)
    assert f"since {store.times[1]:%H:%M} (" in noinfo
    # at a time when everything was fine: exit 0
    fine = hfpanel("status", "--store", str(store.root), "--at", str(store.times[0]))
    assert fine.returncode == 0, fine.stdout


def test_status_of_a_store_nobody_writes_is_unknown_not_ok(tmp_path):
    """The collector stopped three hours ago with every module fine: each module's last row is older
    than its interval + max age (1h + 90m), so now nothing is known. The check says UNKNOWN (3), not OK, and each
    line says how old its data is; at the time of that run the same store was fine (0)."""
    import pandas as pd
    from store_factory import DEFAULT_SCENARIO

    from hfpanel.clock import utcnow

    last = utcnow().floor("min") - pd.Timedelta(hours=3)
    info = build_store(tmp_path / "store", scenario=DEFAULT_SCENARIO[:1], end=last)
    result = hfpanel("status", "--store", str(info.root))
    assert result.returncode == 3, result.stdout
    lines = [line for line in result.stdout.splitlines() if "sam_" in line or "condor_" in line or "dcache" in line]
    assert len(lines) == 5 and all(line.split()[0] == "N/A" for line in lines), result.stdout
    assert all("last run 3h ago, longer than its interval + max age (1h + 1h 30m;" in line for line in lines), (
        result.stdout
    )
    assert "5 noinfo" in result.stdout and " UTC, 3h ago)" in result.stdout.splitlines()[0]
    fine = hfpanel("status", "--store", str(info.root), "--at", str(last))
    assert fine.returncode == 0, fine.stdout


def test_status_never_cuts_names(tmp_path):
    from store_factory import DEFAULT_SCENARIO, MODULES

    long_name = "a_module_with_a_really_very_long_name_that_goes_on"
    MODULES[long_name] = ("availability", "Long", {})
    try:
        scenario = [dict(run, **{long_name: {"health": 0.2}}) for run in DEFAULT_SCENARIO]
        info = build_store(tmp_path / "store", scenario=scenario)
    finally:
        del MODULES[long_name]
    result = hfpanel("status", "--store", str(info.root))
    assert long_name in result.stdout


def test_sql_prints_a_clean_table(store):
    result = hfpanel(
        "sql",
        "--store",
        str(store.root),
        "SELECT module, level FROM module_status WHERE time = (SELECT max(time) FROM runs) ORDER BY module",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["module", "level"] and lines[-1] == "(5 rows)"
    assert "..." not in result.stdout and not lines[1].startswith("0 ")  # no index column
    csv = hfpanel("sql", "--store", str(store.root), "--format", "csv", "SELECT 1 AS one, 'x' AS two")
    assert csv.stdout.splitlines() == ["one,two", "1,x"]
