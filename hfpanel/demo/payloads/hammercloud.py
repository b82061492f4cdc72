"""HammerCloud's ``xhr/json`` API (``action=results`` / ``results_at_site``): the sub-jobs of the
site's functional test streams, with ganga status and submit/start/stop times.
"""

from __future__ import annotations

from datetime import datetime

from .common import SE_DOWNTIME, SITE, dumps, epoch, from_epoch, rng

#: test id -> (template id, template description, uses local storage)
HC_TESTS = {
    20451137: (98, "CMS CRAB3 MiniAOD analysis (golden)", True),
    20451140: (101, "CMS CRAB3 NanoAOD remote read (AAA)", False),
    20451143: (107, "CMS CRAB3 MiniAOD lazy-download (XCache)", True),
}
HC_EVERY_S, HC_WINDOW_S = 600, 4 * 3600


def hammercloud_results(w, now: datetime, test: int) -> list[dict]:
    """Sub-jobs of one HC test submitted during the last 4 hours (one every 10 minutes)."""
    index = list(HC_TESTS).index(test)
    _, _, local = HC_TESTS[test]
    now_s, results = epoch(now), []
    first = (now_s - HC_WINDOW_S) // HC_EVERY_S + 1
    for slot in range(first, now_s // HC_EVERY_S + 1):
        r = rng(w.seed, "hc", test, slot)
        submit = slot * HC_EVERY_S + r.randrange(0, 60)
        start = submit + r.randrange(120, 1500)
        stop = start + r.randrange(900, 3600)
        if submit > now_s:
            continue
        running_at = from_epoch(start + 300)
        failed = r.random() < (0.95 if local and w.active(SE_DOWNTIME, running_at) else 0.015)
        if failed:
            stop = start + r.randrange(60, 600)
        if now_s < start:
            status, start_time, stop_time = "s", None, None
        elif now_s < stop:
            status, start_time, stop_time = "r", start, None
        else:
            status, start_time, stop_time = ("f" if failed else "c"), start, stop
        iso = lambda s: from_epoch(s).isoformat() if s is not None else None  # noqa: E731
        results.append(
            {
                "id": 900_000_000 + (slot % 10_000_000) * 10 + index,
                "site": SITE,
                "ganga_status": status,
                "start_time": iso(start_time),
                "submit_time": iso(submit),
                "stop_time": iso(stop_time),
                "backendID": str(6_500_000_000 + (slot % 10**8) * 4 + index),
            }
        )
    return results


def hammercloud(w, now: datetime, action: str, test: int) -> str:
    results = hammercloud_results(w, now, test)
    if action == "results_at_site":
        return dumps({str(test): {"results_at_site": {SITE: results}}})
    return dumps({str(test): {"results": results}})
