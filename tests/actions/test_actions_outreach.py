"""Opt-out from chat ("退订" / "unsubscribe" / "stop messages") against the real CRM test server."""

from __future__ import annotations

import aiohttp
import pytest
from action_helpers import SERVICE_TOKEN, customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import render
from actions.outreach import ActionOptOutMessages

pytestmark = pytest.mark.asyncio


async def test_verified_customer_is_opted_out_with_a_confirmation_in_each_language(crm_url: str) -> None:
    for lang, expected in (("zh", "已为您退订营销消息"), ("en", "You are unsubscribed from marketing")):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(text="退订" if lang == "zh" else "stop messages", intent="unsubscribe_messages",
                               slots=customer_slots(1), language=lang, channel="telegram")
        assert await ActionOptOutMessages().run(dispatcher, tracker, {}) == []
        assert texts(dispatcher).startswith(expected)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{crm_url}/api/v1/messaging/opt-out", json={"channel": "rest", "customer_id": 1},
                                headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as answer:
            assert answer.status == 200 and (await answer.json())["customer_id"] == 1


async def test_unknown_sender_gets_the_confirmation_too(crm_url: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="unsubscribe", intent="unsubscribe_messages", language="en", channel="slack",
                           sender="U-not-linked")
    await ActionOptOutMessages().run(dispatcher, tracker, {})
    assert texts(dispatcher).startswith("You are unsubscribed from marketing")


async def test_crm_down_gets_a_polite_apology(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:9")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="退订", intent="unsubscribe_messages", language="zh", channel="wechat")
    assert await ActionOptOutMessages().run(dispatcher, tracker, {}) == []
    assert texts(dispatcher) == render("utter_crm_down", "zh")
