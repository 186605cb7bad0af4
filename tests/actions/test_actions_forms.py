"""Form repair in the validation actions (issue 18), without a CRM: what each form does with a reset
slot on its first turn, "none"/"don't know", a question asked mid-form, a correction, a second failure,
and stop (with and without details to lose). The same behaviours run end to end in tests/e2e/test_form_matrix.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import form_turn, make_tracker, slot_values, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ValidateComplaintForm, _is_descriptive
from actions.fallback import ActionDefaultFallback
from actions.feedback import SKIPPED, ValidateCsatForm, ValidateNpsForm, ValidateSuggestionForm
from actions.forms import (
    FORM_SLOTS,
    MAX_FAILURES,
    ActionDropForm,
    ActionResumeForm,
    ActionStopForm,
    ValidateVerifyForm,
    is_none_answer,
)
from actions.messages import render

pytestmark = pytest.mark.asyncio
FAILURES = ("utter_order_no_invalid", "utter_complaint_text_short", "utter_category_invalid", "utter_form_offer_stop")


def said(dispatcher: CollectingDispatcher, response: str, lang: str = "zh") -> bool:
    return render(response, lang).split("{")[0] in texts(dispatcher)


@pytest.mark.parametrize("language,opening", [("zh", "我要投诉"), ("en", "I want to complain"),
                                              ("zh", "我要投诉，包裹丢了")])
async def test_a_bare_opening_sends_no_failure_message(domain: dict[str, Any], language: str, opening: str) -> None:
    """Regression: the prepare action's resets reached the validators as answers: four failure messages."""
    tracker = form_turn(text=opening, intent="file_complaint", active_loop="complaint_form", requested=None,
                        candidates={"complaint_text": None, "complaint_category": None, "complaint_order": None},
                        language=language)
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == [], texts(dispatcher)
    assert slot_values(events).get("form_failures", 0) == 0


@pytest.mark.parametrize("text,descriptive", [
    ("我要投诉", False), ("我想提交一个投诉", False), ("我要反映一个问题", False), ("帮我投诉一下", False),
    ("I want to file a complaint", False), ("I'd like to lodge a formal complaint please", False),
    ("can I make a complaint?", False), ("i have a complaint", False),
    ("I want to complain about order KF20250003", False), ("我想投诉KF20250002这个订单", False),
    ("我要投诉，收到的杯子是碎的，太让人失望了", True), ("东西有质量问题，我要投诉", True),
    ("the box was crushed and the mug inside broken", True), ("my item arrived broken", True)])
def test_a_bare_opening_is_not_kept_as_the_description(text: str, descriptive: bool) -> None:
    """Regression: "I want to file a complaint" became the ticket's description, and what happened was never
    asked (the opening words left were counted as a description)."""
    assert _is_descriptive(text) is descriptive


@pytest.mark.parametrize("answer", ["没有订单号", "没有", "不记得了", "不知道", "没订单号", "none", "no order",
                                    "I don't have it", "I don't have one", "not sure", "i don't know", "no idea"])
async def test_none_and_dont_know_for_the_order(domain: dict[str, Any], answer: str) -> None:
    """Regression: 没有订单号 was re-asked with the format hint on every turn."""
    dispatcher = CollectingDispatcher()
    result = await ValidateComplaintForm().validate_complaint_order(answer, dispatcher, make_tracker(), domain)
    assert result["complaint_order"] == "none" and dispatcher.messages == []


