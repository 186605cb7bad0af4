"""Issue 15: an upset status question also gets a complaint offer; a form left over a long silence is set aside."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionShowOrderStatus
from actions.complaints import offer_complaint_if_upset, strongly_negative
from actions.crm_client import CrmError, CrmUnavailable
from actions.messages import render
from actions.session import ActionSessionStart

pytestmark = pytest.mark.asyncio


class Analyser:
    """Stands in for the CRM client's `analyse` (POST /analysis/text); records what it was asked."""

    def __init__(self, result: dict[str, Any] | Exception) -> None:
        self.result, self.asked = result, []

    async def analyse(self, text: str) -> dict[str, Any]:
        self.asked.append(text)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


NEGATIVE = {"sentiment": {"label": "negative", "score": -0.92}}


@pytest.mark.parametrize("language,text", [("zh", "包裹一个星期了还是一动不动，太气人了"),
                                           ("en", "my parcel STILL hasn't moved in a week, this is ridiculous")])
async def test_a_strongly_negative_status_question_gets_the_offer(language: str, text: str) -> None:
    dispatcher, client = CollectingDispatcher(), Analyser(NEGATIVE)
    await offer_complaint_if_upset(dispatcher, make_tracker(text=text, intent="check_order_status", language=language),
                                   client)  # type: ignore[arg-type]
    assert client.asked == [text]
    assert texts(dispatcher) == render("utter_complaint_offer", language)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/file_complaint", "/request_human"]


@pytest.mark.parametrize("result", [{"sentiment": {"label": "negative", "score": -0.5}},
                                    {"sentiment": {"label": "neutral", "score": 0.95}}, {},
                                    CrmUnavailable("timeout"), CrmError(422, "validation_error")])
async def test_mild_neutral_or_unanalysable_messages_get_no_offer(result: Any) -> None:
    dispatcher = CollectingDispatcher()
    await offer_complaint_if_upset(dispatcher, make_tracker(text="where is my order", intent="check_order_status"),
                                   Analyser(result))  # type: ignore[arg-type]
    assert dispatcher.messages == []


async def test_a_button_payload_is_not_analysed() -> None:
    client = Analyser(NEGATIVE)
    await offer_complaint_if_upset(CollectingDispatcher(), make_tracker(text="/check_order_status"),
                                   client)  # type: ignore[arg-type]
    assert client.asked == []


async def test_strongly_negative_reads_signed_scores_and_confidences() -> None:
    assert strongly_negative({"sentiment": {"label": "negative", "score": -0.8}})
    assert strongly_negative({"sentiment": {"label": "negative", "score": 0.85}})
    assert not strongly_negative({"sentiment": {"label": "negative", "score": -0.79}})
    assert not strongly_negative({"sentiment": {"label": "positive", "score": 0.99}})


@pytest.mark.parametrize("language,text,upset", [
    ("zh", "KF20250003一个星期了还是一动不动，太气人了", True), ("zh", "KF20250003到哪了", False),
    ("en", "this is the third time i'm asking, where is KF20250003?!", True), ("en", "where is KF20250003", False)])
async def test_the_order_status_answer_comes_first_then_the_offer_when_upset(
        crm_url: str, domain: dict[str, Any], language: str, text: str, upset: bool) -> None:
    """Against the real CRM: its sentiment analysis decides; the status is answered either way."""
    start = text.index("KF")
    tracker = make_tracker(text=text, language=language, slots=customer_slots(3),
                           entities=[{"entity": "order_id", "value": "KF20250003", "start": start, "end": start + 10}])
    dispatcher = CollectingDispatcher()
    await ActionShowOrderStatus().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "KF20250003" in dispatcher.messages[0]["text"]
    assert (render("utter_complaint_offer", language) in reply) is upset
    if upset:
        assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/file_complaint"


@pytest.mark.parametrize("language,form,topic", [("zh", "complaint_form", "投诉"),
                                                 ("en", "redeem_form", "reward redemption"), ("en", None, None)])
async def test_a_form_left_unfinished_over_a_long_silence_is_set_aside_politely(
        domain: dict[str, Any], language: str, form: str | None, topic: str | None) -> None:
    """Session expiry (long silence) ends the form: its details are not carried over, and the customer is told."""
    given = {"complaint_text": "parcel lost", "complaint_order": "KF20250003", **customer_slots(3)}
    tracker = make_tracker(text="where is my order", language=language, active_loop=form, slots=given)
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    carried = {e["name"] for e in events if e.get("event") == "slot"}
    assert "customer_id" in carried and not carried & {"complaint_text", "complaint_order"}
    if topic is None:
        assert dispatcher.messages == []
    else:
        assert texts(dispatcher) == render("utter_form_set_aside", language, topic=topic)


async def test_a_stop_confirmation_left_open_is_set_aside_too(domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="我的积分", language="zh", slots={"paused_form": "complaint_form"})
    dispatcher = CollectingDispatcher()
    await ActionSessionStart().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == render("utter_form_set_aside", "zh", topic="投诉")
