"""Points API throughput on SQLite and PostgreSQL against a real uvicorn process.

For each database: fresh database → `cli migrate` + `cli seed` (full demo data) → `uvicorn
crm_backend.main:app` (1 worker) on a port in 18060–18069 → HTTP load from client threads:
- balance reads: GET /api/v1/customers/{random id}/points
- redemptions, spread: POST /customers/{random id}/redemptions (COUPON10) over many customers
- redemptions, one customer: all threads redeem for the same customer (worst-case lock contention)
Reports requests/s, p50/p95 latency and the server's peak RSS (VmHWM), and writes
bench/results/crm_points.json. Usage: `nice -n 10 .venvs/crm/bin/python bench/crm_points.py [--seconds 10]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.services import fresh_database_url  # noqa: E402

PYTHON = sys.executable
TOKEN = "bench-service-token"


def prepare(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "CRM_SERVICE_TOKEN": TOKEN,
           "KEFU_ENV": "development"}
    for step in ("migrate", "seed"):
        out = subprocess.run([PYTHON, "-m", "crm_backend.cli", step], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True)
        print(f"  {step}: {out.stdout.strip()}", flush=True)
    return env


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([PYTHON, "-m", "uvicorn", "crm_backend.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"CRM did not start on port {port}")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(base: str, threads: int, seconds: float, make_request: Any) -> dict[str, Any]:
    """Run `make_request(client, rng)` from `threads` threads for `seconds`; collect status codes + latency."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        mine: list[float] = []
        mine_codes: dict[int, int] = {}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                status = make_request(client, rng)
                mine.append(time.perf_counter() - started)
                mine_codes[status] = mine_codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in mine_codes.items():
                codes[code] = codes.get(code, 0) + n

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    began = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {
        "requests": len(latencies), "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1) if ordered else None,
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
    }


def bench(kind: str, url: str, port: int, seconds: float, threads: int) -> dict[str, Any]:
    print(f"== {kind}", flush=True)
    env = prepare(url)
    proc = start_server(env, port)
    base = f"http://127.0.0.1:{port}/api/v1"
    customers = list(range(100, 2100))
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            for cid in [1, *customers[:400]]:  # enough points for every redemption below
                client.post(f"/customers/{cid}/points/adjustments", json={"points": 1_000_000, "reason": "bench"},
                            headers={"Idempotency-Key": f"bench-topup-{cid}"}).raise_for_status()
        reads = load(base, threads, seconds, lambda c, rng: c.get(f"/customers/{rng.choice(customers)}/points")
                     .status_code)
        print(f"  balance reads: {reads['per_second']}/s p50 {reads['p50_ms']} ms p95 {reads['p95_ms']} ms "
              f"{reads['status_codes']}", flush=True)
        spread = load(base, threads, seconds, lambda c, rng: c.post(
            f"/customers/{rng.choice(customers[:400])}/redemptions", json={"reward_code": "COUPON10"},
            headers={"Idempotency-Key": f"s{rng.random()}"}).status_code)
        print(f"  redemptions (400 customers): {spread['per_second']}/s p50 {spread['p50_ms']} ms "
              f"p95 {spread['p95_ms']} ms {spread['status_codes']}", flush=True)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        before = httpx.get(f"{base}/customers/1/points", headers=auth).json()["balance"]
        single = load(base, threads, seconds, lambda c, rng: c.post(
            "/customers/1/redemptions", json={"reward_code": "COUPON10"},
            headers={"Idempotency-Key": f"o{rng.random()}"}).status_code)
        print(f"  redemptions (one customer): {single['per_second']}/s p50 {single['p50_ms']} ms "
              f"p95 {single['p95_ms']} ms {single['status_codes']}", flush=True)
        after = httpx.get(f"{base}/customers/1/points", headers=auth).json()["balance"]
        single["ledger_consistent"] = before - after == 500 * single["status_codes"].get("201", 0)
        print(f"  one-customer balance {before} → {after}: "
              f"{'consistent' if single['ledger_consistent'] else 'MISMATCH'} with the 201 answers", flush=True)
        rss = peak_rss_mb(proc.pid)
        print(f"  CRM peak RSS: {rss:.0f} MB", flush=True)
        return {"balance_reads": reads, "redemptions_spread": spread, "redemptions_one_customer": single,
                "peak_rss_mb": round(rss, 1)}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    sqlite_path = ROOT / "var" / "bench" / "crm_points.db"
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    results = {
        "setup": {"server": "uvicorn crm_backend.main:app, 1 worker, real HTTP on 127.0.0.1",
                  "client_threads": args.threads, "seconds_per_run": args.seconds, "cpus": os.cpu_count(),
                  "dataset": "full demo seed (2,005 customers)"},
        "sqlite": bench("sqlite", f"sqlite:///{sqlite_path}", 18060, args.seconds, args.threads),
        "postgresql": bench("postgresql", fresh_database_url("kefu_bench_core"), 18061, args.seconds, args.threads),
    }
    out = ROOT / "bench" / "results" / "crm_points.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
