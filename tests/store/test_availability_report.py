"""A/R from a store the real runner wrote: the profile stored with the runs, corrections recorded
after the fact (originals kept), GOCDB scheduled outages, and ``hfpanel report``'s outputs."""

import dataclasses
import io
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from store_factory_reports import DAY, build_ar_store

from hfpanel.availability import corrections
from hfpanel.cli import main
from hfpanel.queries.availability import ar_report, month_window
from hfpanel.reports.export import to_csv
from hfpanel.store import Store, StoreWriter

NOVEMBER = month_window("2026-11")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_ar_store(tmp_path_factory.mktemp("ar") / "store")


@pytest.fixture
def ar_store(built, tmp_path):
    """A fresh copy of the day of runs (the runner is slow to repeat; corrections change the store)."""
    return dataclasses.replace(built, root=Path(shutil.copytree(built.root, tmp_path / "store")))


def site(report, which="result"):
    summary = getattr(report, which).summary
    return summary[summary["scope"] == "site"].iloc[0]


def day_of(report, scope="site"):
    daily = report.result.daily
    return daily[(daily["scope"] == scope) & (daily["day"] == DAY)].iloc[0]


def test_the_worked_example_through_the_runner_and_a_downtime_added_after_the_fact(ar_store, capsys):
    """The last 4 h were a scheduled downtime GOCDB never announced: recorded afterwards, R goes from
    27.78 % to 35.71 % while the stored runs and the original figures stay as they were."""
    with Store(ar_store.root) as store:
        before = ar_report(store, *NOVEMBER)
    assert before.profile == "wlcg" and before.site == "T2_XX_TEST"
    day = day_of(before)
    assert round(100 * day["availability"], 2) == 27.78 and round(100 * day["reliability"], 2) == 27.78

    code = main(
        [
            "report",
            "downtime",
            "--store",
            str(ar_store.root),
            "--from",
            "2026-11-03T20:00",
            "--to",
            "2026-11-04T00:00",
            "--reason",
            "power work announced by mail only",
            "--who",
            "alice",
        ]
    )
    assert code == 0
    key = capsys.readouterr().out.split()[-1]
    with Store(ar_store.root) as store:
        after = ar_report(store, *NOVEMBER)
        stored = store.sql("SELECT count(*) AS n FROM module_status WHERE level = 'downtime'")["n"].iloc[0]
    day = day_of(after)
    assert round(100 * day["availability"], 2) == 27.78 and round(100 * day["reliability"], 2) == 35.71
    assert stored == 0  # the stored runs are unchanged
    original = after.original.daily
    original = original[(original["scope"] == "site") & (original["day"] == DAY)].iloc[0]
    assert round(100 * original["reliability"], 2) == 27.78  # the original is shown beside
    (row,) = after.corrections.itertuples()
    assert (row.id, row.kind, row.who, row.reason) == (key, "downtime", "alice", "power work announced by mail only")

    # the month: the last row (max_age 90m) holds 30 min into the 4th, the rest of the month is
    # unknown — never counted as up
    month = site(after)
    assert round(100 * month["availability"], 2) == round(100 * 5 / 18.5, 2)
    assert round(month["unknown_share"], 4) == round((6 + 23.5 + 24 * 28) / (24 * 30), 4)
    other = after.result.daily[
        (after.result.daily["scope"] == "site") & (after.result.daily["day"] == DAY + pd.Timedelta(days=2))
    ]
    assert math.isnan(other["availability"].iloc[0]) and other["unknown_share"].iloc[0] == 1.0


