"""Rasa's Slack connector, subclassed minimally.

Why a subclass: Rasa 3.6's `SlackInput` builds `AsyncWebClient(token)` without a `base_url`, so it
cannot talk to a local stand-in, and it answers a bad signature with 400 instead of 403. This
subclass adds:
- `api_base_url` (env SLACK_API_BASE_URL) passed to slack_sdk's `AsyncWebClient(base_url=…)`;
- 403 for a missing/bad `X-Slack-Signature` or a stale `X-Slack-Request-Timestamp` (Rasa's own
  check, HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret, 5-minute window);
- oversized (> 64 KB) → 413, malformed JSON → 400, a replayed `event_id` is processed once;
- metadata `channel`/`sender_id` for the identity lookup.
Everything else (event parsing, retries, threads, buttons) is Rasa's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import slack as rasa_slack
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.common import ReplayGuard, redis_url_from_env, setting, trusted_metadata

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class SlackBot(rasa_slack.SlackBot):
    """Rasa's Slack output with a configurable Web API base URL."""

    def __init__(self, token: str, slack_channel: str | None = None, thread_id: str | None = None,
                 proxy: str | None = None, api_base_url: str | None = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        if api_base_url:
            base = api_base_url if api_base_url.endswith("/") else api_base_url + "/"
            self.client = AsyncWebClient(token, proxy=proxy, base_url=base)


class SlackInput(rasa_slack.SlackInput):
    """Rasa's Slack Events API webhook: 403 on forged requests, replay guard, stand-in support."""

    api_base_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, SlackInput)
        channel.api_base_url = setting(credentials, "api_base_url", "SLACK_API_BASE_URL")
        channel.replays = ReplayGuard("slack", redis_url=redis_url_from_env())
        return channel

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        return SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_base_url)

    def get_metadata(self, request: Request) -> dict[str, Any]:
        metadata = super().get_metadata(request)
        sender = ""
        if request.headers.get("content-type") == "application/json" and isinstance(request.json, dict):
            sender = str((request.json.get("event") or {}).get("user", ""))
        return {**metadata, **trusted_metadata(self.name(), sender)}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)
        if not hasattr(self, "replays"):
            self.replays = ReplayGuard("slack", redis_url=redis_url_from_env())

        @bp.middleware("request")
        async def guard(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text("payload too large", status=413)
            if not self.is_request_from_slack_authentic(request):
                logger.warning("slack: request with a missing or invalid signature refused")
                return response.text("invalid signature", status=403)
            if request.headers.get("content-type") == "application/json":
                try:
                    event = json.loads(request.body or b"")
                except ValueError:
                    return response.text("malformed JSON", status=400)
                if not isinstance(event, dict) or not isinstance(event.get("event", {}), dict):
                    return response.text("not a Slack event", status=400)
                event_id = event.get("event_id")
                if isinstance(event_id, str) and not await self.replays.first_time(event_id):
                    logger.info("slack: replayed event ignored")
                    return response.text("")
            return None

        return bp
