"""Transfers at the demo site, as a user of `hfpanel demo` meets them: the /transfers tables are
filled, the feed and the site's FTS efficiency are rated, and the demo's SE incidents show in both."""

import calendar

import pandas as pd
import yaml

from hfpanel.config import load_config
from hfpanel.demo import payloads
from hfpanel.demo.run import backfill
from hfpanel.demo.simulator import Simulator, incident_schedule
from hfpanel.demo.site import demo_config
from hfpanel.demo.transfers import stream
from hfpanel.store import Store

START = pd.Timestamp("2026-11-01")
TRANSFER_MODULES = {"ingest_health", "transfer_efficiency"}


def at(hours: float) -> pd.Timestamp:
    return START + pd.Timedelta(hours=hours)


def test_demo_store_has_transfers_and_rates_them(demo_store):
    store = Store(demo_store)
    fts = store.sql(
        f"SELECT count(*) AS n, count(DISTINCT key) AS keys, "
        f"count(*) FILTER (WHERE src_hostname = '{payloads.SE_HOST}' "
        f"OR dst_hostname = '{payloads.SE_HOST}') AS at_se FROM {store.scan('fts_complete')}"
    ).iloc[0]
    assert fts["n"] > 1000 and fts["keys"] == fts["n"]  # about one a minute; a re-run doubles nothing
    assert fts["at_se"] > fts["n"] / 2
    stats = store.sql(
        f"SELECT src_site, dst_site, sum(transfers) AS transfers FROM {store.scan('transfer_stats_10m')} GROUP BY ALL"
    )
    sites = set(stats["src_site"]) | set(stats["dst_site"])
    assert {payloads.SITE, "T2_CH_CERN", "T1_US_FNAL"} <= sites
    assert stats["transfers"].sum() == fts["n"]
    assert store.sql(f"SELECT count(*) AS n FROM {store.scan('xrootd_close')}")["n"][0] > 200
    status = store.sql(
        "SELECT module, level FROM module_status WHERE module IN ('ingest_health', 'transfer_efficiency')"
    )
    assert set(status["module"]) == TRANSFER_MODULES
    now = store.status_at().set_index("module")
    assert now.loc["ingest_health", "level"] == "ok" and now.loc["transfer_efficiency", "level"] == "ok"
    assert now.loc["transfer_efficiency", "category"] == "transfers"


def test_demo_stream_is_deterministic_and_splits_cleanly():
    incidents = incident_schedule(START.to_pydatetime())
    t0 = calendar.timegm(at(43).timetuple())
    whole = stream(incidents, t0, t0 + 7200)
    halves = stream(incidents, t0, t0 + 3000) + stream(incidents, t0 + 3000, t0 + 7200)
    assert whole == halves and len(whole) > 100  # a resumed demo regenerates the same messages


def test_demo_transfers_follow_the_se_incidents(tmp_path):
    """The SE downtime: the site's transfers fail (its module shows downtime, as GOCDB declares it);
    the pool trouble: writes fail with 'No space left on device' and the module turns red."""
    with Simulator(start=START.to_pydatetime()) as sim:
        doc = demo_config(sim.serve("127.0.0.1", 0), str(tmp_path / "store"))
        doc["modules"] = [m for m in doc["modules"] if m["name"] in TRANSFER_MODULES | {"gocdb_downtimes"}]
        doc["categories"] = [c for c in doc["categories"] if c["name"] in {m["category"] for m in doc["modules"]}]
        (tmp_path / "site.yaml").write_text(yaml.safe_dump(doc))
        backfill(load_config(tmp_path / "site.yaml"), sim, at(43), at(55), quiet=True)
    store = Store(tmp_path / "store")
    site = payloads.SITE
    bins = (
        store.sql(
            f"SELECT time, sum(transfers) AS transfers, sum(successes) AS successes "
            f"FROM {store.scan('transfer_stats_10m')} WHERE src_site = ? OR dst_site = ? GROUP BY time",
            [site, site],
        )
        .set_index("time")
        .sort_index()
    )
    efficiency = lambda a, b: bins.loc[at(a) : at(b)].sum().pipe(lambda s: s["successes"] / s["transfers"])  # noqa: E731
    assert efficiency(42, 43.9) > 0.85 and efficiency(49.2, 51.9) > 0.85  # before and after
    assert efficiency(44, 48.9) < 0.2  # the SE is down
    inside = bins.loc[at(44) : at(48.9)]
    assert (inside["successes"] / inside["transfers"] < 0.5).mean() > 0.9  # bin by bin, not on average
    errors = store.sql(
        f"SELECT time, error_scope, error_category, failures, example "
        f"FROM {store.scan('transfer_errors_10m')} WHERE dst_site = ?",
        [site],
    )
    during = errors[(errors["time"] >= at(44)) & (errors["time"] < at(49))]
    assert during.groupby("error_category")["failures"].sum().idxmax() == "CONNECTION_REFUSED"
    pool = errors[(errors["time"] >= at(52)) & (errors["time"] < at(55))]
    space = pool[pool["error_category"] == "NO_SPACE_LEFT_ON_DEVICE"]
    assert set(space["error_scope"]) == {"DESTINATION"} and "No space left on device" in space["example"].iloc[0]
    assert errors[errors["time"] < at(52)]["error_category"].ne("NO_SPACE_LEFT_ON_DEVICE").all()

    status = store.sql("SELECT time, module, level, message FROM module_status")
    level = status.pivot(index="time", columns="module", values="level")
    efficiency_level = level["transfer_efficiency"].dropna()
    assert efficiency_level.loc[at(43)] == "ok"
    assert (efficiency_level.loc[at(44.5) : at(48.5)] == "downtime").all()  # red, but declared in GOCDB
    assert set(efficiency_level.loc[at(53) : at(55)]) & {"warning", "critical"}  # not declared: red
    assert (efficiency_level.loc[at(50.5) : at(52)] == "ok").all()
    assert (level["ingest_health"].dropna() == "ok").all()  # the feed itself never stopped
