"""``hfpanel handover`` and its page: what changed level (from the stored events), what is not green
and since when, downtimes of the next shift, A/R so far; Markdown escaped, links to time travel, PDF."""

import io

import pandas as pd
import pytest
from panel.io.location import Location
from pypdf import PdfReader
from store_factory_reports import DAY, build_ar_store

from hfpanel.availability import corrections
from hfpanel.cli import main
from hfpanel.components.handover import HandoverView
from hfpanel.reports.handover import handover, to_markdown
from hfpanel.store import Store, StoreWriter

HOSTILE = "<script>alert(1)</script> [click](http://evil) **bold**"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    built = build_ar_store(tmp_path_factory.mktemp("handover") / "store")
    when = DAY + pd.Timedelta(hours=15)
    announced = pd.DataFrame(
        [
            {
                "run_id": "g1",
                "time": when,
                "module": "gocdb",
                "id": 99,
                "hostname": "se1.example.org",
                "severity": "OUTAGE",
                "classification": "SCHEDULED",
                "start": DAY + pd.Timedelta(hours=18),
                "end": DAY + pd.Timedelta(hours=20),
                "description": HOSTILE,
            },
            {
                "run_id": "g1",
                "time": when,
                "module": "gocdb",
                "id": 98,
                "hostname": "ce9.example.org",
                "severity": "WARNING",
                "classification": "SCHEDULED",
                "start": DAY - pd.Timedelta(days=1),
                "end": DAY + pd.Timedelta(days=3),
                "description": "already running",
            },
        ]
    )
    with StoreWriter(built.root) as writer:
        writer.write({"detail__gocdb__downtimes": announced})
        corrections.record(
            writer,
            corrections.correction_row(
                "downtime", DAY + pd.Timedelta(hours=17), DAY + pd.Timedelta(hours=19), "", "UPS test", "erin"
            ),
        )
    return built.root


def test_the_shift_in_markdown(root):
    with Store(root) as store:
        shift = handover(
            store, DAY + pd.Timedelta(hours=6), DAY + pd.Timedelta(hours=16), base_url="https://hf.example.org/"
        )
    assert shift.events_stored
    assert list(zip(shift.changes["module"], shift.changes["before"], shift.changes["after"])) == [
        ("sam_ce", "critical", "noinfo")
    ]
    text = to_markdown(shift)
    assert "# Shift handover — T2\\_XX\\_TEST" in text
    assert (
        "- [2026-11-03 14:00 UTC](https://hf.example.org/?time=2026-11-03T14%3A00%3A00&module=sam_ce) "
        "**sam\\_ce** CRITICAL → NO INFO" in text
    )
    assert (
        "- **NO INFO** [sam\\_ce](https://hf.example.org/?time=2026-11-03T16%3A00%3A00&module=sam_ce) since 2026-11-03 14:00 UTC"
        in text
    )
    # the next shift's downtimes: GOCDB's (escaped) and one added after the fact; not the one already running
    assert (
        "- [2026-11-03 18:00 UTC](https://hf.example.org/?time=2026-11-03T18%3A00%3A00) to 2026-11-03 20:00 UTC "
        "se1.example.org: GOCDB 99 outage (scheduled)" in text
    )  # a permalink to the time-travel view at its start, for whoever reads the e-log later
    assert "&lt;script&gt;" in text and "<script>" not in text and "\\[click\\](http://evil)" in text
    assert "whole site: added by erin: UPS test" in text and "ce9.example.org" not in text
    assert "| site | wlcg |" in text
    assert "This store keeps no incidents (no notification rules were configured)." in text


def test_cli_markdown_and_pdf(root, tmp_path, capsys):
    args = ["handover", "--store", str(root), "--from", "2026-11-03T06:00", "--to", "2026-11-03T16:00"]
    assert main(args) == 0
    assert "## Changed level during the shift (1)" in capsys.readouterr().out
    out = tmp_path / "handover.pdf"
    assert main([*args, "--format", "pdf", "--out", str(out)]) == 0
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Shift handover" in text and "sam_ce" in text and "UPS test" in text
    assert main(["handover", "--store", str(root), "--from", "2026-11-03T16:00", "--to", "2026-11-03T06:00"]) == 2
    assert "a shift needs a start before its end" in capsys.readouterr().err
    assert main(["handover", "--store", str(root), "--format", "pdf"]) == 2
    assert "--format pdf needs --out FILE" in capsys.readouterr().err


