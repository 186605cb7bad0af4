"""Knowledge-base answers and feedback against the real CRM test server (seeded with the demo articles)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from action_helpers import crm_get, customer_slots, make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionShowPointsBalance
from actions.knowledge import ActionAnswerFromKnowledge, ActionRecordKnowledgeFeedback

pytestmark = pytest.mark.asyncio


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def answer(text: str, language: str, intent: str = "faq") -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFromKnowledge().run(
        dispatcher, make_tracker(text=text, intent=intent, language=language, sender="kb-actions"), {})
    return dispatcher, events


async def stats(crm_url: str) -> dict[str, Any]:
    """The figures as a supervisor sees them (console login; the cookie jar must accept an IP host)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post(f"{crm_url}/api/v1/auth/login",
                                json={"username": "supervisor", "password": "supervisor-pass"}) as r:
            assert r.status == 200, await r.text()
            csrf = (await r.json())["csrf_token"]
        async with session.get(f"{crm_url}/api/v1/knowledge/stats") as r:
            assert r.status == 200, await r.text()
            figures = dict(await r.json())
        # Logged out again: a supervisor left online would take the handoffs other tests expect queued.
        async with session.post(f"{crm_url}/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}) as r:
            assert r.status in (200, 204), await r.text()
        return figures


@pytest.mark.parametrize(("text", "language", "title"), [
    ("How long does the refund take after I send it back?", "en", "How long does a refund take?"),
    ("退款多久能到账", "zh", "退款多久到账？"),
])
async def test_an_faq_is_answered_with_title_link_and_helpful_buttons(
        crm_url: str, text: str, language: str, title: str) -> None:
    dispatcher, events = await answer(text, language)
    said = texts(dispatcher)
    assert title in said and f"{crm_url}/help/a/returns-refund-time?lang={language}" in said
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert slots_of(events)["kb_article_id"] is not None


async def test_no_is_recorded_against_the_article_and_offers_a_human(crm_url: str) -> None:
    _, events = await answer("do you charge for return shipping?", "en")
    article_id = slots_of(events)["kb_article_id"]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="no", intent="deny", language="en", slots={"kb_article_id": article_id})
    after = await ActionRecordKnowledgeFeedback().run(dispatcher, tracker, {})
    assert "talk to a human" in texts(dispatcher)
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/request_human", "/file_complaint"]
    assert slots_of(after) == {"kb_article_id": None}
    row = next(a for a in (await stats(crm_url))["articles"] if a["id"] == int(article_id))
    assert row["not_helpful"] >= 1 and row["answers"] >= 1


async def test_an_unanswerable_faq_is_declined_and_an_unrecognised_message_goes_to_the_two_stage_fallback(
        crm_url: str) -> None:
    dispatcher, events = await answer("who won the football world cup in 1998", "en")
    assert "don't know" in texts(dispatcher)
    assert slots_of(events) == {"kb_article_id": None}
    dispatcher, events = await answer("明天上海天气怎么样", "zh", intent="nlu_fallback")
    assert dispatcher.messages == []
    assert {"event": "followup", "name": "action_two_stage_fallback"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]


async def test_an_off_topic_question_is_answered_from_an_article_if_one_fits_else_declined_with_what_we_do(
        crm_url: str) -> None:
    """The out-of-scope detector flags what training never saw; the help centre may know it already."""
    dispatcher, events = await answer("退款多久能到账", "zh", intent="out_of_scope")
    assert "退款多久到账？" in texts(dispatcher) and slots_of(events)["kb_article_id"] is not None
    dispatcher, events = await answer("how do i restring a guitar", "en", intent="out_of_scope")
    assert dispatcher.messages == [{**dispatcher.messages[0], "response": "utter_out_of_scope"}]
    assert slots_of(events) == {"kb_article_id": None}


async def test_a_crm_that_is_down_gets_a_polite_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:9")
    dispatcher, events = await answer("how do I return an item", "en")
    assert "isn't reachable" in texts(dispatcher) and slots_of(events) == {"kb_article_id": None}


@pytest.mark.parametrize(("text", "language", "title"), [
    ("退款多久能到账？另外我的积分还有多少", "zh", "退款多久到账？"),
    ("how long does the refund take? and how many points do i have", "en", "How long does a refund take?"),
])
async def test_a_question_and_an_account_request_in_one_message_read_as_a_question(
        crm_url: str, text: str, language: str, title: str) -> None:
    """The help-centre part is answered; the account part is offered as a button, not dropped."""
    dispatcher, _ = await answer(text, language)
    assert title in texts(dispatcher)
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/check_points_balance"]


@pytest.mark.parametrize(("text", "language", "title"), [
    ("退款多久能到账？另外我的积分还有多少", "zh", "退款多久到账？"),
    ("how long does the refund take? and how many points do i have", "en", "How long does a refund take?"),
])
async def test_a_question_and_an_account_request_in_one_message_read_as_the_request(
        crm_url: str, text: str, language: str, title: str) -> None:
    """The account action answers the help-centre part first, then the balance."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text=text, intent="check_points_balance", language=language,
                           slots=customer_slots(3), sender="kb-combined")
    await ActionShowPointsBalance().run(dispatcher, tracker, {})
    said = texts(dispatcher)
    balance = await points_balance(crm_url, 3)
    assert title in said and f"{balance:,}" in said and said.index(title) < said.index(f"{balance:,}"), said


async def points_balance(crm_url: str, customer_id: int) -> int:
    return int((await crm_get(crm_url, f"/customers/{customer_id}/points"))["balance"])