@pytest.mark.parametrize("language,text,before", [
    ("zh", "快递三天了还没到，一直显示在杭州", None),
    ("en", "the parcel has been stuck in Hangzhou for three days", None),
    ("zh", "包裹一直显示在杭州转运中心，没人处理", "我要投诉，快递三天了还没到"),
])
async def test_details_given_for_the_order_are_kept_and_the_order_asked_again(
        domain: dict[str, Any], language: str, text: str, before: str | None) -> None:
    """Found by trying it: "快递三天了还没到" at the order question got the order-number format, and the
    form asked for the description again after "没有"."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"complaint_text": before} if before else {}, language=language)
    result = await ValidateComplaintForm().validate_complaint_order(text, dispatcher, tracker, domain)
    assert result["complaint_order"] is None and "form_failures" not in result
    assert result["complaint_text"] == (f"{before}\n{text}" if before else text)
    assert said(dispatcher, "utter_complaint_details_noted", language)
    assert not any(said(dispatcher, failure, language) for failure in FAILURES), texts(dispatcher)


@pytest.mark.parametrize("text", ["没有收到货", "没有人联系我，包裹丢了", "nothing arrived and nobody answers",
                                  "no one told me the order was cancelled"])
async def test_a_description_that_starts_with_no_is_not_a_none_answer(text: str) -> None:
    assert not is_none_answer(text)


@pytest.mark.parametrize("validator,method,answer,expected", [
    (ValidateComplaintForm, "validate_complaint_category", "不知道", "other"),
    (ValidateComplaintForm, "validate_complaint_category", "not sure", "other"),
    (ValidateCsatForm, "validate_csat_score", "不知道", SKIPPED),
    (ValidateNpsForm, "validate_nps_score", "not sure", SKIPPED),
    (ValidateSuggestionForm, "validate_suggestion_text", "没有", SKIPPED),
    (ValidateSuggestionForm, "validate_suggestion_text", "nothing", SKIPPED),
])
async def test_none_answers_in_every_optional_slot(domain: dict[str, Any], validator: Any, method: str, answer: str,
                                                   expected: str) -> None:
    dispatcher = CollectingDispatcher()
    result = await getattr(validator(), method)(answer, dispatcher, make_tracker(), domain)
    assert list(result.values())[0] == expected and dispatcher.messages == []


async def test_no_phone_ends_verification_politely(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateVerifyForm().validate_phone("我没有手机号", dispatcher, make_tracker(), domain)
    assert result["requested_slot"] is None and result["phone"] is None and said(dispatcher, "utter_verify_no_phone")


@pytest.mark.parametrize("language,question,slug", [("zh", "对了你们运费怎么算的", "shipping-fees"),
                                                    ("en", "wait, how long do refunds take?", "returns-refund-time")])
async def test_a_question_mid_form_is_answered_not_taken_as_the_order(crm_url: str, domain: dict[str, Any],
                                                                      language: str, question: str, slug: str) -> None:
    """Regression: the question got the order-number format hint. The help centre answers it (real CRM)."""
    tracker = form_turn(text=question, intent="faq", active_loop="complaint_form", requested="complaint_order",
                        candidates={"complaint_order": question}, language=language)
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    # One message (channels split texts at blank lines): with the form's question again, the turn has two.
    assert f"/help/a/{slug}?lang={language}" in texts(dispatcher) and len(dispatcher.messages) == 1
    assert "\n\n" not in texts(dispatcher)
    assert slot_values(events)["complaint_order"] is None


@pytest.mark.parametrize("language,question", [("zh", "你是机器人吗？"), ("en", "are you a bot?")])
async def test_chitchat_mid_form_gets_its_reply_and_takes_no_slot(domain: dict[str, Any], language: str,
                                                                  question: str) -> None:
    tracker = form_turn(text=question, intent="ask_if_bot", active_loop="complaint_form", requested="complaint_order",
                        candidates={"complaint_order": question}, language=language)
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_chitchat_bot_identity"]
    assert slot_values(events)["complaint_order"] is None


async def test_a_question_the_help_centre_cannot_answer_is_the_answer(crm_url: str, domain: dict[str, Any]) -> None:
    """No article: the form goes on with the message as the slot's answer (no wrong article, nothing lost)."""
    text = "火星上的天气怎么样？"
    tracker = form_turn(text=text, intent="faq", active_loop="suggestion_form", requested="suggestion_text",
                        candidates={"suggestion_text": text})
    dispatcher = CollectingDispatcher()
    events = await ValidateSuggestionForm().run(dispatcher, tracker, domain)
    assert slot_values(events)["suggestion_text"] == text and "/help/a/" not in texts(dispatcher)


@pytest.mark.parametrize("form,slot,answer", [
    ("complaint_form", "complaint_category", "物流配送"),
    ("suggestion_form", "suggestion_text", "please add evening delivery slots")])
async def test_an_answer_that_reads_as_an_faq_is_still_the_answer(domain: dict[str, Any], form: str, slot: str,
                                                                  answer: str) -> None:
    tracker = form_turn(text=answer, intent="faq", active_loop=form, requested=slot, candidates={slot: answer})
    dispatcher = CollectingDispatcher()
    validator = ValidateComplaintForm() if form == "complaint_form" else ValidateSuggestionForm()
    events = await validator.run(dispatcher, tracker, domain)
    assert slot_values(events)[slot] is not None and not dispatcher.messages


async def test_an_unsure_question_in_a_free_text_slot_is_the_answer(domain: dict[str, Any]) -> None:
    text = "包裹丢了，运费能退吗，太气人了"
    tracker = form_turn(text=text, intent="faq", confidence=0.4, active_loop="suggestion_form",
                        requested="suggestion_text", candidates={"suggestion_text": text})
    dispatcher = CollectingDispatcher()
    events = await ValidateSuggestionForm().run(dispatcher, tracker, domain)
    assert slot_values(events)["suggestion_text"] == text and dispatcher.messages == []


async def test_no_i_meant_corrects_the_order(domain: dict[str, Any]) -> None:
    text = "不对，是KF20250007"
    earlier = [{"event": "slot", "name": "complaint_order", "value": "KF20250003", "timestamp": 1.0}]
    tracker = form_turn(text=text, intent="inform", active_loop="complaint_form", requested="complaint_text",
                        candidates={"complaint_order": "KF20250007", "complaint_text": text}, earlier=earlier,
                        entities=[{"entity": "order_id", "value": "KF20250007"}])
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    slots = slot_values(events)
    assert slots["complaint_order"] == "KF20250007" and slots["complaint_text"] is None
    assert "KF20250007" in texts(dispatcher) and not any(said(dispatcher, f) for f in FAILURES)


