"""Helpers shared by Kefu's channels: trusted metadata, replay guard, settings from the environment."""

from __future__ import annotations

import logging
import os
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

# What a client may put into the metadata of a message; everything else is dropped so a widget
# cannot claim another channel or sender.
CLIENT_METADATA_KEYS = ("customer_token", "language")
MAX_METADATA_VALUE = 4096
MAX_MESSAGE_CHARS = 4000


def trusted_metadata(channel: str, sender_id: str, client: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Metadata the bot can rely on: `channel` and `sender_id` come from the connector, not the client.

    The bot's actions look a chat-app user up at `/identity/channels/{channel}/{sender_id}`.
    """
    metadata: dict[str, Any] = {}
    for key in CLIENT_METADATA_KEYS:
        value = (client or {}).get(key)
        if isinstance(value, str) and 0 < len(value) <= MAX_METADATA_VALUE:
            metadata[key] = value
    metadata["channel"] = channel
    metadata["sender_id"] = str(sender_id)
    return metadata


class ReplayGuard:
    """Remembers recently seen message ids so a replayed or retried message is processed once.

    With Redis (REDIS_URL / REDIS_HOST) the ids are shared by every Rasa instance (`SET NX EX`), so a
    platform retry that lands on another instance is still recognised. Without Redis, or if Redis
    fails, a bounded in-process memory is used.
    """

    def __init__(self, namespace: str, ttl_seconds: float = 600, max_items: int = 10000,
                 redis_url: str | None = None) -> None:
        self.namespace = namespace
        self.ttl = ttl_seconds
        self.max_items = max_items
        self.redis_url = redis_url
        self._redis: Any = None
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def first_time(self, key: str) -> bool:
        """True the first time `key` is seen within the ttl, False for a replay."""
        if self.redis_url:
            try:
                if self._redis is None:
                    import redis.asyncio as aioredis  # only needed in services mode

                    self._redis = aioredis.Redis.from_url(self.redis_url, socket_timeout=2)
                added = await self._redis.set(f"kefu:replay:{self.namespace}:{key}", "1", nx=True,
                                              ex=max(1, int(self.ttl)))
                return bool(added)
            except Exception as error:
                logger.warning("replay guard: Redis unavailable (%s), using local memory", type(error).__name__)
        return self._first_time_locally(key)

    def _first_time_locally(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen:
            _, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.max_items:
                break
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


def setting(credentials: Mapping[str, Any] | None, key: str, env: str, default: str | None = None) -> str | None:
    """A channel setting from credentials.yml, else from the environment variable `env`."""
    value = (credentials or {}).get(key)
    if value in (None, ""):
        value = os.environ.get(env, default)
    return None if value in (None, "") else str(value)


def redis_url_from_env() -> str | None:
    """REDIS_URL, or one built from REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD; None without Redis."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    host = os.environ.get("REDIS_HOST")
    if not host:
        return None
    password = os.environ.get("REDIS_PASSWORD")
    auth = f":{urllib.parse.quote(password)}@" if password else ""
    return f"redis://{auth}{host}:{os.environ.get('REDIS_PORT', '6379')}/{os.environ.get('REDIS_DB', '0')}"
