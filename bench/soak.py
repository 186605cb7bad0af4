"""Soak and idle-connection benchmarks of the whole stack through the socket.io widget channel.

    .venvs/bot/bin/python bench/soak.py soak [--minutes 30] [--model models/kefu-….tar.gz]
    .venvs/bot/bin/python bench/soak.py idle [--idle 2000] [--rounds 3]

`soak` first measures the maximum throughput (20 customers chatting with no pause for 60 s), then runs
mixed conversations (FAQ, points balance of a verified customer, a complaint form to a ticket, the NPS
survey, in Chinese and English) at 70 % of it for `--minutes`. It reports per-minute p50/p95 of the first
reply, the p95 of the first and last 5 minutes, each process's RSS at the end of minute 5 and at the end,
errors and lost turns (no reply within 30 s).

`idle` opens `--idle` idle widget connections (websocket, a session each, held by 2 helper processes)
against one Rasa process, and compares 20 chatting customers with and without them, interleaved in
rounds (A B A B …), reporting the median p95 of each and their ratio, plus how many idle connections
dropped.

Both run the real stack (CRM on SQLite, action server, Kefu Rasa) on ports 18110–18112 and write
bench/results/soak.json or bench/results/idle_connections.json. Run by hand: they take 35 and ~10 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot_latency import CRM_BIN, ROOT, Processes, kefu_model, log, stack_env, start_kefu, token

CRM_PORT, ACTIONS_PORT, RASA_PORT = 18110, 18111, 18112
URL = f"http://127.0.0.1:{RASA_PORT}"
REPLY_TIMEOUT = 30.0
# Verified customers are drawn from the whole demo base (`crm_backend.cli seed`: 5 named + 2,000 generated).
# Stop 24 drew them from the 5 named ones: each filed ≈ 1,100 complaints in 30 minutes, and rescoring a
# customer after each (all their tickets of 24 months) grew with that pile, which no real customer builds.
SEEDED_CUSTOMERS = 2005
QUIET = 0.4  # after the first reply, the turn is over once the bot is quiet this long
# (needs a verified customer, turns)
CONVERSATIONS: list[tuple[bool, list[str]]] = [
    (False, ["快递几天能送到？"]),
    (False, ["how long does delivery take?"]),
    (True, ["我有多少积分"]),
    (True, ["what is my points balance?"]),
    (True, ["我要投诉，快递三天了还没到，太慢了", "没有"]),
    (True, ["I want to complain, my parcel is a week late", "no"]),
    (False, ["我想参加满意度调查", "9"]),
    (False, ["I'd like to take the satisfaction survey", "9"]),
]


class Customer:
    """One widget session on its own Engine.IO v4 websocket, spoken by hand: the bot venv's python-socketio client
    needs a newer aiohttp than Rasa allows, and a raw client is light enough to hold thousands of sessions."""

    def __init__(self, verified: int | None = None) -> None:
        self.session_id = uuid.uuid4().hex
        self.metadata = {"customer_token": token(verified)} if verified else {}
        self.replies: asyncio.Queue[float] = asyncio.Queue()
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.dropped = False
        self.closing = False

    async def connect(self) -> None:
        self.ws = await websockets.connect(f"ws://127.0.0.1:{RASA_PORT}/socket.io/?EIO=4&transport=websocket",
                                           open_timeout=30, ping_interval=None, max_size=None)
        opened = await asyncio.wait_for(self.ws.recv(), 30)
        if not str(opened).startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO open packet {opened!r}")
        await self.ws.send("40")
        while not str(await asyncio.wait_for(self.ws.recv(), 30)).startswith("40"):
            pass
        self.reader = asyncio.create_task(self._read())
        await self._emit("session_request", {"session_id": self.session_id})

    async def _emit(self, event: str, data: dict[str, Any]) -> None:
        await self.ws.send("42" + json.dumps([event, data], ensure_ascii=False))

    async def _read(self) -> None:
        try:
            async for packet in self.ws:
                if packet == "2":  # the server's ping
                    await self.ws.send("3")
                elif packet.startswith("42") and json.loads(packet[2:])[0] == "bot_uttered":
                    await self.replies.put(time.perf_counter())
        except websockets.ConnectionClosed:
            pass
        if not self.closing:
            self.dropped = True

    async def say(self, text: str) -> float | None:
        """Seconds to the first reply, or None when none came within REPLY_TIMEOUT."""
        while not self.replies.empty():
            self.replies.get_nowait()
        started = time.perf_counter()
        await self._emit("user_uttered", {"message": text, "session_id": self.session_id, "metadata": self.metadata})
        try:
            first = await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            return None
        while True:  # let the rest of this turn's messages arrive before the next turn
            try:
                await asyncio.wait_for(self.replies.get(), QUIET)
            except asyncio.TimeoutError:
                break
        return first - started

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader


class Tally:
    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (seconds since start, latency)
        self.lost = 0
        self.errors: list[str] = []
        self.started = time.perf_counter()


async def converse(tally: Tally, rng: random.Random, gate: Any = None) -> None:
    verified, turns = rng.choice(CONVERSATIONS)
    customer = Customer(rng.randint(1, SEEDED_CUSTOMERS) if verified else None)
    try:
        await customer.connect()
        for text in turns:
            if gate is not None:
                await gate()
            latency = await customer.say(text)
            if latency is None:
                tally.lost += 1
            else:
                tally.samples.append((time.perf_counter() - tally.started, latency))
    except Exception as error:  # a refused or dropped connection counts, it does not stop the run
        tally.errors.append(f"{type(error).__name__}: {error}"[:200])
    finally:
        try:
            await customer.close()
        except Exception:
            pass


async def users(count: int, seconds: float, tally: Tally, gate: Any = None, seed: int = 1) -> None:
    """`count` customers, each starting a new conversation when the last ends, for `seconds`."""
    deadline = time.perf_counter() + seconds

    async def one(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        while time.perf_counter() < deadline:
            await converse(tally, rng, gate)

    await asyncio.gather(*(one(i) for i in range(count)))


def rate_gate(per_second: float) -> Any:
    """An awaitable that lets `per_second` turns start each second, evenly spaced."""
    state = {"next": time.perf_counter()}

    async def gate() -> None:
        now = time.perf_counter()
        slot = max(state["next"], now)
        state["next"] = slot + 1.0 / per_second
        if slot > now:
            await asyncio.sleep(slot - now)

    return gate


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def figures(latencies: list[float]) -> dict[str, float]:
    return {"turns": len(latencies), "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(1000 * percentile(latencies, 0.95), 1) if latencies else None}


def group_members(pid: int) -> list[Path]:
    """The /proc entries of a process and its children (its process group)."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == pid:
                members.append(entry)
        except (OSError, ProcessLookupError):
            continue
    return members


