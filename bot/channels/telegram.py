"""Rasa's Telegram connector, subclassed minimally.

Why a subclass: Rasa 3.6's `TelegramInput` cannot be pointed at another Bot API server (aiogram's
`server=` is not exposed), calls `setWebhook` on api.telegram.org at start-up from a throw-away event
loop, and authenticates nothing (its only check is that `getMe` returns the configured username).
This subclass adds:
- `api_base_url` (env TELEGRAM_API_BASE_URL): aiogram `TelegramAPIServer.from_base`, for a local Bot
  API server or a test stand-in;
- `secret_token` (env TELEGRAM_SECRET_TOKEN): Telegram's `X-Telegram-Bot-Api-Secret-Token` header,
  set with `setWebhook(secret_token=…)`; a missing or wrong header → 403;
- oversized (> 64 KB) → 413, malformed JSON → 400, a replayed `update_id` is processed once;
- metadata `channel`/`sender_id` for the identity lookup; no network call at start-up;
- Rasa's unauthenticated `/set_webhook` route is closed (404): anyone could otherwise re-register the
  webhook without the secret token.
The message handling itself is Rasa's.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from rasa.core.channels import telegram as rasa_telegram
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import ReplayGuard, redis_url_from_env, setting, trusted_metadata

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramOutput(rasa_telegram.TelegramOutput):
    """Rasa's Telegram output talking to `api_base_url` instead of api.telegram.org when given."""

    def __init__(self, access_token: str | None, api_base_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_base_url.rstrip("/")) if api_base_url else TELEGRAM_PRODUCTION
        Bot.__init__(self, access_token, server=server)


def chat_id(update: dict[str, Any]) -> str | None:
    """The chat id Rasa uses as the sender of a Telegram update."""
    if isinstance(update.get("callback_query"), dict):
        message = update["callback_query"].get("message") or {}
    else:
        message = update.get("edited_message") or update.get("message") or {}
    chat = message.get("chat") if isinstance(message, dict) else None
    return str(chat["id"]) if isinstance(chat, dict) and "id" in chat else None


class TelegramInput(rasa_telegram.TelegramInput):
    """Rasa's Telegram webhook with a secret-token check, size limit, replay guard and stand-in support."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
                      debug_mode=False)
        channel.secret_token = setting(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN")
        channel.api_base_url = setting(credentials, "api_base_url", "TELEGRAM_API_BASE_URL")
        if not channel.secret_token:
            logger.warning("telegram: no secret_token configured — anyone who knows the webhook URL can post to it")
        return channel

    def __init__(self, access_token: str | None, verify: str | None, webhook_url: str | None,
                 debug_mode: bool = False) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.secret_token: str | None = None
        self.api_base_url: str | None = None
        self.replays = ReplayGuard("telegram", redis_url=redis_url_from_env())

    def get_output_channel(self) -> TelegramOutput:
        """The output channel, without Rasa's start-up `setWebhook` call (set the webhook once, by hand)."""
        return TelegramOutput(self.access_token, self.api_base_url)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        update = request.json if isinstance(request.json, dict) else {}
        return trusted_metadata(self.name(), chat_id(update) or "")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)

        @bp.middleware("request")
        async def guard(request: Request) -> HTTPResponse | None:
            if request.path.rstrip("/").endswith("/set_webhook"):
                # Rasa's unauthenticated route would re-register the webhook without the secret token.
                return response.text("not found", status=404)
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            given = request.headers.get(SECRET_HEADER, "")
            if self.secret_token and not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                logger.warning("telegram: update with a missing or wrong secret token refused")
                return response.text("forbidden", status=403)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text("payload too large", status=413)
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.text("malformed JSON", status=400)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int) or chat_id(update) is None:
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    return response.text("success")  # an update kind we do not handle (polls, joins …)
                return response.text("not a Telegram update", status=400)
            if not await self.replays.first_time(str(update["update_id"])):
                logger.info("telegram: replayed update ignored")
                return response.text("success")
            return None

        return bp
