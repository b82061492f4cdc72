"""Write synthetic runs straight through StoreWriter (used by the store tests and the kill test)."""

import sys

import pandas as pd

MODULES = [f"m{i:02d}" for i in range(12)]


def synthetic_run(i: int, rows_per_module: int = 1) -> dict[str, pd.DataFrame]:
    time = pd.Timestamp("2026-11-20") + pd.Timedelta(minutes=15 * i)
    run_id = f"run-{i:05d}"
    status = pd.DataFrame(
        {
            "run_id": run_id,
            "time": time,
            "category": "c",
            "module": MODULES,
            "status": [(i + k) % 3 / 2 for k in range(len(MODULES))],
            "level": "ok",
            "message": f"run {i}",
        }
    )
    detail = pd.DataFrame(
        {
            "run_id": run_id,
            "time": time,
            "module": "m00",
            "host": [f"wn{j:04d}" for j in range(rows_per_module)],
            "value": range(rows_per_module),
        }
    )
    runs = pd.DataFrame([{"run_id": run_id, "time": time, "start": time, "modules": len(MODULES)}])
    return {"module_status": status, "detail__m00__rows": detail, "runs": runs}


if __name__ == "__main__":  # python store_writes.py ROOT: write runs until killed, announcing each commit
    from hfpanel.store import StoreWriter

    with StoreWriter(sys.argv[1], wait=30) as writer:
        start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        for i in range(start, start + 100_000):
            writer.write(synthetic_run(i, rows_per_module=20_000))
            print(f"committed {i}", flush=True)
