"""Topics the bot doesn't know yet: unrecognised messages grouped by meaning, per language, with a trend."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.tests.annotation.test_inbox_api import load, said
from testing.handoff import login

DAY = 86400.0


def test_unrecognised_messages_are_grouped_by_meaning_and_trend(client: TestClient, session: Session) -> None:
    now = time.time() - 600
    events = []
    gift_en = [("do you sell gift cards", 0), ("can I buy a gift card", 1), ("gift card available?", 2),
               ("do you sell gift cards", 9), ("can I buy a gift card", 10)]  # 3 this week, 2 the week before
    for i, (text, age) in enumerate(gift_en):
        events.append(said(f"t-g{i}", text, now - age * DAY, intent="nlu_fallback", confidence=0.2, language="en"))
    for i, text in enumerate(["can I pay with paypal", "do you accept paypal"]):
        events.append(said(f"t-p{i}", text, now - i, intent="out_of_scope", confidence=0.9, language="en"))
    for i, text in enumerate(["礼品卡有卖吗", "可以买礼品卡吗"]):
        events.append(said(f"t-z{i}", text, now - i, intent="greet", confidence=0.3))  # low confidence
    events.append(said("t-ok", "where is my order", now, intent="check_order_status", confidence=0.97,
                       language="en"))  # understood: not a topic
    events.append(said("t-one", "how tall is mount everest", now, intent="out_of_scope", confidence=0.9,
                       language="en"))  # asked once: below min_size
    load(session, events)
    login(client, "supervisor")

    body = client.get("/api/v1/nlu/topics").json()
    assert body["unrecognised"] == 10
    topics = body["items"]
    assert [(t["language"], t["size"]) for t in topics] == [("en", 5), ("en", 2), ("zh", 2)]
    gift = topics[0]
    assert gift["distinct"] == 3 and gift["examples"][0]["count"] == 2 and len(gift["texts"]) == 3
    assert {e["text"] for e in gift["examples"]} == {"do you sell gift cards", "can I buy a gift card",
                                                     "gift card available?"}
    assert (gift["this_week"], gift["last_week"]) == (3, 2) and sum(gift["daily"]) == 5 and len(gift["daily"]) == 14
    assert {e["text"] for e in topics[1]["examples"]} == {"can I pay with paypal", "do you accept paypal"}
    assert {e["text"] for e in topics[2]["examples"]} == {"礼品卡有卖吗", "可以买礼品卡吗"}

    # Annotated messages are known now: they leave their topic.
    client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "can I pay with paypal", "language": "en", "out_of_scope": True},
        {"text": "do you accept paypal", "language": "en", "out_of_scope": True}]})
    after = client.get("/api/v1/nlu/topics", params={"language": "en"}).json()["items"]
    assert [t["size"] for t in after] == [5]
    assert len(client.get("/api/v1/nlu/topics", params={"min_size": 1}).json()["items"]) == 3  # everest alone too
    assert client.get("/api/v1/nlu/topics", params={"days": 0}).status_code == 422
