"""The website socket.io channel: sessions, trusted metadata, bad input, and rooms shared through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis
import socketio

from bot.channels.common import MAX_MESSAGE_CHARS, ReplayGuard
from bot.channels.socketio_redis import RedisSocketIOInput
from testing.services import ServiceDown, fresh_redis_url
from tests.channels.conftest import ServeFn, eventually

REDIS_DB = 9  # channels' own Redis database for tests


def redis_url() -> str:
    """The channels' Redis database, emptied now and when the test process exits."""
    try:
        return fresh_redis_url(REDIS_DB)
    except ServiceDown as error:
        pytest.fail(f"{error} (needed by the socket.io scale-out test)")


class Client:
    """A widget-like socket.io client: asks for a session, records what the bot sends."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.session_id: str | None = None
        self.sio.on("bot_uttered", self._bot)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("error", self._error)

    async def _bot(self, data: dict[str, Any]) -> None:
        self.received.append(data)

    async def _confirm(self, session_id: str) -> None:
        self.session_id = session_id

    async def _error(self, data: dict[str, Any]) -> None:
        self.errors.append(data)

    async def open(self, url: str, session_id: str | None = None) -> Client:
        # The engineio websocket client needs a newer aiohttp than Rasa pins; polling is the same protocol.
        await self.sio.connect(url, transports=["polling"])
        await self.sio.emit("session_request", {"session_id": session_id})
        await eventually(lambda: self.session_id is not None)
        return self

    async def close(self) -> None:
        # A polite polling disconnect waits for the pending long-poll (up to the 25 s ping interval).
        await self.sio.eio.disconnect(abort=True)

    async def say(self, text: Any, metadata: dict[str, Any] | None = None, **extra: Any) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id,
                                             "metadata": metadata or {}, **extra})


@pytest_asyncio.fixture
async def clients() -> AsyncIterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        await client.close()


@pytest.mark.asyncio
async def test_session_is_confirmed_and_metadata_is_filtered(serve: ServeFn, clients: list[Client]) -> None:
    served = await serve(RedisSocketIOInput(redis_url=None))
    client = await Client().open(served.url, "visitor-session-0001")
    clients.append(client)
    assert client.session_id == "visitor-session-0001"
    await client.say("你好", {"customer_token": "jwt.token.here", "channel": "telegram", "sender_id": "someone-else"})
    await eventually(lambda: bool(client.received))
    assert client.received == [{"text": "echo: 你好"}]
    message = served.agent.received[0]
    assert message.sender_id == "visitor-session-0001" and message.input_channel == "socketio"
    assert message.metadata == {"customer_token": "jwt.token.here", "channel": "socketio",
                                "sender_id": "visitor-session-0001"}


@pytest.mark.asyncio
async def test_invalid_session_id_gets_a_fresh_one(serve: ServeFn, clients: list[Client]) -> None:
    served = await serve(RedisSocketIOInput(redis_url=None))
    client = await Client().open(served.url, "../../etc/passwd")
    clients.append(client)
    assert client.session_id and client.session_id != "../../etc/passwd" and len(client.session_id) == 32


@pytest.mark.asyncio
async def test_bad_messages_are_refused_without_reaching_the_bot(serve: ServeFn, clients: list[Client]) -> None:
    served = await serve(RedisSocketIOInput(redis_url=None))
    client = await Client().open(served.url)
    clients.append(client)
    await client.say("x" * (MAX_MESSAGE_CHARS + 1))
    await client.sio.emit("user_uttered", "just a string")
    await client.say({"nested": "object"})
    await client.say("spoofed", session_id="somebody-elses-session")
    await eventually(lambda: len(client.errors) == 4)
    assert [e["code"] for e in client.errors] == ["payload_too_large", "malformed", "malformed", "no_session"]
    await client.say("still alive?")
    await eventually(lambda: bool(client.received))
    assert [m.text for m in served.agent.received] == ["still alive?"]


@pytest.mark.asyncio
async def test_reconnecting_with_the_session_id_rejoins_the_conversation(serve: ServeFn, clients: list[Client]) -> None:
    channel = RedisSocketIOInput(redis_url=None)
    served = await serve(channel)
    first = await Client().open(served.url)
    await first.close()
    again = await Client().open(served.url, first.session_id)
    clients.append(again)
    output = channel.get_output_channel()
    assert output is not None and again.session_id == first.session_id
    await output.send_text_message(first.session_id or "", "agent: 我来帮您")
    await eventually(lambda: bool(again.received))
    assert again.received == [{"text": "agent: 我来帮您"}]


@pytest.mark.asyncio
async def test_message_pushed_through_instance_b_reaches_customer_on_instance_a(
    serve: ServeFn, clients: list[Client]
) -> None:
    url = redis_url()
    channel_name = f"kefu-socketio-test-{uuid.uuid4().hex[:8]}"
    served_a = await serve(RedisSocketIOInput(redis_url=url, redis_channel=channel_name))
    channel_b = RedisSocketIOInput(redis_url=url, redis_channel=channel_name)
    await serve(channel_b)
    customer = await Client().open(served_a.url, "scaleout-session-1")
    clients.append(customer)
    output_b = channel_b.get_output_channel()
    assert output_b is not None
    # The Redis listener of A subscribes in the background; keep pushing until it is up.
    for _ in range(50):
        await output_b.send_text_message("scaleout-session-1", "agent via B / 客服经由B")
        await asyncio.sleep(0.1)
        if customer.received:
            break
    assert customer.received and customer.received[0] == {"text": "agent via B / 客服经由B"}
    stock = RedisSocketIOInput(redis_url=None)
    await serve(stock)
    assert stock.get_output_channel() is not None


@pytest.mark.asyncio
async def test_replay_guard_in_redis_is_shared_by_instances() -> None:
    url, key = redis_url(), f"msg-{uuid.uuid4().hex}"
    instance_a, instance_b = ReplayGuard("test", ttl_seconds=30, redis_url=url), ReplayGuard("test", redis_url=url)
    assert await instance_a.first_time(key) is True
    assert await instance_b.first_time(key) is False, "a retry that lands on another instance is a replay"
    assert 0 < redis.Redis.from_url(url).ttl(f"kefu:replay:test:{key}") <= 30
    unreachable = ReplayGuard("test", redis_url="redis://127.0.0.1:1/0")
    assert await unreachable.first_time(key) is True and await unreachable.first_time(key) is False