def rss_mb(pid: int) -> float:
    """Resident memory of a process group, in MB."""
    total = 0
    for entry in group_members(pid):
        try:
            total += next((int(line.split()[1]) for line in (entry / "status").read_text().splitlines()
                           if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return round(total / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process group, in seconds."""
    ticks = 0
    for entry in group_members(pid):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def start_stack(work: Path, model: Path) -> tuple[Processes, dict[str, int]]:
    procs = Processes(work)
    base = stack_env(work, CRM_PORT, ACTIONS_PORT)
    for step in ("migrate", "seed"):
        subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", step], cwd=ROOT, env=base, check=True,
                       capture_output=True)
    credentials = work / "credentials.yml"
    credentials.write_text("bot.channels.socketio_redis.RedisSocketIOInput:\n  user_message_evt: user_uttered\n"
                           "  bot_message_evt: bot_uttered\n  session_persistence: true\n")
    started = start_kefu(procs, base, model, credentials, CRM_PORT, ACTIONS_PORT, RASA_PORT)
    return procs, {name: proc.pid for name, proc in started.items()}


async def warm_up() -> None:
    tally = Tally()
    for i in range(len(CONVERSATIONS)):
        rng = random.Random(i)
        await converse(tally, rng)
    if tally.errors or tally.lost:
        raise SystemExit(f"warm-up failed: {tally.errors[:3]} lost {tally.lost}")


def soak(args: argparse.Namespace, pids: dict[str, int]) -> dict[str, Any]:
    asyncio.run(warm_up())
    probe = Tally()
    asyncio.run(users(20, args.probe_seconds, probe, seed=7))
    max_rate = len(probe.samples) / args.probe_seconds
    target = 0.7 * max_rate
    log(f"maximum {max_rate:.1f} turns/s ({figures([s for _, s in probe.samples])}); soak at {target:.1f} turns/s "
        f"for {args.minutes} min")
    tally = Tally()
    rss: dict[str, dict[str, float]] = {"start": {n: rss_mb(p) for n, p in pids.items()}}
    cpu: list[dict[str, float]] = []
    rss_series: list[dict[str, float]] = []

    async def run() -> None:
        async def sample_rss() -> None:
            await asyncio.sleep(5 * 60)
            rss["minute_5"] = {n: rss_mb(p) for n, p in pids.items()}

        async def sample_cpu() -> None:
            # Which process the time goes to, minute by minute: where a drift in latency comes from; and the
            # shape of RSS growth (a plateau, such as caches filling, or a line, a leak).
            before = {n: cpu_seconds(p) for n, p in pids.items()}
            for _ in range(args.minutes):
                await asyncio.sleep(60)
                now = {n: cpu_seconds(p) for n, p in pids.items()}
                cpu.append({n: round(now[n] - before[n], 1) for n in pids})
                rss_series.append({n: rss_mb(p) for n, p in pids.items()})
                before = now

        sampler = asyncio.create_task(sample_rss()) if args.minutes > 5 else None
        cpu_sampler = asyncio.create_task(sample_cpu())
        await users(args.users, args.minutes * 60, tally, rate_gate(target), seed=11)
        if sampler is not None:
            await sampler
        cpu_sampler.cancel()

    asyncio.run(run())
    rss["end"] = {n: rss_mb(p) for n, p in pids.items()}
    window = min(5.0, args.minutes / 3) * 60
    first = [lat for at, lat in tally.samples if at < window]
    last = [lat for at, lat in tally.samples if at >= args.minutes * 60 - window]
    minutes = [figures([lat for at, lat in tally.samples if m * 60 <= at < (m + 1) * 60]) for m in range(args.minutes)]
    baseline = rss.get("minute_5", rss["start"])
    growth = {n: round(100 * (rss["end"][n] - baseline[n]) / baseline[n], 1) for n in pids}
    first_f, last_f = figures(first), figures(last)
    result = {
        "max_turns_per_s": round(max_rate, 2), "target_turns_per_s": round(target, 2),
        "achieved_turns_per_s": round(len(tally.samples) / (args.minutes * 60), 2),
        "minutes": args.minutes, "users": args.users, "window_minutes": round(window / 60, 1),
        "first_window": first_f, "last_window": last_f,
        "p95_change_pct": round(100 * (last_f["p95_ms"] - first_f["p95_ms"]) / first_f["p95_ms"], 1)
        if first and last else None,
        "rss_mb": rss, "rss_growth_pct_since_minute_5": growth, "per_minute": minutes,
        "cpu_seconds_per_minute": cpu, "rss_mb_per_minute": rss_series,
        "turns": len(tally.samples), "lost_turns": tally.lost, "errors": len(tally.errors),
        "error_examples": tally.errors[:5],
    }
    result["targets"] = {"p95_within_20pct": result["p95_change_pct"] is not None and result["p95_change_pct"] <= 20,
                         "rss_growth_under_10pct": all(g < 10 for g in growth.values()),
                         "no_errors_or_lost": not tally.errors and not tally.lost}
    return result


def hold_idle(count: int, ready: Any, stop: Any, dropped: Any) -> None:
    """A helper process holding `count` idle widget sessions until `stop` is set; counts the ones that drop."""

    async def run() -> None:
        customers = []
        for i in range(count):
            customer = Customer()
            try:
                await customer.connect()
                customers.append(customer)
            except Exception:
                with dropped.get_lock():
                    dropped.value += 1
            if i % 100 == 99:
                await asyncio.sleep(0.2)  # a gentle ramp, like visitors arriving
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.5)
        gone = sum(c.dropped for c in customers)
        with dropped.get_lock():
            dropped.value += gone
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)

    asyncio.run(run())


def chat_round(seed: int, seconds: float) -> dict[str, Any]:
    tally = Tally()
    asyncio.run(users(20, seconds, tally, seed=seed))
    out = figures([lat for _, lat in tally.samples])
    out.update(lost=tally.lost, errors=len(tally.errors))
    return out


def idle(args: argparse.Namespace, pids: dict[str, int]) -> dict[str, Any]:
    asyncio.run(warm_up())
    rounds: list[dict[str, Any]] = []
    context = multiprocessing.get_context("spawn")
    for r in range(args.rounds):
        quiet = chat_round(100 + r, args.round_seconds)
        quiet["idle"] = 0
        rounds.append(quiet)
        log(f"round {r + 1} without idle connections: {quiet}")
        stop, dropped = context.Event(), context.Value("i", 0)
        holders = []
        for _ in range(2):
            ready = context.Event()
            holder = context.Process(target=hold_idle, args=(args.idle // 2, ready, stop, dropped))
            holder.start()
            holders.append((holder, ready))
        for _holder, ready in holders:
            if not ready.wait(timeout=600):
                raise SystemExit("idle connections not open after 600 s")
        rss_idle = rss_mb(pids["rasa"])
        busy = chat_round(200 + r, args.round_seconds)
        stop.set()
        for holder, _ in holders:
            holder.join(timeout=120)
        busy.update(idle=args.idle, dropped=dropped.value, rasa_rss_mb=rss_idle)
        rounds.append(busy)
        log(f"round {r + 1} with {args.idle} idle connections: {busy}")
        time.sleep(5)
    quiet_p95 = statistics.median(r["p95_ms"] for r in rounds if r["idle"] == 0)
    busy_p95 = statistics.median(r["p95_ms"] for r in rounds if r["idle"])
    ratio = round(busy_p95 / quiet_p95, 2)
    return {"idle_connections": args.idle, "chatting_users": 20, "rounds": rounds,
            "median_p95_ms_without": quiet_p95, "median_p95_ms_with": busy_p95, "p95_ratio": ratio,
            "dropped_idle_connections": [r.get("dropped") for r in rounds if r["idle"]],
            "targets": {"p95_within_20pct": ratio <= 1.2,
                        "no_dropped": all(r.get("dropped") == 0 for r in rounds if r["idle"])}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("soak", "idle"))
    parser.add_argument("--model", help="Kefu model (default: newest models/kefu-*.tar.gz)")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--users", type=int, default=30, help="soak: concurrent customers (the rate is capped)")
    parser.add_argument("--probe-seconds", type=float, default=60.0)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-seconds", type=float, default=45.0)
    parser.add_argument("--out")
    args = parser.parse_args()
    # A SIGTERM (timeout, Ctrl-C from a supervisor) must still stop the stack this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    model = kefu_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="kefu-soak-"))
    procs, pids = start_stack(work, model)
    started = time.monotonic()
    try:
        result = soak(args, pids) if args.mode == "soak" else idle(args, pids)
    finally:
        procs.stop()
    result.update(model=model.name, machine_cpus=os.cpu_count(), wall_s=round(time.monotonic() - started),
                  load_average_at_end=[round(x, 2) for x in os.getloadavg()])
    out = Path(args.out or ROOT / "bench" / "results" / ("soak.json" if args.mode == "soak"
                                                          else "idle_connections.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    log(json.dumps({k: v for k, v in result.items() if k not in ("per_minute", "rounds")}, ensure_ascii=False))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
