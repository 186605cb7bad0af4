"""The event bus: in-process fan-out and Redis pub/sub (real Redis, db 6)."""

from __future__ import annotations

import asyncio
import os
import urllib.parse

import pytest

from crm_backend.core.bus import InProcessBus, RedisBus

REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url(db: int = 6) -> str:
    import redis

    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(REDIS_BASE)._replace(path=f"/{db}"))
    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_BASE} (set TEST_REDIS_URL): {error}", pytrace=False)
    return url


async def first_event(bus: InProcessBus | RedisBus, publisher: InProcessBus | RedisBus) -> dict:
    async with bus.subscribe("handoffs") as events:
        await publisher.publish("handoffs", {"type": "created", "handoff_id": 7})
        return await asyncio.wait_for(anext(events), timeout=5)


def test_in_process_bus_fans_out_to_every_subscriber() -> None:
    async def scenario() -> list[dict]:
        bus = InProcessBus()
        async with bus.subscribe("handoffs") as one, bus.subscribe("handoffs") as two:
            await bus.publish("handoffs", {"type": "claimed", "handoff_id": 1})
            await bus.publish("other", {"type": "ignored"})
            return [await asyncio.wait_for(anext(one), 1), await asyncio.wait_for(anext(two), 1)]

    assert asyncio.run(scenario()) == [{"type": "claimed", "handoff_id": 1}] * 2


def test_redis_bus_crosses_connections_like_two_processes() -> None:
    url = redis_url()

    async def scenario() -> dict:
        publisher, subscriber = RedisBus(url), RedisBus(url)
        try:
            return await first_event(subscriber, publisher)
        finally:
            await publisher.close()
            await subscriber.close()

    assert asyncio.run(scenario()) == {"type": "created", "handoff_id": 7}


def test_redis_down_does_not_break_publishing() -> None:
    async def scenario() -> None:
        bus = RedisBus("redis://127.0.0.1:1/0")
        await bus.publish("handoffs", {"type": "created"})  # logged, not raised
        await bus.close()

    asyncio.run(scenario())