def test_an_exclusion_is_shown_and_a_withdrawal_takes_it_back_on_record(ar_store, capsys):
    args = ["--store", str(ar_store.root)]
    assert (
        main(
            [
                "report",
                "exclude",
                *args,
                "--from",
                "2026-11-03T05:00",
                "--to",
                "2026-11-03T14:00",
                "--module",
                "sam_ce",
                "--reason",
                "SAM probe broken (GGUS 123)",
                "--who",
                "bob",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.split()[-1]
    with Store(ar_store.root) as store:
        excluded = ar_report(store, *NOVEMBER)
    day = day_of(excluded)
    assert (day["hours_excluded"], day["hours_down"]) == (9, 4)
    assert day["availability"] == 5 / 9  # 9 critical hours were the monitoring's fault: 5 h up of 9 h known

    assert main(["report", "ar", *args, "--month", "2026-11"]) == 0
    text = capsys.readouterr().out
    assert f"exclusion {key}" in text and "SAM probe broken (GGUS 123) (bob," in text

    assert main(["report", "withdraw", *args, key, "--reason", "the probe was right after all", "--who", "carol"]) == 0
    capsys.readouterr()
    with Store(ar_store.root) as store:
        withdrawn = ar_report(store, *NOVEMBER)
        recorded = corrections.load(store)
    assert day_of(withdrawn)["hours_excluded"] == 0
    assert list(recorded["kind"]) == ["exclusion", "withdrawal"] and recorded["withdrawn_by"].iloc[0] != ""


def test_csv_and_json_carry_every_scope_and_day(ar_store, tmp_path, capsys):
    out = tmp_path / "ar.csv"
    assert (
        main(
            ["report", "ar", "--store", str(ar_store.root), "--month", "2026-11", "--format", "csv", "--out", str(out)]
        )
        == 0
    )
    frame = pd.read_csv(out)
    month = frame[(frame["scope"] == "site") & (frame["period"] == "2026-11")].iloc[0]
    assert month["availability"] == 27.03 and month["hours_down"] == 13.5
    assert set(frame["scope"]) == {"site", "group", "module"}
    assert len(frame[(frame["scope"] == "site") & (frame["period"] != "2026-11")]) == 30
    assert main(["report", "ar", "--store", str(ar_store.root), "--month", "2026-11", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = {(r["scope"], r["name"], r["period"]): r for r in document["rows"]}
    assert rows[("site", "wlcg", "2026-11-05")]["availability"] is None
    assert round(rows[("site", "wlcg", "2026-11-03")]["availability"], 4) == 0.2778


def test_or_profile_from_the_stored_configuration_and_its_date(tmp_path):
    """CE = sam_ce OR sam_ce2 from 2026-11-03 on: the critical sam_ce no longer brings the site down."""
    built = build_ar_store(tmp_path / "store", script="c" * 6, or_from="2026-11-03")
    with Store(built.root) as store:
        report = ar_report(store, *NOVEMBER)
    assert day_of(report)["availability"] == 1.0
    assert day_of(report, "group")["profile"] == "wlcg from 2026-11-03"


def test_scheduled_gocdb_outages_stored_with_the_runs_count_as_downtime(ar_store):
    """A GOCDB module's stored table announces a scheduled OUTAGE of ce1 (sam_ce's host) 20:00-24:00."""
    when = DAY + pd.Timedelta(hours=19)
    outage = pd.DataFrame(
        [
            {
                "run_id": "g1",
                "time": when,
                "module": "gocdb",
                "id": 4711,
                "hostname": "ce1.example.org",
                "severity": "OUTAGE",
                "classification": "SCHEDULED",
                "start": DAY + pd.Timedelta(hours=20),
                "end": DAY + pd.Timedelta(hours=24),
            }
        ]
    )
    status = pd.DataFrame(
        [
            {
                "run_id": "g1",
                "time": when,
                "category": "availability",
                "module": "gocdb",
                "collector": "gocdb_downtimes",
                "status": 1.0,
                "level": "ok",
                "message": "1 downtime",
            }
        ]
    )
    with StoreWriter(ar_store.root) as writer:
        writer.write({"detail__gocdb__downtimes": outage, "module_status": status})
    with Store(ar_store.root) as store:
        report = ar_report(store, *NOVEMBER)
    day = day_of(report)
    assert day["hours_downtime"] == 4 and round(100 * day["reliability"], 2) == 35.71
    original = report.original.daily
    original = original[(original["scope"] == "site") & (original["day"] == DAY)].iloc[0]
    assert round(100 * original["reliability"], 2) == 35.71  # announced in GOCDB: not a correction


def test_report_mistakes_are_one_line_errors(ar_store, capsys):
    args = ["--store", str(ar_store.root)]
    assert main(["report", "ar", *args, "--month", "November"]) == 2
    assert "--month: not a month: 'November' (e.g. 2026-11)" in capsys.readouterr().err
    assert main(["report", "ar", *args, "--month", "2026-11", "--profile", "cms"]) == 2
    assert "no availability profile 'cms' (profiles: wlcg)" in capsys.readouterr().err
    assert (
        main(["report", "exclude", *args, "--from", "2026-11-03T05:00", "--to", "2026-11-03T04:00", "--reason", "x"])
        == 2
    )
    assert "must be after --from" in capsys.readouterr().err
    assert (
        main(
            [
                "report",
                "exclude",
                *args,
                "--from",
                "2026-11-03",
                "--to",
                "2026-11-04",
                "--module",
                "nope",
                "--reason",
                "x",
            ]
        )
        == 2
    )
    assert "--module: no module 'nope'" in capsys.readouterr().err
    assert main(["report", "withdraw", *args, "abc", "--reason", "x"]) == 2
    assert "no correction 'abc'" in capsys.readouterr().err
    with Store(ar_store.root) as store:
        assert not store.has_table(corrections.TABLE)  # nothing was recorded by a refused correction


def test_csv_writer_rounds_percentages(ar_store):
    with Store(ar_store.root) as store:
        report = ar_report(store, *NOVEMBER)
    buffer = io.StringIO()
    to_csv(report, buffer)
    assert "27.78" in buffer.getvalue()
