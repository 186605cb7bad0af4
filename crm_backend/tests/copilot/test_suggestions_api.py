"""Suggested replies on SQLite and PostgreSQL: sources, language, learning from inserts, a failing source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crm_backend.copilot import suggest
from crm_backend.knowledge import live as knowledge_index
from crm_backend.tests.copilot.test_summary_api import ANGRY_EN, escalate
from testing.handoff import FakeRasa, another_client, login

REFUND_ARTICLE = {
    "slug": "refund-timing", "category": "returns", "tags": ["退款", "refund"], "status": "published",
    "zh": {"title": "退款多久到账？", "body": "退货签收后 3 个工作日内退款，原路退回，银行卡到账约 1–5 个工作日。"},
    "en": {"title": "How long does a refund take?",
           "body": "We refund within 3 working days of receiving the return, to the original payment method; "
                   "banks take 1–5 working days."},
}


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    knowledge_index.reset()
    yield
    knowledge_index.reset()


def suggestions(client: TestClient, hid: int, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/handoffs/{hid}/suggestions", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_angry_customer_gets_an_apology_first_in_english_and_chinese(
        client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-sug-en", transcript=[{"role": "user", "text": ANGRY_EN}])
    zh = escalate(client, service_headers, "c-sug-zh", customer_id=1, language="zh",
                  transcript=[{"role": "user", "text": "太差了，快递一直不到，客服也不回复，非常生气"}])
    login(client, "agent1")
    body = suggestions(client, hid)
    items = body["items"]
    assert isinstance(items, list) and 1 <= len(items) <= 3
    assert items[0]["source"] == "canned" and items[0]["key"] == "sorry", items
    assert items[0]["text"].startswith("I am very sorry")
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert body["unavailable"] == [] and body["query"].startswith("This is terrible")
    zh_items = suggestions(client, zh)["items"]
    assert zh_items and zh_items[0]["key"] == "sorry" and zh_items[0]["text"].startswith("非常抱歉")


def test_a_published_article_is_suggested_in_the_customers_language(
        client: TestClient, service_headers: dict[str, str]) -> None:
    login(client, "supervisor")
    assert client.post("/api/v1/knowledge/articles", json=REFUND_ARTICLE).status_code == 201
    zh = escalate(client, service_headers, "c-sug-kb", customer_id=1, language="zh",
                  transcript=[{"role": "user", "text": "我的退款多久能到账？"}])
    items = suggestions(client, zh)["items"]
    article = [i for i in items if i["source"] == "knowledge"]
    assert article and "3 个工作日" in article[0]["text"], items
    en = suggestions(client, zh, text="how long until I get my refund?")  # an explicit text, same language
    assert en["query"] == "how long until I get my refund?"
    assert all(i["source"] != "knowledge" or "退款" in i["text"] for i in en["items"])


def test_a_reply_an_agent_sent_before_to_a_similar_message_is_suggested(
        client: TestClient, service_headers: dict[str, str], rasa: FakeRasa) -> None:
    earlier = escalate(client, service_headers, "c-sug-h1",
                       transcript=[{"role": "user", "text": "can I change the delivery address of my order?"}])
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{earlier}/claim").status_code == 200
    reply = "Yes, until it ships: open the order page and choose Edit address."
    assert client.post(f"/api/v1/handoffs/{earlier}/messages", json={"text": reply}).status_code == 201
    now = escalate(client, service_headers, "c-sug-h2",
                   transcript=[{"role": "user", "text": "how do I change the delivery address for my order"}])
    items = suggestions(client, now)["items"]
    assert any(i["source"] == "history" and i["text"] == reply for i in items), items


def test_inserted_suggestions_rank_higher_and_a_failing_source_leaves_the_others(
        client: TestClient, service_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    hid = escalate(client, service_headers, "c-sug-learn", transcript=[{"role": "user", "text": ANGRY_EN}])
    login(client, "agent1")
    before = {i["key"]: i["score"] for i in suggestions(client, hid)["items"]}
    second = list(before)[1]
    for edited in (False, False, True):
        response = client.post(f"/api/v1/handoffs/{hid}/suggestions/uses",
                               json={"source": "canned", "key": second, "edited": edited})
        assert response.status_code == 204, response.text
    after = {i["key"]: i["score"] for i in suggestions(client, hid)["items"]}
    assert after[second] > before[second]

    def down(*_: object) -> list[object]:
        raise ConnectionError("vectors unavailable")

    monkeypatch.setitem(suggest._SOURCES, "knowledge", down)
    monkeypatch.setitem(suggest._SOURCES, "history", down)
    body = suggestions(client, hid)
    assert body["unavailable"] == ["knowledge", "history"] and body["items"][0]["source"] == "canned"


def test_suggestions_need_an_agent_who_may_see_the_handoff(
        app: FastAPI, client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-sug-hidden", transcript=[{"role": "user", "text": ANGRY_EN}])
    assert client.get(f"/api/v1/handoffs/{hid}/suggestions").status_code == 401
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    bad = client.post(f"/api/v1/handoffs/{hid}/suggestions/uses", json={"source": "oracle", "key": "x"})
    assert bad.status_code == 422
    with another_client(app) as other:
        login(other, "agent2")
        assert other.get(f"/api/v1/handoffs/{hid}/suggestions").status_code == 403
        assert other.post(f"/api/v1/handoffs/{hid}/suggestions/uses",
                          json={"source": "canned", "key": "sorry"}).status_code == 403


def test_a_bare_form_answer_is_passed_over_for_the_complaint_before_it(
        client: TestClient, service_headers: dict[str, str]) -> None:
    """Tried as a user: after "没有" (no order number) the suggestions answered "没有" (closing first)."""
    complaint = "太差了，快递一直不到，客服也不回复，非常生气"
    hid = escalate(client, service_headers, "c-sug-bare", customer_id=1, language="zh",
                   transcript=[{"role": "user", "text": complaint},
                               {"role": "bot", "text": "和哪个订单有关？请提供订单号（KF开头），没有的话回复“没有”。"},
                               {"role": "user", "text": "没有"}])
    login(client, "agent1")
    body = suggestions(client, hid)
    assert body["query"] == complaint
    assert body["items"][0]["key"] == "sorry", body["items"]
    assert [suggest.is_bare_answer(t) for t in ("没有", " No. ", "9", "好的！", "退款呢", "no idea")] == [
        True, True, True, True, False, False]
