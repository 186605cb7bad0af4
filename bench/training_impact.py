"""What customers feel while a candidate model trains: serving latency idle vs during a training, and how long
a candidate takes to train and evaluate.

An embedded-mode stack (CRM, action server, Kefu's Rasa) serves verified customers asking their points
balance (2 at a time without pause by default; `--users`, and `--pause` seconds between a reply and the
next message). In interleaved rounds (idle, training, idle, training …) the bench records every turn's
latency; a "training" round lasts exactly as long as one candidate's training and
evaluation by the training worker's own code (`python -m bot.training_worker --offline`: nice 19, one
thread, no cache, the held-out evaluation). Reports per-round and median p50/p95, the median p95 ratio
training / idle (target ≤ 1.5), and the median training and evaluation times.

    .venvs/bot/bin/python bench/training_impact.py [--model models/kefu-….tar.gz] [--rounds 2] [--idle 60]

Ports 18090–18092. Writes bench/results/training_impact.json. Every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot_latency import (
    BOT_BIN,
    CRM_BIN,
    ROOT,
    Processes,
    kefu_model,
    log,
    one,
    stack_env,
    start_kefu,
    token,
    write_results,
)

CRM_PORT, ACTIONS_PORT, RASA_PORT = 18090, 18091, 18092
USERS = 2
TARGET_RATIO = 1.5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


async def serve_while(done: asyncio.Event, users: int, pause: float = 0.0) -> list[float]:
    """Customers chat until `done` is set, each waiting `pause` s after an answer; every turn's latency (s)."""
    url = f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook"
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        async def user(i: int) -> None:
            n = 0
            metadata = {"customer_token": token(1 + i % 5)}
            while not done.is_set():
                latencies.append(await one(session, url, f"impact-{i}-{n // 10}-{time.time():.0f}", metadata))
                n += 1
                if pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(user(i) for i in range(users)))
    return latencies


async def idle_round(seconds: float, users: int, pause: float) -> tuple[list[float], dict[str, Any]]:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, done.set)
    return await serve_while(done, users, pause), {}


async def training_round(env: dict[str, str], users: int, pause: float) -> tuple[list[float], dict[str, Any]]:
    done = asyncio.Event()
    proc = await asyncio.create_subprocess_exec(
        str(BOT_BIN / "python"), "-m", "bot.training_worker", "--offline", cwd=str(ROOT), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True)  # its own session, as under ./kefu run: it lowers that session's priority

    async def wait() -> bytes:
        out, _ = await proc.communicate()
        done.set()
        return out

    latencies, out = await asyncio.gather(serve_while(done, users, pause), wait())
    if proc.returncode != 0:
        raise SystemExit(f"the offline training failed with exit {proc.returncode}")
    return latencies, json.loads(out.decode().strip().splitlines()[-1])


def summary(latencies: list[float]) -> dict[str, Any]:
    return {"turns": len(latencies), "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * percentile(latencies, 0.95), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Kefu model (default: newest models/kefu-*.tar.gz)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (idle, training, idle, training …)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of each idle round")
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds each customer waits after an answer (0: none, the machine's worst case)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "training_impact.json"))
    args = parser.parse_args()
    model = kefu_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-training-"))
    procs = Processes(work)
    env = stack_env(work, CRM_PORT, ACTIONS_PORT)
    credentials = work / "credentials.yml"
    credentials.write_text("rest:\n")
    results: dict[str, Any] = {"machine_cpus": os.cpu_count(), "model": model.name, "users": args.users,
                               "pause_s": args.pause,
                               "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        log("CRM: migrate + seed …")
        for step in ("migrate", "seed"):
            subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", step], cwd=ROOT, env=env, check=True,
                           capture_output=True)
        start_kefu(procs, env, model, credentials, CRM_PORT, ACTIONS_PORT, RASA_PORT)
        asyncio.run(idle_round(10, args.users, args.pause))  # warm-up, not measured
        rounds: list[dict[str, Any]] = []
        for r in range(args.rounds):
            for kind in ("idle", "training"):
                if kind == "idle":
                    latencies, extra = asyncio.run(idle_round(args.idle, args.users, args.pause))
                else:
                    latencies, extra = asyncio.run(training_round(env, args.users, args.pause))
                figures = {"round": r, "kind": kind, **summary(latencies), **extra}
                rounds.append(figures)
                log(f"round {r} {kind:<8} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                    f"({figures['turns']} turns)" + (f"  trained in {extra['train_seconds']} s, evaluated in "
                                                     f"{extra['evaluate_seconds']} s" if extra else ""))
        results["rounds"] = rounds
        for kind in ("idle", "training"):
            mine = [f for f in rounds if f["kind"] == kind]
            results[kind] = {"p50_ms": statistics.median(f["p50_ms"] for f in mine),
                             "p95_ms": statistics.median(f["p95_ms"] for f in mine),
                             "turns": sum(f["turns"] for f in mine)}
        trainings = [f for f in rounds if f["kind"] == "training"]
        results["train_seconds"] = statistics.median(f["train_seconds"] for f in trainings)
        results["evaluate_seconds"] = statistics.median(f["evaluate_seconds"] for f in trainings)
        results["candidate_accuracy"] = trainings[-1]["accuracy"]
        ratios = [t["p95_ms"] / i["p95_ms"] for i, t in zip(rounds[0::2], rounds[1::2], strict=True)]
        results["p95_ratio_training_over_idle"] = round(statistics.median(ratios), 2)
        results["p95_ratio_per_round"] = [round(x, 2) for x in ratios]
        results["target_ratio"] = TARGET_RATIO
        results["met"] = results["p95_ratio_training_over_idle"] <= TARGET_RATIO
        log(f"median p95 idle {results['idle']['p95_ms']} ms, during training {results['training']['p95_ms']} ms: "
            f"ratio {results['p95_ratio_training_over_idle']} (target ≤ {TARGET_RATIO}); a candidate trains in "
            f"{results['train_seconds']} s and is evaluated in {results['evaluate_seconds']} s")
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        procs.stop()
    write_results(Path(args.out), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
