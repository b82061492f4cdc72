"""The demo site as a new user meets it: `hfpanel demo --no-serve` builds a living store."""

import subprocess
import sys

import pandas as pd

from hfpanel.config import load_config
from hfpanel.demo import payloads
from hfpanel.demo.run import backfill
from hfpanel.demo.simulator import Simulator
from hfpanel.demo.site import write_demo_config
from hfpanel.store import Store

#: every collector type the demo uses: the generic ones and every source-specific one
COLLECTORS = {
    "http_json",
    "http_csv",
    "html_table",
    "http_xml",
    "command",
    "sam",
    "hammercloud",
    "htcondor_jobs",
    "htcondor_slots",
    "dcache_pools",
    "gocdb_downtimes",
    "cric_topology",
    "rucio_rules",
    "ingest_health",
    "transfer_efficiency",
}


def test_demo_backfill_builds_a_realistic_site(demo_store, demo_start):
    store = Store(demo_store)
    runs = store.runs()
    assert len(runs) >= 96  # a day of 15-minute runs
    assert (runs["time"].diff().dropna() == pd.Timedelta(minutes=15)).all()
    now = store.status_at()
    assert now["category"].nunique() >= 6 and len(now) >= 20
    assert set(now["collector"]) == COLLECTORS
    assert (now["level"] != "noinfo").all(), now[now["level"] == "noinfo"][["module", "message"]]
    config = load_config(demo_store.parent / "demo-store.site.yaml")
    assert all(m.instruction and m.links for m in config.modules)
    check = subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "config", "check", str(demo_store.parent / "demo-store.site.yaml")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_demo_incident_a_ce_goes_critical_for_hours(demo_store, demo_start):
    store = Store(demo_store)
    history = store.module_history("sam_ce").set_index("time")
    before = history.loc[demo_start + pd.Timedelta(hours=19, minutes=45), "level"]
    during = history.loc[demo_start + pd.Timedelta(hours=21), ["level", "message"]]
    assert before == "ok"
    assert during["level"] == "critical" and "ce02" in during["message"]
    critical_hours = (history["level"] == "critical").sum() / 4
    assert critical_hours >= 3
    held = store.sql("SELECT time, value FROM metrics WHERE module = 'condor_held' AND metric = 'held' ORDER BY time")
    held = held.set_index("time")["value"]
    assert held.loc[demo_start + pd.Timedelta(hours=23)] > held.loc[demo_start + pd.Timedelta(hours=19)]
    services = store.detail("sam_ce", "services", at=demo_start + pd.Timedelta(hours=21))
    critical = services[services["status"] == "CRITICAL"]
    assert list(critical["host"]) == [payloads.fqdn(payloads.FAILING_CE)]
    held_jobs = store.detail("condor_held", "hold_reasons", at=demo_start + pd.Timedelta(hours=23))
    assert 13 in set(held_jobs["hold_code"])  # the spool disk: a transfer/spool hold


