"""Leaving a form (issue 15): a cancel inside a longer message ("算了，我想查一下积分"), a new request after a
long silence, and what the customer asked for instead. End to end in tests/e2e/test_understanding.py."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import crm_get, customer_slots, form_turn, make_tracker, slot_values, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ValidateComplaintForm
from actions.feedback import ValidateSuggestionForm
from actions.forms import ActionDropForm, ActionResumeForm, ActionStopForm
from actions.messages import render
from actions.repair import FORM_IDLE_S, request_after_cancel

pytestmark = pytest.mark.asyncio


def followups(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


@pytest.mark.parametrize("text,expected", [
    ("算了，我想查一下积分", "action_show_points_balance"),
    ("算了我想查一下积分", "action_show_points_balance"),
    ("不投诉了，帮我看看订单到哪了", "action_show_order_status"),
    ("never mind, what's my points balance", "action_show_points_balance"),
    ("forget it. where is my order?", "action_show_order_status"),
    ("算了，你们运费怎么算", "action_answer_from_knowledge"),
    ("cancel that, how long do refunds take?", "action_answer_from_knowledge"),
    ("算了，我自己再看看", None),  # a stop, and nothing else asked for
    ("算了", None),
    ("stop sending me emails, I never signed up", None),  # a complaint text, not a cancel
    ("没有收到货，积分也没到账", None),  # a description that starts with "no"
])
async def test_what_a_cancel_asks_for_instead(text: str, expected: str | None) -> None:
    assert request_after_cancel(text) == expected


@pytest.mark.parametrize("language,text", [("zh", "算了，我想查一下积分"),
                                           ("en", "never mind, what's my points balance")])
async def test_a_cancel_inside_the_description_leaves_the_form_instead_of_filing_it(
        domain: dict[str, Any], language: str, text: str) -> None:
    """Regression: "我要投诉" → "没有" → "算了，我想查一下积分" filed a complaint with that text."""
    tracker = form_turn(text=text, intent="check_points_balance", active_loop="complaint_form",
                        requested="complaint_text", candidates={"complaint_text": text}, language=language,
                        slots={"complaint_order": "none"})
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    slots = slot_values(events)
    assert slots["complaint_text"] is None and slots["requested_slot"] is None
    assert slots["paused_form"] == "complaint_form" and followups(events) == ["action_stop_form"]
    assert dispatcher.messages == []


async def test_the_stop_then_does_what_was_asked_at_once_when_nothing_would_be_lost(crm_url: str) -> None:
    tracker = make_tracker(text="算了，我想查一下积分", intent="check_points_balance",
                           slots={**customer_slots(1), "paused_form": "suggestion_form"})
    dispatcher = CollectingDispatcher()
    events = await ActionStopForm().run(dispatcher, tracker, {})
    balance = (await crm_get(crm_url, "/customers/1/points"))["balance"]
    said = texts(dispatcher)
    assert render("utter_form_stopped", "zh") in said and f"{balance:,}" in said, said
    assert followups(events) == []  # done inline: nothing is left for the policies to guess after it
    assert slot_values(events)["paused_form"] is None and slot_values(events)["suggestion_text"] is None


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_with_details_to_lose_it_asks_first_and_does_it_after_the_yes(crm_url: str, language: str) -> None:
    text = "算了，我想查一下积分" if language == "zh" else "never mind, what's my points balance"
    given = {**customer_slots(1), "complaint_order": "KF20250003", "paused_form": "complaint_form"}
    tracker = make_tracker(text=text, intent="check_points_balance", slots=given, language=language)
    dispatcher = CollectingDispatcher()
    events = await ActionStopForm().run(dispatcher, tracker, {})
    balance = f"{(await crm_get(crm_url, '/customers/1/points'))['balance']:,}"
    assert render("utter_form_stop_confirm", language) in texts(dispatcher) and balance not in texts(dispatcher)
    slots = slot_values(events)
    assert slots["paused_form"] == "complaint_form" and slots["paused_request"] == "action_show_points_balance"
    waiting = {**given, "paused_request": "action_show_points_balance"}
    dispatcher = CollectingDispatcher()
    dropped = await ActionDropForm().run(dispatcher, make_tracker(slots=waiting, language=language), {})
    assert balance in texts(dispatcher) and slot_values(dropped)["complaint_order"] is None
    resumed = await ActionResumeForm().run(CollectingDispatcher(), make_tracker(slots=waiting, language=language), {})
    assert followups(resumed) == [] and slot_values(resumed)["paused_request"] is None


@pytest.mark.parametrize("language,text,intent,expected", [
    ("zh", "我的积分还有多少", "check_points_balance", "action_show_points_balance"),
    ("en", "hi there", "greet", "action_greet_customer"),
    ("en", "how long do refunds take?", "faq", "action_answer_from_knowledge"),
])
async def test_a_new_request_after_a_long_silence_sets_the_form_aside_politely(
        domain: dict[str, Any], language: str, text: str, intent: str, expected: str) -> None:
    tracker = form_turn(text=text, intent=intent, active_loop="suggestion_form", requested="suggestion_text",
                        candidates={"suggestion_text": text}, language=language, gap_s=FORM_IDLE_S + 60)
    dispatcher = CollectingDispatcher()
    events = await ValidateSuggestionForm().run(dispatcher, tracker, domain)
    slots = slot_values(events)
    assert followups(events) == ["action_drop_form"] and slots["paused_request"] == expected
    assert slots["suggestion_text"] is None and slots["requested_slot"] is None and slots["paused_form"] is None
    topic = "建议" if language == "zh" else "suggestion"
    assert render("utter_form_set_aside", language, topic=topic) in texts(dispatcher)


@pytest.mark.parametrize("gap_s,text,intent", [
    (FORM_IDLE_S - 60, "我的积分还有多少", "check_points_balance"),  # not silent long enough: an answer
    (FORM_IDLE_S + 60, "希望积分能多一些，兑换的东西太少了", "ask_how_are_you"),  # after a silence, still an answer
])
async def test_without_both_a_silence_and_a_new_request_the_message_is_the_answer(
        domain: dict[str, Any], gap_s: float, text: str, intent: str) -> None:
    tracker = form_turn(text=text, intent=intent, active_loop="suggestion_form", requested="suggestion_text",
                        candidates={"suggestion_text": text}, gap_s=gap_s)
    events = await ValidateSuggestionForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_values(events)["suggestion_text"] == text and followups(events) == []


async def test_the_complaint_forms_own_topic_after_a_silence_is_the_answer(domain: dict[str, Any]) -> None:
    text = "我的订单到哪了，一个星期了还没到"
    tracker = form_turn(text=text, intent="check_order_status", active_loop="complaint_form",
                        requested="complaint_text", candidates={"complaint_text": text}, gap_s=FORM_IDLE_S * 2,
                        slots={"complaint_order": "none", "complaint_category": "delivery"})
    events = await ValidateComplaintForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_values(events)["complaint_text"] == text and followups(events) == []