async def test_second_failure_skips_an_optional_slot(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"form_failures": float(MAX_FAILURES - 1)}, language="en")
    result = await ValidateComplaintForm().validate_complaint_order("12345", dispatcher, tracker, domain)
    assert result["complaint_order"] == "none" and said(dispatcher, "utter_slot_skipped", "en")


async def test_second_failure_on_a_required_slot_offers_choices_and_a_way_out(domain: dict[str, Any]) -> None:
    from actions.forms import ActionAskComplaintCategory, ActionAskPhone  # type: ignore[attr-defined]

    tracker = make_tracker(slots={"form_failures": float(MAX_FAILURES)}, language="en")
    dispatcher = CollectingDispatcher()
    await ActionAskPhone().run(dispatcher, tracker, domain)
    await ActionAskComplaintCategory().run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 2 and "say 'stop'" in texts(dispatcher)
    payloads = [b["payload"] for m in dispatcher.messages for b in m["buttons"]]
    assert payloads.count("/stop") == 2 and "delivery" in payloads


async def test_stop_without_details_stops_at_once(domain: dict[str, Any]) -> None:
    tracker = make_tracker(active_loop="complaint_form", requested_slot="complaint_order", intent="stop")
    dispatcher = CollectingDispatcher()
    events = await ActionStopForm().run(dispatcher, tracker, {})
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert said(dispatcher, "utter_form_stopped") and slot_values(events)["paused_form"] is None
    # "好的" right after: the stop rule drops a form that is already gone; the customer still gets an answer.
    dispatcher = CollectingDispatcher()
    await ActionDropForm().run(dispatcher, make_tracker(intent="affirm"), {})
    assert [m.get("response") for m in dispatcher.messages] == ["utter_nothing_to_stop"]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_stop_with_details_asks_first_then_drops_or_resumes(domain: dict[str, Any], language: str) -> None:
    given = {"complaint_order": "KF20250003"}
    tracker = make_tracker(active_loop="complaint_form", requested_slot="complaint_text", intent="stop",
                           slots=given, language=language)
    dispatcher = CollectingDispatcher()
    events = await ActionStopForm().run(dispatcher, tracker, {})
    assert said(dispatcher, "utter_form_stop_confirm", language)
    assert slot_values(events)["paused_form"] == "complaint_form" and "complaint_order" not in slot_values(events)
    paused = make_tracker(slots={**given, "paused_form": "complaint_form"}, language=language)
    dispatcher = CollectingDispatcher()
    dropped = slot_values(await ActionDropForm().run(dispatcher, paused, {}))
    assert dropped["complaint_order"] is None and said(dispatcher, "utter_form_stopped", language)
    resumed = await ActionResumeForm().run(CollectingDispatcher(), paused, domain)
    assert {"event": "active_loop", "name": "complaint_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in resumed]


async def test_the_first_misunderstanding_asks_to_rephrase_not_for_a_human(domain: dict[str, Any]) -> None:
    """Regression (issue 15): the core fallback's first reply said "I still didn't understand"."""
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, make_tracker(text="嗯嗯那个啥", intent="inform"), domain)
    assert said(dispatcher, "utter_ask_rephrase") and not said(dispatcher, "utter_fallback_offer")
    earlier = [{"event": "user", "text": "asdf", "timestamp": 1.0},
               {"event": "action", "name": "action_default_fallback", "timestamp": 1.1}]
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, make_tracker(text="qwer", intent="inform", events=earlier), domain)
    assert said(dispatcher, "utter_fallback_offer")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_first_misunderstanding_offers_the_closest_tasks_as_buttons(domain: dict[str, Any],
                                                                             language: str) -> None:
    tracker = make_tracker(text="points thing??", intent="nlu_fallback", language=language)
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.7}, {"name": "check_points_balance", "confidence": 0.2},
        {"name": "faq", "confidence": 0.15}, {"name": "check_points_history", "confidence": 0.1},
        {"name": "show_rewards", "confidence": 0.08}, {"name": "check_tier", "confidence": 0.01}]
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert said(dispatcher, "utter_ask_rephrase_or_choose", language) and not said(dispatcher, "utter_fallback_offer")
    buttons = dispatcher.messages[0]["buttons"]
    # The two best tasks; a bare "faq" cannot be answered without its sub-intent, so it is not offered.
    assert [b["payload"] for b in buttons] == ["/check_points_balance", "/check_points_history"]
    assert buttons[0]["title"] == ("查询积分" if language == "zh" else "check your points")


async def test_the_stop_actions_know_every_forms_slots(domain: dict[str, Any]) -> None:
    assert {form: tuple(spec["required_slots"]) for form, spec in domain["forms"].items()} == FORM_SLOTS
