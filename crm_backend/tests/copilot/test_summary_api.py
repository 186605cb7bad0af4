"""Handoff summary and filled canned replies on SQLite and PostgreSQL: content, visibility, zh/en, anonymous."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from crm_backend.copilot.service import fill
from testing.handoff import another_client, handoff_body, login

ANGRY_EN = "This is terrible, my parcel KF20250003 arrived broken and nobody answers, I am very angry"


def escalate(client: TestClient, headers: dict[str, str], conversation: str, **overrides: object) -> int:
    response = client.post("/api/v1/handoffs", json=handoff_body(conversation, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["handoff_id"])


def english_turns() -> list[dict[str, object]]:
    now = time.time()
    return [{"role": "user", "text": "hello, thanks", "at": now - 60},
            {"role": "bot", "text": "How can I help?", "at": now - 59},
            {"role": "user", "text": ANGRY_EN + ", call me on 13800000003", "at": now - 30},
            {"role": "user", "text": "human please", "at": now - 5}]


def test_summary_says_why_quotes_the_customer_and_knows_who_they_are(
        client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-sum-en", transcript=english_turns(), reason_code="complaint",
                   reason="negative sentiment twice")
    login(client, "agent1")
    body = client.get(f"/api/v1/handoffs/{hid}/summary", headers={"Accept-Language": "en"}).json()
    assert body["reason_code"] == "complaint" and body["reason"] == "negative sentiment twice"
    quoted = [t["text"] for t in body["key_turns"]]
    assert len(quoted) == 3
    stored = {t["text"] for t in english_turns() if t["role"] == "user"}
    assert all(q.replace("[PHONE]", "13800000003") in stored for q in quoted)  # the customer's own words only
    assert not any("13800000003" in q for q in quoted)
    assert body["collected"]["order_numbers"] == ["KF20250003"]
    assert body["collected"]["complaint"].startswith("This is terrible")
    assert body["sentiment"]["scores"][1] < 0 and len(body["sentiment"]["scores"]) == 3
    assert body["customer"]["id"] == 3 and body["customer"]["name"] == "Emily Carter"
    assert body["customer"]["tier"]


def test_chinese_summary_and_churn_reasons_in_the_agents_language(
        client: TestClient, service_headers: dict[str, str]) -> None:
    now = time.time()
    turns = [{"role": "user", "text": "你好，我想查一下订单 KF20250001", "at": now - 90},
             {"role": "user", "text": "太差了，快递一直不到，客服也不回复，非常生气", "at": now - 60},
             {"role": "user", "text": "我要投诉，转人工", "at": now - 10}]
    hid = escalate(client, service_headers, "c-sum-zh", transcript=turns, customer_id=1, language="zh")
    login(client, "agent1")
    body = client.get(f"/api/v1/handoffs/{hid}/summary", headers={"Accept-Language": "zh-CN"}).json()
    assert body["customer"]["name"] == "王伟"
    assert body["collected"]["order_numbers"] == ["KF20250001"]
    assert "太差了" in body["collected"]["complaint"]
    assert min(body["sentiment"]["scores"]) < 0
    assert body["sentiment"]["direction"] in ("improving", "worsening", "steady")
    assert all(isinstance(r, str) for r in body["customer"]["churn_reasons"])


def test_anonymous_customer_has_no_customer_block_and_canned_variables_stay_visible(
        client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-sum-anon", customer_id=None,
                   transcript=[{"role": "user", "text": "hi"}])
    login(client, "agent1")
    body = client.get(f"/api/v1/handoffs/{hid}/summary").json()
    assert body["customer"] is None
    assert body["sentiment"]["direction"] == "unknown"
    assert body["collected"] == {"order_numbers": [], "complaint": None, "category": None, "tickets": []}
    items = {i["code"]: i for i in client.get(f"/api/v1/handoffs/{hid}/canned").json()["items"]}
    assert items["points_balance"]["missing"] == ["name", "points"]
    assert "{name}" in items["points_balance"]["text"]


def test_canned_replies_are_filled_in_the_conversations_language(
        client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-canned", transcript=english_turns())
    login(client, "agent1")
    items = {i["code"]: i for i in client.get(f"/api/v1/handoffs/{hid}/canned").json()["items"]}
    assert items["greeting_name"]["text"] == "Hello Emily Carter, this is a customer service agent."
    assert "KF20250003" in items["order_status"]["text"] and items["order_status"]["missing"] == []
    assert "{" not in items["points_balance"]["text"]
    zh = {i["code"]: i for i in client.get(f"/api/v1/handoffs/{hid}/canned?lang=zh").json()["items"]}
    assert zh["order_status"]["text"].startswith("我正在为您查询订单 KF20250003")
    assert client.get(f"/api/v1/handoffs/{hid}/canned?lang=fr").status_code == 422


def test_an_agent_who_cannot_see_the_handoff_gets_403_and_anonymous_callers_401(
        app: FastAPI, client: TestClient, service_headers: dict[str, str]) -> None:
    hid = escalate(client, service_headers, "c-sum-hidden")
    assert client.get(f"/api/v1/handoffs/{hid}/summary").status_code == 401
    assert client.get(f"/api/v1/handoffs/{hid}/summary", headers=service_headers).status_code == 401
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{hid}/claim").status_code == 200
    with another_client(app) as other:
        login(other, "agent2")
        assert other.get(f"/api/v1/handoffs/{hid}/summary").status_code == 403
        assert other.get(f"/api/v1/handoffs/{hid}/canned").status_code == 403
        assert other.get("/api/v1/handoffs/999999/summary").status_code == 404


def test_fill_never_treats_customer_data_as_a_template() -> None:
    text, missing = fill("Hi {name}, {points} points, {other}", {"name": "{points}{0.__class__}"})
    assert text == "Hi {points}{0.__class__}, {points} points, {other}"
    assert missing == ["points"]
