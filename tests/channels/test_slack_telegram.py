"""Slack and Telegram connectors (Rasa's, subclassed): signatures/secret tokens, replays, bad input, outbound."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import pytest

from bot.channels.slack import SlackInput
from bot.channels.telegram import TelegramInput
from testing.standin_api import StandIn
from tests.channels.conftest import ServeFn, eventually

SIGNING_SECRET = "slack-test-signing-secret"
TG_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
TG_SECRET = "tg-test-secret"


def slack_channel(standin: StandIn) -> SlackInput:
    channel = SlackInput.from_credentials({"slack_token": "xoxb-test", "slack_signing_secret": SIGNING_SECRET,
                                           "api_base_url": f"{standin.base_url}/api/"})
    assert isinstance(channel, SlackInput)
    return channel


def slack_event(text: str, event_id: str = "Ev01", user: str = "U123") -> bytes:
    return json.dumps({
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()),
        "event": {"type": "message", "channel_type": "im", "channel": "D42", "user": user, "text": text,
                  "ts": "1700000000.000100"},
    }).encode()


def slack_headers(body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": "application/json"}


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as answer:
            return answer.status, await answer.text()


@pytest.mark.asyncio
async def test_slack_signed_event_reaches_the_bot_and_the_reply_reaches_the_standin(
    serve: ServeFn, standin: StandIn
) -> None:
    served = await serve(slack_channel(standin))
    body = slack_event("我的订单到哪了")
    assert (await post(f"{served.url}/webhooks/slack/webhook", body, slack_headers(body)))[0] == 200
    await eventually(lambda: bool(standin.sent("slack", "chat.postMessage")))
    message = served.agent.received[0]
    assert message.text == "我的订单到哪了" and message.sender_id == "U123" and message.input_channel == "slack"
    assert message.metadata["channel"] == "slack" and message.metadata["sender_id"] == "U123"
    posted = standin.sent("slack", "chat.postMessage")[0].body
    assert posted["channel"] == "D42" and posted["text"] == "echo: 我的订单到哪了"


@pytest.mark.asyncio
async def test_slack_bad_or_stale_signature_is_403(serve: ServeFn, standin: StandIn) -> None:
    served = await serve(slack_channel(standin))
    url = f"{served.url}/webhooks/slack/webhook"
    body = slack_event("hi")
    assert (await post(url, body, slack_headers(body, secret="not-the-secret")))[0] == 403
    assert (await post(url, body, slack_headers(body, timestamp=int(time.time()) - 3600)))[0] == 403
    assert (await post(url, body, {"Content-Type": "application/json"}))[0] == 403
    tampered = slack_event("hi, changed")
    assert (await post(url, tampered, slack_headers(body)))[0] == 403
    assert served.agent.received == []


@pytest.mark.asyncio
async def test_slack_replay_malformed_and_challenge(serve: ServeFn, standin: StandIn) -> None:
    served = await serve(slack_channel(standin))
    url = f"{served.url}/webhooks/slack/webhook"
    body = slack_event("once please", event_id="EvReplay")
    assert (await post(url, body, slack_headers(body)))[0] == 200
    assert (await post(url, body, slack_headers(body)))[0] == 200
    await eventually(lambda: len(served.agent.received) >= 1)
    assert len(served.agent.received) == 1
    garbage = b"{not json"
    assert (await post(url, garbage, slack_headers(garbage)))[0] == 400
    huge = b'{"x": "' + b"a" * 70_000 + b'"}'
    assert (await post(url, huge, slack_headers(huge)))[0] == 413
    challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    status, text = await post(url, challenge, slack_headers(challenge))
    assert status == 200 and "c-123" in text


def telegram_channel(standin: StandIn) -> TelegramInput:
    channel = TelegramInput.from_credentials({"access_token": TG_TOKEN, "verify": "kefu_bot", "webhook_url": "",
                                              "secret_token": TG_SECRET, "api_base_url": standin.base_url})
    assert isinstance(channel, TelegramInput)
    return channel


def telegram_update(text: str, update_id: int = 1, chat: int = 987654) -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "Ann"},
        "from": {"id": chat, "is_bot": False, "first_name": "Ann", "language_code": "en"}}}).encode()


def tg_headers(secret: str | None = TG_SECRET) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return headers


@pytest.mark.asyncio
async def test_telegram_update_with_secret_reaches_the_bot_and_reply_goes_to_the_standin(
    serve: ServeFn, standin: StandIn
) -> None:
    served = await serve(telegram_channel(standin))
    url = f"{served.url}/webhooks/telegram/webhook"
    assert await post(url, telegram_update("what are my points?"), tg_headers()) == (200, "success")
    message = served.agent.received[0]
    assert message.sender_id == "987654" and message.input_channel == "telegram"
    assert message.metadata == {"channel": "telegram", "sender_id": "987654"}
    sent = standin.sent("telegram", "sendMessage")
    assert len(sent) == 1 and sent[0].body["chat_id"] == "987654"
    assert sent[0].body["text"] == "echo: what are my points?"
    assert standin.sent("telegram", "getMe"), "Rasa's username check goes to the stand-in too"


@pytest.mark.asyncio
async def test_telegram_forged_replayed_and_malformed_updates(serve: ServeFn, standin: StandIn) -> None:
    served = await serve(telegram_channel(standin))
    url = f"{served.url}/webhooks/telegram/webhook"
    assert (await post(url, telegram_update("x", 5), tg_headers("wrong")))[0] == 403
    assert (await post(url, telegram_update("x", 5), tg_headers(None)))[0] == 403
    assert (await post(url, b"[1, 2", tg_headers()))[0] == 400
    assert (await post(url, b'{"hello": 1}', tg_headers()))[0] == 400
    assert (await post(url, b'{"update_id": 9, "poll": {"id": "1"}}', tg_headers())) == (200, "success")
    assert (await post(url, b'{"update_id": 10, "message": {"chat": {"id": 1}, "text": "' + b"a" * 70_000 + b'"}}',
                       tg_headers()))[0] == 413
    assert served.agent.received == []
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served.url}/webhooks/telegram/set_webhook") as answer:
            assert answer.status == 404, "the unauthenticated set_webhook route is closed"
    assert not standin.sent("telegram", "setWebhook")
    assert (await post(url, telegram_update("once", 6), tg_headers()))[0] == 200
    assert (await post(url, telegram_update("once", 6), tg_headers()))[0] == 200
    assert len(served.agent.received) == 1
