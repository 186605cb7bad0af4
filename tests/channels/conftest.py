"""Serve a Kefu channel on a real Sanic server inside the test's event loop, with a fake agent."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from testing.standin_api import StandIn

Sanic.test_mode = True  # several apps per process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeAgent:
    """Stands in for rasa.core.agent.Agent: records messages and answers `echo: <text>`."""

    delay: float = 0.0
    received: list[UserMessage] = field(default_factory=list)
    reply: Callable[[UserMessage], Awaitable[None]] | None = None
    handled: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply is not None:
            await self.reply(message)
        else:
            await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
        self.handled.set()


@dataclass
class Served:
    url: str
    agent: FakeAgent
    channel: InputChannel


ServeFn = Callable[..., Awaitable[Served]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeFn]:
    """`await serve(channel)` → the channel's webhooks at `Served.url` (+ /webhooks/<name>/…)."""
    servers: list[Any] = []

    async def start(channel: InputChannel, agent: FakeAgent | None = None) -> Served:
        app = Sanic(f"kefu_channel_test_{uuid.uuid4().hex}")
        app.ctx.agent = agent or FakeAgent()
        register([channel], app, route="/webhooks/")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        servers.append(server)
        return Served(f"http://127.0.0.1:{port}", app.ctx.agent, channel)

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture(autouse=True)
def no_redis_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels read REDIS_URL/REDIS_HOST; tests that want Redis pass a URL explicitly."""
    for name in ("REDIS_URL", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standin() -> Any:
    running = StandIn().start()
    yield running
    running.stop()


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
