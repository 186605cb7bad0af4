"""The CRM's client of Rasa's HTTP API (tracker read, bot-event push, resume, trigger_intent).

Every call has a short timeout and raises `RasaUnavailable` on any transport or HTTP failure, so
callers can queue a message instead of losing it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from crm_backend.core.config import get_settings


class RasaUnavailable(Exception):
    """Rasa could not be reached or refused the request."""


class RasaClient:
    """Thin async wrapper over the Rasa 3.6 conversation endpoints, authenticated with `?token=`."""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    async def _request(self, method: str, url: str, params: dict[str, str], json: Any = None) -> Any:
        params = {**params, "token": self.token}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                response = await client.request(method, url, params=params, json=json)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            raise RasaUnavailable(f"HTTP {response.status_code}: {response.text[:200]}")
        return response.json() if response.content else None

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker with all events."""
        result = await self._request("GET", self._url(conversation_id, "tracker"), {"include_events": "ALL"})
        return result if isinstance(result, dict) else {}

    async def send_bot_message(self, conversation_id: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        """Append a `bot` event with side effects: Rasa sends it on the customer's latest channel."""
        event = {"event": "bot", "text": text, "timestamp": time.time(), "metadata": metadata or {}}
        await self._request("POST", self._url(conversation_id, "tracker/events"),
                            {"output_channel": "latest", "execute_side_effects": "true"}, json=event)

    async def resume(self, conversation_id: str) -> None:
        """Post `resume`, then `action_listen`, so the bot answers again.

        The last action of a paused conversation is `action_handoff_to_human`, not `action_listen`; without
        the listen, a triggered intent does not match the bot's rules (whose user turns follow a listen)
        and the bot falls back instead of asking the CSAT question.
        """
        url = self._url(conversation_id, "tracker/events")
        await self._request("POST", url, {"execute_side_effects": "true"},
                            json={"event": "resume", "timestamp": time.time()})
        await self._request("POST", url, {}, json={"event": "action", "name": "action_listen",
                                                   "timestamp": time.time()})

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None) -> Any:
        """Trigger an external intent and send the bot's answer on the latest channel."""
        return await self._request("POST", self._url(conversation_id, "trigger_intent"), {"output_channel": "latest"},
                                   json={"name": intent, "entities": entities or {}})

    async def erase(self, conversation_id: str) -> None:
        """Replace the conversation's tracker events with none (a customer's erasure request)."""
        await self._request("PUT", self._url(conversation_id, "tracker/events"), {}, json=[])


def rasa_client() -> RasaClient:
    """A client of the configured Rasa server (`RASA_URL`, `RASA_AUTH_TOKEN`)."""
    settings = get_settings()
    return RasaClient(settings.rasa_url, settings.rasa_auth_token)
