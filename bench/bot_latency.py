"""Full-stack latency and throughput of the Kefu bot vs the stock `rasa init` bot, over the REST channel.

Verified customers (signed customer token in the metadata) ask their points balance: Rasa → action
server → CRM. The stock bot answers the same text with its own model. 1 user, then 20 concurrent users;
each customer starts a new conversation every 10 messages (its first message verifies the token).
The two bots run interleaved in rounds (Kefu, stock, Kefu, stock …, each at 1 then 20 users), and the
medians over the rounds are reported: on these shared machines a run of A then B can swing a ratio threefold.

    .venvs/bot/bin/python bench/bot_latency.py [--model models/kefu-….tar.gz] [--messages 200] [--rounds 3]

Ports 18070–18079 (CRM 18070, actions 18071, Kefu Rasa 18072, stock Rasa 18073). Writes
bench/results/bot_latency.json. Every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt

ROOT = Path(__file__).resolve().parent.parent
BOT_BIN, CRM_BIN = ROOT / ".venvs" / "bot" / "bin", ROOT / ".venvs" / "crm" / "bin"
CRM_PORT, ACTIONS_PORT, KEFU_PORT, STOCK_PORT = 18070, 18071, 18072, 18073
SECRET = "bench-customer-token-secret-0123456789abcdef"
SERVICE_TOKEN = "bench-service-token"
QUESTION = "what is my points balance?"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} not healthy after {timeout:.0f} s ({url})")


class Processes:
    """Children in their own process groups; all stopped on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.children = logs, []  # type: ignore[var-annotated]

    def start(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.children):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.children:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def stack_env(work: Path, crm_port: int = CRM_PORT, actions_port: int = ACTIONS_PORT) -> dict[str, str]:
    """The environment of a benchmark stack in the product's embedded mode, its files in `work`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "KEFU_ENV": "development", "CRM_SERVICE_TOKEN": SERVICE_TOKEN,
           "CUSTOMER_TOKEN_SECRET": SECRET, "CRM_URL": f"http://127.0.0.1:{crm_port}",
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
           "DATABASE_URL": f"sqlite:///{work / 'crm.db'}",
           # endpoints.yml's SQL event broker file, which the CRM consumes (the product's embedded mode)
           "KEFU_EVENTS_DB": str(work / "events.db"), "KEFU_EVENT_STREAM": "sql",
           # outlasts Rasa's client keep-alive (scripts/kefu_cli/config.py)
           "SANIC_KEEP_ALIVE_TIMEOUT": "75"}
    env.pop("REDIS_URL", None)
    return env


def start_kefu(procs: Processes, env: dict[str, str], model: Path, credentials: Path, crm_port: int,
                actions_port: int, rasa_port: int) -> dict[str, subprocess.Popen[bytes]]:
    """A benchmark stack's CRM, action server and Kefu Rasa, started and healthy (the database migrated)."""
    crm = procs.start("crm", [str(CRM_BIN / "python"), "-m", "uvicorn", "crm_backend.main:app", "--host",
                              "127.0.0.1", "--port", str(crm_port)], env)
    actions = procs.start("actions", [str(BOT_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                      "--port", str(actions_port)], env)
    rasa = procs.start("rasa", [str(BOT_BIN / "python"), "-m", "bot.server", "run", "--port", str(rasa_port),
                                "--interface", "127.0.0.1", "--model", str(model), "--endpoints", "endpoints.yml",
                                "--credentials", str(credentials)], env)
    wait_http(f"http://127.0.0.1:{crm_port}/health", 120, crm, "CRM")
    wait_http(f"http://127.0.0.1:{actions_port}/health", 120, actions, "action server")
    wait_http(f"http://127.0.0.1:{rasa_port}/", 400, rasa, "Rasa")
    return {"crm": crm, "actions": actions, "rasa": rasa}


def write_results(out: Path, results: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {out}")


def token(customer_id: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(customer_id), "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


async def one(session: aiohttp.ClientSession, url: str, sender: str, metadata: dict[str, Any] | None) -> float:
    body: dict[str, Any] = {"sender": sender, "message": QUESTION}
    if metadata:
        body["metadata"] = metadata
    started = time.perf_counter()
    async with session.post(url, json=body) as response:
        answer = await response.json()
        assert response.status == 200 and answer, f"empty answer from {url}"
    return time.perf_counter() - started


async def load(port: int, users: int, per_user: int, kefu: bool, per_conversation: int) -> dict[str, Any]:
    """`users` concurrent customers, each sending `per_user` messages in conversations of `per_conversation`."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        metadata = [{"customer_token": token(1 + i % 5)} if kefu else None for i in range(users)]
        # Warm-up (not measured): one message per user loads models and connections on both sides.
        for i in range(users):
            await one(session, url, f"bench-{port}-{users}-{i}-warmup", metadata[i])

        # New conversations in every call: reusing the senders of an earlier round made every round's
        # trackers longer than the last, and Rasa's time per turn grows with the tracker (p50 85 → 175 ms
        # over 7 rounds of bench/broker_overhead.py, for both servers alike).
        run = uuid.uuid4().hex[:8]

        async def user(i: int) -> None:
            for n in range(per_user):
                sender = f"bench-{port}-{users}-{i}-{n // per_conversation}-{run}"
                latencies.append(await one(session, url, sender, metadata[i]))

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"users": users, "messages": len(latencies), "messages_per_conversation": per_conversation,
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
            "msg_per_s": round(len(latencies) / elapsed, 1)}


def kefu_model(named: str | None) -> Path:
    """The model given on the command line, else the newest in models/; exits when there is none."""
    models = sorted((ROOT / "models").glob("kefu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    model = Path(named) if named else (models[-1] if models else None)
    if model is None or not model.exists():
        raise SystemExit("no Kefu model: run ./kefu train first")
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Kefu model (default: newest models/kefu-*.tar.gz)")
    parser.add_argument("--messages", type=int, default=200, help="messages per load level, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (Kefu, stock, Kefu, stock …)")
    parser.add_argument("--per-conversation", type=int, default=10,
                        help="messages per conversation (a new sender id after that, like a new chat)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "bot_latency.json"))
    args = parser.parse_args()
    model = kefu_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    procs = Processes(work)
    base = stack_env(work)
    credentials = work / "credentials.yml"
    credentials.write_text("rest:\n")
    results: dict[str, Any] = {"question": QUESTION, "machine_cpus": os.cpu_count(), "model": model.name,
                               "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        log("stock bot: rasa init --no-prompt (trains the init model) …")
        stock_dir = work / "stock"
        stock_dir.mkdir()
        started = time.monotonic()
        init = subprocess.run([str(BOT_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(stock_dir)],
                              env=base, capture_output=True, text=True)
        if init.returncode != 0:
            raise SystemExit(f"rasa init failed:\n{init.stdout[-2000:]}{init.stderr[-2000:]}")
        results["stock_training_s"] = round(time.monotonic() - started, 1)
        log("CRM: migrate + seed …")
        for step in ("migrate", "seed"):
            subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", step], cwd=ROOT, env=base, check=True,
                           capture_output=True)
        crm = procs.start("crm", [str(CRM_BIN / "python"), "-m", "uvicorn", "crm_backend.main:app", "--host",
                                  "127.0.0.1", "--port", str(CRM_PORT)], base)
        actions = procs.start("actions", [str(BOT_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                          "--port", str(ACTIONS_PORT)], base)
        kefu = procs.start("kefu-rasa", [str(BOT_BIN / "python"), "-m", "bot.server", "run", "--port",
                                         str(KEFU_PORT), "--interface", "127.0.0.1", "--model", str(model),
                                         "--endpoints", "endpoints.yml", "--credentials", str(credentials)], base)
        stock = procs.start("stock-rasa", [str(BOT_BIN / "rasa"), "run", "--port", str(STOCK_PORT), "--interface",
                                           "127.0.0.1", "--model", "models", "--credentials", str(credentials)],
                            base, cwd=stock_dir)
        wait_http(f"http://127.0.0.1:{CRM_PORT}/health", 120, crm, "CRM")
        wait_http(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, actions, "action server")
        for port, proc, name in ((KEFU_PORT, kefu, "Kefu Rasa"), (STOCK_PORT, stock, "stock Rasa")):
            started = time.monotonic()
            wait_http(f"http://127.0.0.1:{port}/", 400, proc, name)
            log(f"{name} up in {time.monotonic() - started:.0f} s")
        bots = (("kefu", KEFU_PORT, True), ("stock_rasa_init", STOCK_PORT, False))
        raw: dict[str, dict[int, list[dict[str, Any]]]] = {name: {1: [], 20: []} for name, _, _ in bots}
        per_round = max(20, args.messages // args.rounds)
        for r in range(args.rounds):
            for users in (1, 20):
                for name, port, is_kefu in bots:
                    figures = asyncio.run(load(port, users, max(1, per_round // users), is_kefu,
                                               args.per_conversation))
                    raw[name][users].append(figures)
                    log(f"round {r} {name:<16} users={users:>2}  p50 {figures['p50_ms']:7.1f} ms  p95 "
                        f"{figures['p95_ms']:7.1f} ms  {figures['msg_per_s']:6.1f} msg/s  ({figures['messages']} msgs)")
        results["rounds"] = args.rounds
        results["rounds_raw"] = raw
        for name, _, _ in bots:
            results[name] = [{"users": users, "rounds": len(runs),
                              "messages": sum(f["messages"] for f in runs),
                              "messages_per_conversation": args.per_conversation,
                              "p50_ms": statistics.median(f["p50_ms"] for f in runs),
                              "p95_ms": statistics.median(f["p95_ms"] for f in runs),
                              "msg_per_s": statistics.median(f["msg_per_s"] for f in runs)}
                             for users, runs in raw[name].items()]
            for figures in results[name]:
                log(f"median {name:<16} users={figures['users']:>2}  p50 {figures['p50_ms']:7.1f} ms  p95 "
                    f"{figures['p95_ms']:7.1f} ms  {figures['msg_per_s']:6.1f} msg/s")
        results["kefu_over_stock"] = {
            f"users_{k['users']}": {"p50_ratio": round(k["p50_ms"] / s["p50_ms"], 2),
                                    "throughput_ratio": round(k["msg_per_s"] / s["msg_per_s"], 2)}
            for k, s in zip(results["kefu"], results["stock_rasa_init"], strict=True)}
        log(f"Kefu / stock: {results['kefu_over_stock']}")
        # The machine is shared: record how busy it was, the figures mean little without it.
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        procs.stop()
    write_results(Path(args.out), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
