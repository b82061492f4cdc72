"""A store whose module detail table holds numbers of every unit the app formats (bytes, rates,
durations in seconds and milliseconds, fractions, ids, an epoch in milliseconds, a percentage
already in percent), for the tests of how tables show them."""

from __future__ import annotations

import copy

from store_factory import DEFAULT_SCENARIO, build_store

#: the detail rows of ``dcache_pools`` (raw values; the expected text comes from hfpanel.units)
UNIT_ROWS = [
    {
        "pool": "pool-a",
        "total_bytes": 1_600_000_000,
        "throughput": 33_200_000.0,
        "duration_s": 48.0,
        "transfer_ms": 48_200,
        "job_id": 123456789,
        "used_fraction": 0.931,
        "hit_ratio": 90.2,
        "tested_ms": 1_796_598_139_000,
    },
    {
        "pool": "pool-b",
        "total_bytes": 950_000_000,
        "throughput": 1_234.0,
        "duration_s": 0.25,
        "transfer_ms": 3_900_000,
        "job_id": 987654321,
        "used_fraction": 1.0,
        "hit_ratio": 75.0,
        "tested_ms": 1_796_598_285_000,
    },
    {
        "pool": "pool-c",
        "total_bytes": 12_300_000_000_000,
        "throughput": 2_500_000_000.0,
        "duration_s": 190_800.0,
        "transfer_ms": 120,
        "job_id": 5,
        "used_fraction": 0.0,
        "hit_ratio": 99.9,
        "tested_ms": 1_796_599_803_000,
    },
]
#: column → the unit the tables show it in (None: a plain number)
UNITS = {
    "total_bytes": "bytes",
    "throughput": "rate",
    "duration_s": "seconds",
    "transfer_ms": "millis",
    "job_id": "id",
    "used_fraction": "percent",
    "hit_ratio": None,  # 90.2 is a percentage already, not a fraction
    "tested_ms": "id",  # an epoch in milliseconds, not a duration
}


def build_units_store(root):
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    for run in scenario:
        run["dcache_pools"]["rows"] = UNIT_ROWS
    return build_store(root, scenario)