def test_the_page_takes_the_shift_from_its_url(root):
    view = HandoverView(store=root)
    view.sync_url(Location(search="?from=2026-11-03T06%3A00%3A00&to=2026-11-03T16%3A00%3A00"))
    assert view.failure is None and view.handover.until == DAY + pd.Timedelta(hours=16)
    assert "CRITICAL → NO INFO" in view._markdown.object
    assert view.markdown_bytes().getvalue().decode() == view._markdown.object
    assert PdfReader(io.BytesIO(view.pdf_bytes().getvalue())).pages


def test_incidents_opened_acknowledged_and_resolved_with_who_and_why(tmp_path, monkeypatch):
    """A shift with notification rules: the handover names each incident opened, who acknowledged or
    silenced what and why (the real ``hfpanel ack`` / ``silence add``), what resolved and after how
    long, and what is still open — each linked to the time-travel view; the next shift sees only its own."""
    from event_sites import EventSite, notifying

    import hfpanel.clock

    store_dir = tmp_path / "store"
    site = EventSite(
        store_dir, {"ce": "availability", "pool": "storage"}, notifications=notifying(hook_url="http://127.0.0.1:9/x")
    )
    site.run({})  # 00:00
    site.run({"ce": {"health": 0.1}})  # 00:15 the CE goes critical
    ce_incident = site.table("incidents")["incident_id"].iloc[0]
    monkeypatch.setattr(hfpanel.clock, "utcnow", lambda: pd.Timestamp("2026-11-20 00:20"))
    assert (
        main(["ack", ce_incident[:12], "--store", str(store_dir), "--author", "dana", "--comment", f"on it {HOSTILE}"])
        == 0
    )
    site.run({"ce": {"health": 0.1}, "pool": {"health": 0.1}})  # 00:30 the pool too
    site.run({"pool": {"health": 0.1}})  # 00:45 the CE is fine again
    monkeypatch.setattr(hfpanel.clock, "utcnow", lambda: pd.Timestamp("2026-11-20 00:50"))
    args = [
        "silence",
        "add",
        "--store",
        str(store_dir),
        "--match",
        "module=pool",
        "--comment",
        "disk swap",
        "--for",
        "2h",
    ]
    assert main([*args, "--author", "erin"]) == 0
    site.run({"pool": {"health": 0.1}})  # 01:00
    site.run({"pool": {"health": 0.1}})  # 01:15
    with Store(store_dir) as store:
        shift = handover(store, "2026-11-20T00:00", "2026-11-20T01:00", base_url="https://hf.example.org")
        later = to_markdown(handover(store, "2026-11-20T01:00", "2026-11-20T01:15"))
    text = to_markdown(shift)
    assert "Opened during the shift (2):" in text
    assert (
        "- [2026-11-20 00:15 UTC](https://hf.example.org/?time=2026-11-20T00%3A15%3A00&module=ce) **ce** (critical, CRITICAL): resolved 2026-11-20 00:45 UTC"
        in text
    )
    assert "**dana**: on it &lt;script&gt;" in text and "<script>" not in text
    assert "acknowledged by **dana**" in text
    assert "- 2026-11-20 00:50 UTC silenced module=pool — **erin**: disk swap" in text
    assert "Resolved during the shift (1):" in text and "after 30m (opened 2026-11-20 00:15 UTC)" in text
    assert "Still open at handover (1):" in text and "**pool**" in text and "not acknowledged" in text
    assert "None opened during the shift." in later and "Nobody acknowledged or silenced anything" in later
    assert "Still open at handover (1):" in later


def test_a_shift_ending_after_the_collector_stopped_hands_over_no_information(tmp_path):
    """The collector stopped 3 hours before the end of the shift with every module fine (interval
    1h + max age 90m): the handover's "not green at the end" names every module as no information, with the
    data's age — not an empty list."""
    from store_factory import DEFAULT_SCENARIO, MODULES, build_store

    from hfpanel.clock import utcnow

    end = utcnow().floor("min")
    info = build_store(tmp_path / "store", scenario=DEFAULT_SCENARIO[:1], end=end - pd.Timedelta(hours=3))
    with Store(info.root) as store:
        shift = handover(store, end - pd.Timedelta(hours=8), end)
        at_the_run = handover(store, end - pd.Timedelta(hours=8), info.times[-1])
    assert sorted(shift.open["module"]) == sorted(MODULES)
    assert set(shift.open["level"]) == {"noinfo"}
    assert all("last run 3h ago, longer than its interval + max age (1h + 1h 30m;" in m for m in shift.open["message"])
    assert at_the_run.open.empty
