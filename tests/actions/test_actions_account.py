"""Account actions against the real CRM test server: verification gate, points, orders, tier, tickets."""

from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import jwt
import pytest
from action_helpers import SERVICE_TOKEN, TOKEN_SECRET, customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.account import (
    ActionGreetCustomer,
    ActionShowOrderStatus,
    ActionShowPointsBalance,
    ActionShowPointsExpiring,
    ActionShowPointsHistory,
    ActionShowRewards,
    ActionShowTickets,
    ActionShowTier,
)
from actions.session import ActionSessionStart

pytestmark = pytest.mark.asyncio


async def crm_get(crm_url: str, path: str) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{crm_url}/api/v1{path}", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as r:
            assert r.status == 200, await r.text()
            return await r.json()


def token(customer_id: int, secret: str = TOKEN_SECRET, minutes: int = 10) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(customer_id), "iat": now, "exp": now + minutes * 60}, secret, algorithm="HS256")


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_balance_needs_verification(crm_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionShowPointsBalance().run(dispatcher, make_tracker(text="我的积分有多少"), domain)
    assert any(e["event"] == "followup" and e["name"] == "verify_form" for e in events)
    assert slot_events(events)["pending_action"] == "action_show_points_balance"
    assert "验证" in texts(dispatcher) and not re.search(r"\d{3,}", texts(dispatcher))


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_balance_for_verified_customer(crm_url: str, domain: dict[str, Any], language: str) -> None:
    balance = (await crm_get(crm_url, "/customers/1/points"))["balance"]
    dispatcher = CollectingDispatcher()
    await ActionShowPointsBalance().run(dispatcher, make_tracker(slots=customer_slots(1), language=language),
                                        domain)
    reply = texts(dispatcher)
    assert f"{balance:,}" in reply
    assert bool(re.search(r"[\u4e00-\u9fff]", reply)) == (language == "zh")


async def test_token_in_metadata_verifies_the_account_question(crm_url: str, domain: dict[str, Any]) -> None:
    balance = (await crm_get(crm_url, "/customers/3/points"))["balance"]
    tracker = make_tracker(text="what is my points balance", language="en", metadata={"customer_token": token(3)})
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionShowPointsBalance().run(dispatcher, tracker, domain))
    assert events["customer_id"] == 3 and events["verified"] is True
    assert f"{balance:,}" in texts(dispatcher)


async def test_token_of_another_customer_replaces_the_verified_one(crm_url: str, domain: dict[str, Any]) -> None:
    """Logged out and in as someone else on the same page: the token on this message decides."""
    tracker = make_tracker(text="我的积分", language="zh", slots=customer_slots(1),
                           metadata={"customer_token": token(3)})
    events = slot_events(await ActionShowPointsBalance().run(CollectingDispatcher(), tracker, domain))
    assert events["customer_id"] == 3


@pytest.mark.parametrize("bad", [token(3, secret="wrong-secret-wrong-secret-wrong-secret"), token(3, minutes=-5),
                                 "not-a-jwt"])
async def test_invalid_tokens_are_ignored(crm_url: str, domain: dict[str, Any], bad: str) -> None:
    tracker = make_tracker(text="我的积分", language="zh", metadata={"customer_token": bad})
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionShowPointsBalance().run(dispatcher, tracker, domain))
    assert "verified" not in events and "customer_id" not in events
    assert events["pending_action"] == "action_show_points_balance"  # asked to verify instead


async def test_session_start_carries_identity_and_takes_the_page_language(crm_url: str,
                                                                          domain: dict[str, Any]) -> None:
    tracker = make_tracker(slots={**customer_slots(1), "language": "zh",
                                  "session_started_metadata": {"language": "en"}})
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    slots = slot_events(events)
    assert slots["customer_id"] == 1 and slots["verified"] is True and slots["language"] == "en"


@pytest.mark.parametrize(("language", "expected"), [("zh", "王伟"), ("en", "Wang Wei")])
async def test_greeting_uses_name_and_tier(crm_url: str, domain: dict[str, Any], language: str,
                                           expected: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionGreetCustomer().run(dispatcher, make_tracker(slots=customer_slots(1), language=language), domain)
    reply = texts(dispatcher)
    assert expected in reply and ("钻石" in reply if language == "zh" else "Diamond" in reply)


async def test_order_by_number_with_shipping_events(crm_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="where is KF20250003", language="en", slots=customer_slots(3),
                           entities=[{"entity": "order_id", "value": "KF20250003", "start": 9, "end": 19}])
    await ActionShowOrderStatus().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "KF20250003" in reply and "in transit" in reply and "Parcel picked up" in reply


async def test_latest_order_when_no_number(crm_url: str, domain: dict[str, Any]) -> None:
    latest = (await crm_get(crm_url, "/customers/3/orders?limit=1"))["items"][0]["order_no"]
    dispatcher = CollectingDispatcher()
    await ActionShowOrderStatus().run(dispatcher, make_tracker(text="我的order到了吗", slots=customer_slots(3)),
                                      domain)
    assert latest in texts(dispatcher)


async def test_someone_elses_order_is_not_shown(crm_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="KF20250003", slots=customer_slots(1),
                           entities=[{"entity": "order_id", "value": "KF20250003", "start": 0, "end": 10}])
    await ActionShowOrderStatus().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "没有找到" in reply and "运输" not in reply


async def test_tier_benefits_and_progress(crm_url: str, domain: dict[str, Any]) -> None:
    tier = await crm_get(crm_url, "/customers/3/tier")
    dispatcher = CollectingDispatcher()
    await ActionShowTier().run(dispatcher, make_tracker(slots=customer_slots(3), language="en"), domain)
    reply = texts(dispatcher)
    assert "Gold" in reply and tier["benefits"][0]["name_en"] in reply
    assert f"{tier['amount_to_next']:,}".split(".")[0] in reply.replace(".0", "")


async def test_points_history_expiring_and_rewards(crm_url: str, domain: dict[str, Any]) -> None:
    points = await crm_get(crm_url, "/customers/1/points")
    dispatcher = CollectingDispatcher()
    await ActionShowPointsHistory().run(dispatcher, make_tracker(slots=customer_slots(1)), domain)
    assert "积分记录" in texts(dispatcher)
    dispatcher = CollectingDispatcher()
    await ActionShowPointsExpiring().run(dispatcher, make_tracker(slots=customer_slots(1)), domain)
    assert f"{points['expiring_total_30d']:,}" in texts(dispatcher)
    dispatcher = CollectingDispatcher()
    await ActionShowRewards().run(dispatcher, make_tracker(language="en"), domain)
    assert "COUPON10" in texts(dispatcher) and "sold out" in texts(dispatcher)


async def test_ticket_status(crm_url: str, domain: dict[str, Any]) -> None:
    tickets = await crm_get(crm_url, "/customers/5/tickets")
    dispatcher = CollectingDispatcher()
    await ActionShowTickets().run(dispatcher, make_tracker(slots=customer_slots(5)), domain)
    assert tickets["items"][0]["ticket_no"] in texts(dispatcher)


async def test_crm_down_gives_a_polite_apology(crm_url: str, domain: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:18039")  # nothing listens there
    for language, expected in (("zh", "抱歉"), ("en", "sorry")):
        dispatcher = CollectingDispatcher()
        events = await ActionShowPointsBalance().run(
            dispatcher, make_tracker(slots=customer_slots(1), language=language), domain)
        assert events == [] and expected in texts(dispatcher).lower()
