"""A remark right after a survey score is the score's comment (issue 15: "服务很好" got "我很好，谢谢关心！"),
against the real CRM test server; an outage keeps it like the score itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
from action_helpers import crm_get, customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import SURVEY_SLOT, ActionRecordSurveyComment, ActionSubmitCsat, ActionSubmitNps
from actions.kept_writes import ActionRetryKeptWrites
from actions.messages import render

pytestmark = pytest.mark.asyncio


async def ticket(crm_url: str, ticket_no: str) -> dict[str, Any]:
    return dict(await crm_get(crm_url, f"/tickets/{ticket_no}"))


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def followups(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


@pytest.mark.parametrize("language,comment", [("zh", "快递太慢了，等了一个星期"),
                                              ("en", "delivery was slow, it took a week")])
async def test_a_detractors_comment_reaches_the_follow_up_ticket(crm_url: str, domain: dict[str, Any],
                                                                 language: str, comment: str) -> None:
    sender = f"survey-comment-{language}"
    dispatcher = CollectingDispatcher()
    scored = await ActionSubmitNps().run(dispatcher, make_tracker(
        sender=sender, language=language, slots={**customer_slots(3), "nps_score": "2"}), domain)
    assert render("utter_survey_thanks", language) in texts(dispatcher)
    follow_up = re.search(r"T\d{6}", texts(dispatcher))
    feedback_id = slots_of(scored)[SURVEY_SLOT]
    assert follow_up and feedback_id
    dispatcher = CollectingDispatcher()
    events = await ActionRecordSurveyComment().run(dispatcher, make_tracker(
        sender=sender, language=language, text=comment, intent="praise_service",
        slots={**customer_slots(3), SURVEY_SLOT: feedback_id}), domain)
    assert texts(dispatcher) == render("utter_survey_comment_thanks", language)
    assert slots_of(events)[SURVEY_SLOT] is None and followups(events) == []
    assert comment in (await ticket(crm_url, follow_up.group(0)))["description"]


@pytest.mark.parametrize("text,intent,expected", [
    ("你们几点上班？", "ask_how_are_you", "utter_chitchat_how_are_you"),  # a question is answered as one
    ("谢谢", "thank", "utter_thank_reply"),  # a thank-you alone is not a comment
    ("what can you do?", "out_of_scope", "action_answer_from_knowledge"),
    ("我要投诉你们的快递", "file_complaint", "utter_complaint_ack"),  # asks to file one: the complaint form
])
async def test_what_is_not_a_comment_gets_its_usual_answer(crm_url: str, domain: dict[str, Any], text: str,
                                                           intent: str, expected: str) -> None:
    events = await ActionRecordSurveyComment().run(CollectingDispatcher(), make_tracker(
        text=text, intent=intent, slots={SURVEY_SLOT: 1.0}), domain)
    assert followups(events) == [expected] and slots_of(events)[SURVEY_SLOT] is None


async def test_a_remark_with_no_survey_before_it_gets_the_usual_reply(domain: dict[str, Any]) -> None:
    events = await ActionRecordSurveyComment().run(CollectingDispatcher(), make_tracker(
        text="服务很好", intent="praise_service"), domain)
    assert followups(events) == ["utter_praise_thanks"]


async def test_a_comment_during_an_outage_is_kept_and_recorded_once_later(
        crm_url: str, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    sender = "survey-comment-outage"
    scored = await ActionSubmitCsat().run(CollectingDispatcher(), make_tracker(
        sender=sender, language="en", slots={**customer_slots(4), "csat_score": "2"}), domain)
    follow_up = re.search(r"T\d{6}", str(scored)) or None
    feedback_id = slots_of(scored)[SURVEY_SLOT]
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:18039")
    dispatcher = CollectingDispatcher()
    kept = slots_of(await ActionRecordSurveyComment().run(dispatcher, make_tracker(
        sender=sender, language="en", text="the agent never called back", intent="ask_how_are_you",
        slots={**customer_slots(4), SURVEY_SLOT: feedback_id}), domain))["pending_feedback"]
    assert texts(dispatcher) == render("utter_survey_comment_thanks", "en")
    assert kept[0]["comment_for"] == feedback_id and kept[0]["payload"]["text"] == "the agent never called back"
    monkeypatch.setenv("CRM_URL", crm_url)
    tracker = make_tracker(sender=sender, language="en", slots={**customer_slots(4), "pending_feedback": kept})
    recorded = await ActionRetryKeptWrites().run(CollectingDispatcher(), tracker, domain)
    assert slots_of(recorded)["pending_feedback"] is None
    await ActionRetryKeptWrites().run(CollectingDispatcher(), tracker, domain)  # a duplicated reminder
    tickets = [t for t in (await customer_tickets(crm_url, 4)) if t["kind"] == "callback"]
    described = [(await ticket(crm_url, t["ticket_no"]))["description"] for t in tickets]
    assert sum(d.count("the agent never called back") for d in described) == 1, (follow_up, described)


async def test_a_comment_on_a_score_kept_during_the_outage_joins_it(domain: dict[str, Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:18039")
    scored = await ActionSubmitNps().run(CollectingDispatcher(), make_tracker(
        sender="survey-kept-score", slots={"nps_score": "9"}), domain)
    kept = slots_of(scored)["pending_feedback"]
    events = await ActionRecordSurveyComment().run(CollectingDispatcher(), make_tracker(
        sender="survey-kept-score", text="服务很好", intent="praise_service",
        slots={"pending_feedback": kept}), domain)
    joined = slots_of(events)["pending_feedback"]
    assert len(joined) == 1 and joined[0]["payload"]["text"] == "服务很好" and joined[0]["payload"]["score"] == 9


async def customer_tickets(crm_url: str, customer_id: int) -> list[dict[str, Any]]:
    return list((await crm_get(crm_url, f"/customers/{customer_id}/tickets?limit=100"))["items"])
