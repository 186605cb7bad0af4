"""Issue 15: two account requests in one message - the first is answered, the other offered right after."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionShowPointsBalance
from actions.messages import render
from actions.multi_request import also_asked

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("text,answered,expected", [
    ("我的积分还有多少，还有我的订单到哪了", "action_show_points_balance", ["check_order_status"]),
    ("查一下我的会员等级和工单", "action_show_tier", ["check_ticket_status"]),
    ("what's my points balance and where is my order", "action_show_points_balance", ["check_order_status"]),
    ("where's my parcel, also what tier am i", "action_show_order_status", ["check_tier"]),
    ("show me the rewards and my points balance", "action_show_rewards", ["check_points_balance"]),
    ("我的积分还有多少", "action_show_points_balance", []),  # one request
    ("where is my order", "action_show_order_status", []),
    ("我的订单和包裹到哪了", "action_show_order_status", []),  # two words for the same request
    ("/check_points_balance", "action_show_points_balance", []),
])
async def test_the_other_request_is_found(text: str, answered: str, expected: list[str]) -> None:
    assert [r.intent for r in also_asked(text, answered)] == expected


@pytest.mark.parametrize("language,text,title", [("zh", "我的积分还有多少，另外我的订单到哪了", "查询订单"),
                                                  ("en", "how many points do i have and where's my order",
                                                   "check your order")])
async def test_the_first_request_is_answered_then_the_second_offered(
        crm_url: str, domain: dict[str, Any], language: str, text: str, title: str) -> None:
    """Against the real CRM: the balance comes first, then one line naming the order request with its button."""
    dispatcher = CollectingDispatcher()
    await ActionShowPointsBalance().run(dispatcher, make_tracker(text=text, language=language,
                                                                 slots=customer_slots(3)), domain)
    last = dispatcher.messages[-1]
    assert last["text"] == render("utter_also_asked", language, requests=title)
    assert last["buttons"] == [{"title": title, "payload": "/check_order_status"}]
    assert render("utter_also_asked", language, requests=title) not in texts(dispatcher).split("\n")[0]
    assert len(dispatcher.messages) >= 2
