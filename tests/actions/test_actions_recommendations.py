"""Recommendations in chat against the real CRM test server: verification first, reasons in zh/en, CRM down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from action_helpers import crm_get, customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import resumable_actions
from actions.recommendations import ActionRecommendProducts

pytestmark = pytest.mark.asyncio
CJK = re.compile(r"[\u4e00-\u9fff]")


async def recommendations(crm_url: str, customer_id: int) -> dict[str, Any]:
    return dict(await crm_get(crm_url, f"/customers/{customer_id}/recommendations"))


async def test_an_unverified_visitor_is_asked_to_verify_and_gets_no_account_data(
        crm_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendProducts().run(dispatcher, make_tracker(text="推荐"), domain)
    assert any(e["event"] == "followup" and e["name"] == "verify_form" for e in events)
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}["pending_action"] == \
        "action_recommend_products"
    assert "验证" in texts(dispatcher) and "¥" not in texts(dispatcher)
    assert "action_recommend_products" in resumable_actions(), "answered once the code is checked"


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_verified_customer_gets_items_with_their_reasons(crm_url: str, domain: dict[str, Any],
                                                                 language: str) -> None:
    expected = (await recommendations(crm_url, 1))["items"]
    assert expected, "the demo customer has recommendations"
    dispatcher = CollectingDispatcher()
    text = "推荐" if language == "zh" else "recommend something"
    await ActionRecommendProducts().run(dispatcher, make_tracker(text=text, slots=customer_slots(1),
                                                                 language=language), domain)
    reply = texts(dispatcher)
    for item in expected:
        assert item[f"name_{language}"] in reply and item[f"reason_{language}"] in reply
    assert reply.startswith("根据您的购买记录" if language == "zh" else "Picked for you")
    if language == "en":
        assert not CJK.search(reply), reply


async def test_crm_down_gives_a_polite_apology(crm_url: str, domain: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:18039")  # nothing listens there
    for language, expected in (("zh", "抱歉"), ("en", "sorry")):
        dispatcher = CollectingDispatcher()
        events = await ActionRecommendProducts().run(
            dispatcher, make_tracker(slots=customer_slots(1), language=language), domain)
        assert events == [] and expected in texts(dispatcher).lower()