def test_demo_resumes_instead_of_rebuilding(demo_store):
    runs = Store(demo_store).runs()
    before, last = len(runs), pd.Timestamp(runs["time"].max())
    result = subprocess.run(
        [sys.executable, "-m", "hfpanel.cli", "demo", "--no-serve", "--store", str(demo_store), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    after = Store(demo_store).runs()
    due = int((pd.Timestamp.now(tz="UTC").tz_localize(None) - last) / pd.Timedelta(minutes=15)) + 1
    assert len(after) - before <= due  # only the runs that came due since the fixture was built
    assert after["run_id"].is_unique and after["time"].is_unique


def test_demo_source_that_goes_away_and_comes_back(tmp_path):
    start = pd.Timestamp("2026-11-01")
    with Simulator(start=start.to_pydatetime(), hang_seconds=3.0) as sim:
        base = sim.serve("127.0.0.1", 0)
        config = load_config(write_demo_config(tmp_path / "site.yaml", base, str(tmp_path / "store")))
        backfill(config, sim, start + pd.Timedelta(hours=29), start + pd.Timedelta(hours=35), quiet=True)
    history = Store(tmp_path / "store").module_history("hc_template_98").set_index("time")
    level = history["level"]
    at = lambda h: start + pd.Timedelta(hours=h)  # noqa: E731
    assert level.loc[at(29.5)] != "noinfo"
    assert level.loc[at(31)] == "noinfo" and "HTTP 503" in history.loc[at(31), "error"]
    assert level.loc[at(33)] == "noinfo" and "timed out" in history.loc[at(33), "error"]
    assert level.loc[at(34.5)] != "noinfo"  # back
    others = Store(tmp_path / "store").status_at(at(31))
    assert (others[~others["module"].str.startswith("hc_")]["level"] != "noinfo").all()


def test_demo_se_downtime_is_downtime_not_red(tmp_path):
    """The scheduled GOCDB OUTAGE of the SE: its SAM tests and door probes fail, but the runner shows them
    as "downtime" (from the gocdb_downtimes module's table) and the storage category stays out of the red."""
    start = pd.Timestamp("2026-11-01")
    at = lambda h: start + pd.Timedelta(hours=h)  # noqa: E731
    with Simulator(start=start.to_pydatetime()) as sim:
        config = load_config(
            write_demo_config(tmp_path / "site.yaml", sim.serve("127.0.0.1", 0), str(tmp_path / "store"))
        )
        backfill(config, sim, at(43), at(50), quiet=True)
        begins, ends = sim.incident("se_downtime").begins, sim.incident("se_downtime").ends
    assert (begins, ends) == (at(44), at(49))
    store = Store(tmp_path / "store")
    status = store.sql("SELECT time, module, level, message FROM module_status")
    level = status.pivot(index="time", columns="module", values="level")
    message = status.pivot(index="time", columns="module", values="message")
    during = level.loc[at(44.5) : at(48.75)]  # the SE tests run every 30 min: the first fail after 44:00
    assert len(during) == 18
    for module in ("sam_se", "probe_webdav_door", "probe_xrootd_door"):
        assert level.loc[at(43.75), module] == "ok", module
        assert (during[module] == "downtime").all(), (module, during[module].value_counts())
        assert "GOCDB downtime 38472" in message.loc[at(46), module]
    assert (level.loc[at(44) : at(48.75), ["probe_webdav_door", "probe_xrootd_door"]] == "downtime").all().all()
    assert (level.loc[at(49) :, ["probe_webdav_door", "probe_xrootd_door"]] == "ok").all().all()  # doors back
    assert (level.loc[at(49.5) :, "sam_se"] == "ok").all()  # once the SE tests ran again
    services = store.detail("sam_se", "services", at=at(46))  # failing rows labelled by host, as GOCDB names them
    assert set(services["host"]) == {payloads.SE_HOST, payloads.XROOTD_HOST}
    assert set(services["status"]) == {"CRITICAL"}
    downtimes = store.detail("gocdb_downtimes", "downtimes", at=at(46))
    assert set(downtimes.loc[downtimes["severity"] == "OUTAGE", "hostname"]) == set(services["host"])
    categories = store.sql("SELECT time, category, level FROM category_status").pivot(
        index="time", columns="category", values="level"
    )
    assert (categories.loc[at(43) : at(50), "storage"] == "ok").all()  # the doors' outage does not turn it red
    assert (categories.loc[at(44) : at(48.75), "availability"] == "ok").all()
    runs = store.runs()
    assert runs.set_index("time").loc[at(46), "downtime"] >= 3


def test_warnings_during_the_backfill_do_not_break_the_progress_bar(tmp_path, capfd):
    """The scripted HammerCloud outage makes the collectors warn (retries of an HTTP 503) while the
    first start's progress bar runs: each warning is a line of its own, never glued to the bar."""
    import logging

    from hfpanel.logs import FORMAT

    start = pd.Timestamp("2026-11-01")
    handler = logging.StreamHandler(sys.stderr)  # what `hfpanel demo` logs through (logs.setup)
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.getLogger().addHandler(handler)
    try:
        with Simulator(start=start.to_pydatetime()) as sim:
            base = sim.serve("127.0.0.1", 0)
            config = load_config(write_demo_config(tmp_path / "site.yaml", base, str(tmp_path / "store")))
            backfill(config, sim, start + pd.Timedelta(hours=30.5), start + pd.Timedelta(hours=31))
    finally:
        logging.getLogger().removeHandler(handler)
    err = capfd.readouterr().err
    pieces = [p.strip() for p in err.replace("\r", "\n").split("\n")]
    warnings = [p for p in pieces if "WARNING" in p]
    assert any("HTTP 503" in w for w in warnings), err[-2000:]
    assert all(not w.startswith("backfilling runs") and "|" not in w.split("WARNING")[0] for w in warnings), warnings
    assert any(p.startswith("backfilling runs") and "3/3" in p for p in pieces)  # the bar reached its end
