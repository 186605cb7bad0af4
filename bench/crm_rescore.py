"""Time to rescore the whole demo base, on SQLite and PostgreSQL.

For each database: fresh database → `cli migrate` + `cli seed` (2,005 customers, 24 months of orders,
tickets, surveys, interactions) → in this process: `rescore_all` (repeated, committed) and
`rescore_customer` for a sample of customers (what every order / ticket / feedback event costs).
Writes bench/results/crm_rescore.json.
Usage: `nice -n 10 .venvs/crm/bin/python bench/crm_rescore.py [--runs 3] [--single 50]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crm_backend.core.db import make_engine  # noqa: E402
from crm_backend.scoring.models import CustomerScore  # noqa: E402
from crm_backend.scoring.service import rescore_all, rescore_customer, segment_counts  # noqa: E402
from testing.services import fresh_database_url  # noqa: E402

PG_DB = "kefu_bench_analytics"


def prepare(url: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "KEFU_ENV": "development"}
    lines = []
    for step in ("migrate", "seed"):
        out = subprocess.run([sys.executable, "-m", "crm_backend.cli", step], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
        lines.append(out.stdout.strip())
        print(f"  {step}: {out.stdout.strip()}", flush=True)
    return lines[-1]


def measure(url: str, *, runs: int, single: int) -> dict[str, Any]:
    seed_line = prepare(url)
    engine = make_engine(url)
    try:
        full = []
        for _ in range(runs):
            with Session(engine) as session:
                started = time.perf_counter()
                scored = rescore_all(session)
                session.commit()
                full.append(time.perf_counter() - started)
        with Session(engine) as session:
            ids = list(session.scalars(select(CustomerScore.customer_id)))
            rows = session.scalar(select(func.count()).select_from(CustomerScore))
            segments = segment_counts(session)
        sample = random.Random(7).sample(ids, min(single, len(ids)))
        one = []
        for cid in sample:
            with Session(engine) as session:
                started = time.perf_counter()
                rescore_customer(session, customer_id=cid)
                session.commit()
                one.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return {
        "seed": seed_line, "customers_scored": scored, "score_rows": rows, "segments": segments,
        "rescore_all_seconds": {"runs": [round(t, 3) for t in full], "min": round(min(full), 3),
                                "median": round(statistics.median(full), 3)},
        "customers_per_second": round(scored / statistics.median(full), 1),
        "rescore_customer_ms": {"n": len(one), "median": round(statistics.median(one) * 1000, 1),
                                "p95": round(sorted(one)[int(0.95 * (len(one) - 1))] * 1000, 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"sqlite": f"sqlite:///{tmp}/bench_rescore.db", "postgresql": None}
        for kind, url in targets.items():
            if args.only and kind != args.only:
                continue
            print(f"{kind}:", flush=True)
            result = measure(url or fresh_database_url(PG_DB), runs=args.runs, single=args.single)
            results["databases"][kind] = result
            print(f"  rescore_all: {result['customers_scored']} customers, median "
                  f"{result['rescore_all_seconds']['median']} s ({result['customers_per_second']} customers/s); "
                  f"rescore_customer median {result['rescore_customer_ms']['median']} ms, "
                  f"p95 {result['rescore_customer_ms']['p95']} ms", flush=True)
    out = ROOT / "bench" / "results" / "crm_rescore.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
