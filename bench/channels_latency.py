"""Channel overhead on 2 shared cores: what Kefu's connectors add around the bot (the agent is a fake
that answers instantly, so NLU and actions are excluded).

  * socket.io round trip (client → channel → agent → client), one Rasa-like server;
  * cross-instance push through Redis: instance B emits, the client on instance A receives;
  * WeChat webhook: signature check + XML parse + passive reply;
  * Slack webhook: signature check + event parse (answer 200 before the bot runs).

Run from the repo root (needs Redis at TEST_REDIS_URL, uses db 9):
    nice -n 10 .venvs/bot/bin/python bench/channels_latency.py [--n 200]
Prints a table and writes bench/results/channels_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import socketio  # noqa: E402
from rasa.core.channels.channel import InputChannel, UserMessage, register  # noqa: E402
from sanic import Sanic  # noqa: E402

from bot.channels.slack import SlackInput  # noqa: E402
from bot.channels.socketio_redis import RedisSocketIOInput  # noqa: E402
from bot.channels.wechat import WeChatInput, signature  # noqa: E402
from testing.services import fresh_redis_url  # noqa: E402

Sanic.test_mode = True
RESULTS = REPO / "bench" / "results" / "channels_latency.json"


class EchoAgent:
    async def handle_message(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


async def serve(channel: InputChannel, port: int) -> Any:
    app = Sanic(f"bench_{uuid.uuid4().hex}")
    app.ctx.agent = EchoAgent()
    register([channel], app, route="/webhooks/")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    return server


def summary(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 2), "max_ms": round(ms[-1], 2)}


async def socketio_round_trips(n: int, redis_url: str) -> tuple[dict[str, float], dict[str, float]]:
    channel_name = f"kefu-bench-{uuid.uuid4().hex[:6]}"
    a = RedisSocketIOInput(redis_url=redis_url, redis_channel=channel_name)
    b = RedisSocketIOInput(redis_url=redis_url, redis_channel=channel_name)
    servers = [await serve(a, 18050), await serve(b, 18051)]
    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    client.on("bot_uttered", inbox.put)
    client.on("session_confirm", confirmed.put)
    await client.connect("http://127.0.0.1:18050", transports=["polling"])
    await client.emit("session_request", {"session_id": "bench-session-01"})
    session = await asyncio.wait_for(confirmed.get(), 10)
    round_trips, pushes = [], []
    for i in range(n):
        started = time.perf_counter()
        await client.emit("user_uttered", {"message": f"m{i}", "session_id": session})
        await asyncio.wait_for(inbox.get(), 10)
        round_trips.append(time.perf_counter() - started)
    output_b = b.get_output_channel()
    assert output_b is not None
    for _ in range(50):  # wait until A's Redis listener is subscribed
        await output_b.send_text_message(session, "warm-up")
        try:
            await asyncio.wait_for(inbox.get(), 0.2)
            break
        except asyncio.TimeoutError:
            continue
    while not inbox.empty():
        inbox.get_nowait()
    for i in range(n):
        started = time.perf_counter()
        await output_b.send_text_message(session, f"push {i}")
        await asyncio.wait_for(inbox.get(), 10)
        pushes.append(time.perf_counter() - started)
    await client.eio.disconnect(abort=True)
    for server in servers:
        server.close()
        await server.wait_closed()
    return summary(round_trips), summary(pushes)


async def wechat_requests(n: int) -> dict[str, float]:
    token = "bench-token"
    server = await serve(WeChatInput(token), 18052)
    samples = []
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            ts, nonce = str(int(time.time())), f"n{i}"
            query = {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}
            body = (f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o{i % 10}]]></FromUserName>"
                    f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                    f"<Content><![CDATA[你好 {i}]]></Content><MsgId>{i + 1}</MsgId></xml>").encode()
            started = time.perf_counter()
            async with session.post("http://127.0.0.1:18052/webhooks/wechat/webhook", params=query,
                                    data=body) as answer:
                assert answer.status == 200 and "echo" in await answer.text()
            samples.append(time.perf_counter() - started)
    server.close()
    await server.wait_closed()
    return summary(samples)


async def slack_requests(n: int) -> dict[str, float]:
    secret = "bench-secret"
    channel = SlackInput.from_credentials({"slack_token": "xoxb", "slack_signing_secret": secret,
                                           "api_base_url": "http://127.0.0.1:9/api/"})
    assert isinstance(channel, SlackInput)
    channel.get_output_channel = lambda *args, **kwargs: _NullOutput()  # type: ignore[method-assign]
    server = await serve(channel, 18053)
    samples = []
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            body = json.dumps({"type": "event_callback", "event_id": f"Ev{i}", "event": {
                "type": "message", "channel_type": "im", "channel": "D1", "user": "U1", "text": f"hi {i}",
                "ts": "1.1"}}).encode()
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
            started = time.perf_counter()
            async with session.post("http://127.0.0.1:18053/webhooks/slack/webhook", data=body,
                                    headers=headers) as answer:
                assert answer.status == 200
            samples.append(time.perf_counter() - started)
    server.close()
    await server.wait_closed()
    return summary(samples)


class _NullOutput:
    async def send_text_message(self, *args: Any, **kwargs: Any) -> None:
        return None


async def main(n: int) -> dict[str, Any]:
    redis_url = fresh_redis_url(9)  # emptied now and at exit
    round_trip, push = await socketio_round_trips(n, redis_url)
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
        "socketio_round_trip_polling": round_trip,
        "socketio_push_b_to_client_on_a_via_redis": push,
        "wechat_passive_reply": await wechat_requests(n),
        "slack_webhook_ack": await slack_requests(n),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    figures = asyncio.run(main(parser.parse_args().n))
    for name, value in figures.items():
        print(f"{name:45} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")
