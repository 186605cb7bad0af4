"""The conversations API: figures against hand-counted values, filters, who sees what, transcript, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.conversation.consumer import store
from crm_backend.conversation.models import Conversation
from testing import conversation_events as ev
from testing.handoff import FakeRasa, login

DAY1 = datetime(2002, 5, 1, 10, 0, tzinfo=UTC).timestamp()
DAY2 = datetime(2002, 5, 2, 15, 0, tzinfo=UTC).timestamp()


def _load(session: Session, batch: list[dict]) -> None:
    assert store(session, [json.dumps(e) for e in batch]) is not None


def _dataset(session: Session) -> None:
    _load(session, ev.conversation("fig-a", DAY1, intents=["greet", "check_points", "check_points"]))
    _load(session, ev.conversation("fig-b", DAY1 + 60, intents=["nlu_fallback", "ask_human"], channel="socketio",
                                   handoff=True, csat=2))
    _load(session, ev.conversation("fig-c", DAY1 + 120, intents=["greet", "nlu_fallback"], language="en"))
    _load(session, ev.conversation("fig-d", DAY2, intents=["check_points"], language="en", channel="telegram"))
    _load(session, ev.conversation("fig-e", DAY2 + 60, intents=["ask_human"], handoff=True))


def test_figures_match_hand_counted_values(client: TestClient, session: Session) -> None:
    _dataset(session)
    login(client, "supervisor")
    got = client.get("/api/v1/conversations/figures?start=2002-05-01&end=2002-05-03")
    assert got.status_code == 200, got.text
    figures = got.json()
    # 5 conversations, 2 handed off (b, e); 9 customer turns, 2 fallbacks (b, c).
    assert figures["overall"] == {"conversations": 5, "containment_rate": 60.0, "handoff_rate": 40.0,
                                  "fallback_rate": 22.2, "customer_turns": 9}
    # zh: a, b, e (6 turns, 1 fallback); en: c, d (3 turns, 1 fallback).
    assert figures["by_language"]["zh"] == {"conversations": 3, "containment_rate": 33.3, "handoff_rate": 66.7,
                                            "fallback_rate": 16.7, "customer_turns": 6}
    assert figures["by_language"]["en"] == {"conversations": 2, "containment_rate": 100.0, "handoff_rate": 0.0,
                                            "fallback_rate": 33.3, "customer_turns": 3}
    assert figures["by_channel"]["rest"]["conversations"] == 3 and figures["by_channel"]["rest"]["handoff_rate"] == 33.3
    assert figures["by_channel"]["socketio"] == {"conversations": 1, "containment_rate": 0.0, "handoff_rate": 100.0,
                                                 "fallback_rate": 50.0, "customer_turns": 2}
    assert figures["by_channel"]["telegram"]["containment_rate"] == 100.0
    assert [(d["day"], d["conversations"], d["handoff_rate"], d["fallback_rate"]) for d in figures["trend"]] == [
        ("2002-05-01", 3, 33.3, 28.6), ("2002-05-02", 2, 50.0, 0.0), ("2002-05-03", 0, None, None)]
    assert figures["top_intents"][:2] == [{"intent": "check_points", "count": 3}, {"intent": "ask_human", "count": 2}]
    assert figures["top_intents_by_language"]["en"] == [{"intent": "check_points", "count": 1},
                                                         {"intent": "greet", "count": 1},
                                                         {"intent": "nlu_fallback", "count": 1}]
    assert figures["outcomes"] == {"bot": 2, "handoff": 2, "abandoned": 1}


def test_figures_are_for_supervisors_and_reject_bad_periods(client: TestClient) -> None:
    login(client, "agent1")
    assert client.get("/api/v1/conversations/figures").status_code == 403
    login(client, "supervisor")
    bad = client.get("/api/v1/conversations/figures?start=2002-05-03&end=2002-05-01",
                     headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 422 and "开始日期" in bad.text


def test_filters(client: TestClient, session: Session) -> None:
    _dataset(session)
    login(client, "supervisor")

    def senders(query: str) -> set[str]:
        got = client.get(f"/api/v1/conversations?start=2002-05-01&end=2002-05-03&{query}")
        assert got.status_code == 200, got.text
        return {item["sender_id"] for item in got.json()["items"]}

    assert senders("") == {"fig-a", "fig-b", "fig-c", "fig-d", "fig-e"}
    assert senders("language=en") == {"fig-c", "fig-d"}
    assert senders("channel=socketio") == {"fig-b"}
    assert senders("outcome=abandoned") == {"fig-c"}
    assert senders("intent=check_points") == {"fig-a", "fig-d"}
    assert senders("has_handoff=true") == {"fig-b", "fig-e"}
    assert senders("low_csat=true") == {"fig-b"}
    assert senders("q=nlu_fallback") == {"fig-b", "fig-c"}
    assert senders("end=2002-05-01") == {"fig-a", "fig-b", "fig-c"}
    assert client.get("/api/v1/conversations?outcome=won", headers={"Accept-Language": "en"}).status_code == 422


def test_agents_see_their_own_and_the_queue_supervisors_all(client: TestClient, session: Session,
                                                           service_headers: dict[str, str]) -> None:
    queued = client.post("/api/v1/handoffs", headers=service_headers, json={
        "conversation_id": "scope-queue", "channel": "rest", "reason": "x", "language": "zh"})
    assert queued.status_code in (200, 201)
    _load(session, ev.conversation("scope-queue", DAY1, intents=["ask_human"], handoff=True))
    _load(session, ev.conversation("scope-other", DAY1, intents=["greet"]))
    ids = {c.sender_id: c.id for c in session.scalars(select(Conversation)
                                                      .where(Conversation.sender_id.like("scope-%")))}
    login(client, "agent1")
    mine = {i["sender_id"] for i in client.get("/api/v1/conversations?start=2002-05-01&end=2002-05-01")
            .json()["items"]}
    assert "scope-queue" in mine and "scope-other" not in mine
    assert client.get(f"/api/v1/conversations/{ids['scope-other']}").status_code == 404
    login(client, "supervisor")
    every = {i["sender_id"] for i in client.get("/api/v1/conversations?start=2002-05-01&end=2002-05-01")
             .json()["items"]}
    assert {"scope-queue", "scope-other"} <= every
    transcript = client.get(f"/api/v1/conversations/{ids['scope-other']}").json()
    user_turn = next(t for t in transcript["turns"] if t["kind"] == "user")
    assert (user_turn["intent"], user_turn["confidence"], user_turn["text"]) == ("greet", 0.93, "greet text")
    assert [t["kind"] for t in transcript["turns"]] == ["slot", "user", "action", "bot"]  # listen/session hidden


def test_erasure_removes_turns_and_the_rasa_tracker(client: TestClient, session: Session, rasa: FakeRasa,
                                                    service_headers: dict[str, str]) -> None:
    _load(session, ev.conversation("erase-me", DAY1, intents=["greet"]) + [ev.slot("erase-me", "customer_id", 4,
                                                                                     DAY1 + 9)])
    assert client.delete("/api/v1/conversations/customers/4").status_code == 401
    done = client.delete("/api/v1/conversations/customers/4", headers=service_headers)
    assert done.status_code == 200, done.text
    assert done.json() == {"customer_id": 4, "conversations_deleted": 1, "trackers_erased": 1, "trackers_failed": []}
    assert session.scalar(select(func.count()).select_from(Conversation)
                          .where(Conversation.sender_id == "erase-me")) == 0
    assert ("tracker/events", "erase-me", []) in rasa.calls


def test_retention_deletes_old_transcripts_only(session: Session) -> None:
    from crm_backend.conversation import repository

    _load(session, ev.conversation("old-one", DAY1, intents=["greet"]))
    _load(session, ev.conversation("new-one", datetime.now(UTC).timestamp() - 3600, intents=["greet"]))
    deleted = repository.delete_older_than(session, cutoff=datetime(2020, 1, 1, tzinfo=UTC))
    assert deleted >= 1
    left = set(session.scalars(select(Conversation.sender_id).where(Conversation.sender_id.in_(["old-one",
                                                                                                "new-one"]))))
    assert left == {"new-one"}
