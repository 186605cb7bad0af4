"""Event bus feeding live agent consoles: in-process by default, Redis pub/sub when REDIS_URL is set.

Events are JSON-able dicts published on a channel name (e.g. ``handoffs``). Every subscriber gets
every event published after it subscribed, in every process that shares the Redis server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from crm_backend.core.config import get_settings

log = logging.getLogger(__name__)

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(self, channel: str) -> Any:
        """An async context manager yielding an async iterator of events."""
        ...

    async def close(self) -> None: ...


class InProcessBus:
    """Fan-out to asyncio queues of the subscribers living in this process."""

    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._max_queue = max_queue

    async def publish(self, channel: str, event: Event) -> None:
        """Deliver `event` to every current subscriber of `channel`; a full (stuck) queue drops it."""
        for queue in list(self._subscribers.get(channel, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("bus subscriber queue full on %s; event dropped", channel)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Subscribe to `channel` for the duration of the context."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queue)
        self._subscribers.setdefault(channel, set()).add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._subscribers.get(channel, set()).discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBus:
    """Redis pub/sub, so every CRM process behind the same Redis sees every event."""

    def __init__(self, url: str, prefix: str = "kefu:") -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    async def publish(self, channel: str, event: Event) -> None:
        """Publish `event`; a Redis failure is logged, never raised into the request that caused it."""
        try:
            await self._redis.publish(self._prefix + channel, json.dumps(event, default=str))
        except Exception as error:
            log.warning("redis publish on %s failed: %s", channel, error)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Subscribe to `channel`; the subscription is confirmed before the context is entered."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._prefix + channel)

        async def events() -> AsyncIterator[Event]:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                try:
                    yield json.loads(message["data"])
                except (TypeError, ValueError):
                    log.warning("malformed bus message on %s", channel)

        try:
            yield events()
        finally:
            try:
                await pubsub.unsubscribe()
                await pubsub.aclose()
            except Exception:
                pass

    async def close(self) -> None:
        await self._redis.aclose()


_bus: EventBus | None = None


def get_bus() -> EventBus:
    """The process-wide bus, chosen by REDIS_URL on first use (no I/O at import time)."""
    global _bus
    if _bus is None:
        url = (get_settings().redis_url or "").strip()
        _bus = RedisBus(url) if url else InProcessBus()
    return _bus


def set_bus(bus: EventBus | None) -> None:
    """Replace the process-wide bus (tests)."""
    global _bus
    _bus = bus
