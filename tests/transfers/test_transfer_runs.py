"""After an aggregation, the modules reading the transfer statistics run at once: a site's transfers
going bad is a level change, an incident and a message minutes after the data — and the collector's
own runner, which did not see that run, neither derives the change again nor sends it twice."""

from __future__ import annotations

import time

import pytest
import yaml
from notify_servers import WebhookSink
from test_transfer_aggregate import SITES, commit, fts

from hfpanel.cli import main
from hfpanel.config import load_config
from hfpanel.runner import Runner
from hfpanel.store import Store, StoreWriter
from hfpanel.transfer_runs import transfer_modules


@pytest.fixture
def hook():
    with WebhookSink() as sink:
        yield sink


def site_file(tmp_path, root, hook_url) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "site": "T2_CH_CERN",
                "store": str(root),
                "transfers": {"sites": SITES},
                "categories": [{"name": "transfers"}, {"name": "compute"}],
                "modules": [
                    {
                        "name": "cern_transfers",
                        "category": "transfers",
                        "collector": "transfer_efficiency",
                        "params": {"store": str(root), "site": "T2_CH_CERN", "window": "1h"},
                        "interval": "1h",
                    },
                    {
                        "name": "elsewhere",
                        "category": "transfers",
                        "collector": "transfer_efficiency",
                        "params": {"store": str(tmp_path / "other"), "site": "T2_CH_CERN"},
                    },
                    {
                        "name": "ce",
                        "category": "compute",
                        "collector": "command",
                        "params": {"argv": ["true"], "output": "exit_code"},
                    },
                ],
                "notifications": {
                    "receivers": [{"name": "hook", "webhook": {"url": hook_url, "timeout": "5s"}}],
                    "rules": [
                        {
                            "name": "transfers",
                            "match": {"category": ["transfers"], "level": ["critical"]},
                            "receivers": ["hook"],
                        }
                    ],
                },
            }
        )
    )
    return str(path)


def level_changes(root) -> list[tuple[str, str]]:
    with Store(root) as store:
        frame = store.sql("SELECT module, after FROM events WHERE kind = 'level_changed' ORDER BY time")
    return list(zip(frame["module"], frame["after"]))


def runs(root) -> int:
    with Store(root) as store:
        return int(store.sql("SELECT count(*) AS n FROM runs")["n"].iloc[0])


def test_an_aggregation_runs_the_transfer_modules_and_the_collector_does_not_repeat_their_events(
    tmp_path, hook, capsys
):
    root = tmp_path / "store"
    config = site_file(tmp_path, root, hook.url)
    assert transfer_modules(load_config(config), root) == ["cern_transfers"]  # not the one reading elsewhere
    now = int(time.time())
    commit(root, [fts(f"ok{i}", now - 1800) for i in range(16)])
    assert main(["transfers", "aggregate", "--config", config]) == 0
    assert "then run " in capsys.readouterr().out
    collector = Runner(load_config(config))  # the collector process, running beside the aggregations
    with StoreWriter(root) as writer:
        collector.run_once(writer, force=True)
    assert runs(root) == 2 and hook.bodies == []

    commit(root, [fts(f"bad{i}", now - 600, ok=False, scope="SOURCE", message="no file") for i in range(30)])
    assert main(["transfers", "aggregate", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "cern_transfers critical" in out and "ce " not in out  # only the module reading these statistics
    assert level_changes(root).count(("cern_transfers", "critical")) == 1
    assert [b["status"] for b in hook.bodies] == ["firing"]  # sent by the aggregation's run, at once

    with StoreWriter(root) as writer:  # the collector's next run: it must not trust what it remembers
        summary = collector.run_once(writer, force=True)
        from hfpanel.events.outbox import dispatch

        dispatch(writer, load_config(config))
    assert summary.committed and "critical" in set(summary.statuses["level"])
    assert level_changes(root).count(("cern_transfers", "critical")) == 1
    assert [b["status"] for b in hook.bodies] == ["firing"]

    assert main(["transfers", "aggregate", "--config", config]) == 0  # nothing new: no run
    assert "then run" not in capsys.readouterr().out and runs(root) == 4


def test_an_aggregation_by_store_alone_runs_no_module(tmp_path, hook, capsys):
    root = tmp_path / "store"
    site_file(tmp_path, root, hook.url)
    commit(root, [fts(f"ok{i}", int(time.time()) - 1800) for i in range(16)])
    assert main(["transfers", "aggregate", "--store", str(root)]) == 0
    assert "then run" not in capsys.readouterr().out
    assert not Store(root).has_table("runs")


def test_a_busy_store_puts_the_run_off_to_the_next_aggregation(tmp_path, hook):
    """The daemon never waits for the collector's lock: the run is owed, and the next aggregation
    runs it even when it folded nothing new."""
    from hfpanel.transfer_runs import follower
    from hfpanel.transfers.aggregate import aggregate
    from hfpanel.transfers.config import load_transfers

    root = tmp_path / "store"
    config = site_file(tmp_path, root, hook.url)
    follow = follower(config, wait=0.0, root=root)
    commit(root, [fts(f"ok{i}", int(time.time()) - 1800) for i in range(16)])
    summary = aggregate(root, load_transfers(config, need_subscriptions=False))
    with StoreWriter(root):  # the collector, mid-run
        assert follow(summary) is None  # put off, not waited for
    assert not Store(root).has_table("runs")
    nothing_new = aggregate(root, load_transfers(config, need_subscriptions=False))
    assert nothing_new.nothing_new
    run = follow(nothing_new)
    assert run is not None and run.committed and runs(root) == 1
    assert follow(aggregate(root, load_transfers(config, need_subscriptions=False))) is None  # paid: nothing owed
