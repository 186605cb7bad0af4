"""Storing broker events: idempotent, redacted, malformed/unknown skipped, outcomes, live handoff turns."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.conversation.consumer import store
from crm_backend.conversation.models import Conversation, ConversationEvent, Outcome
from crm_backend.handoff.models import HandoffMessage
from testing import conversation_events as ev


def _raw(events: list[dict]) -> list[str]:
    return [json.dumps(e) for e in events]


def _count(session: Session, sender: str) -> int:
    return session.scalar(select(func.count()).select_from(ConversationEvent).join(Conversation)
                          .where(Conversation.sender_id == sender)) or 0


def test_an_event_delivered_twice_is_stored_once(session: Session) -> None:
    batch = ev.conversation("ing-dup", 1_700_000_000.0, intents=["greet", "check_points"])
    first = store(session, _raw(batch))
    again = store(session, _raw(batch[:3]))
    assert first is not None and first.result.stored == len(batch)
    assert again is not None and again.result.stored == 0 and again.result.duplicates == 3
    assert _count(session, "ing-dup") == len(batch)
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == "ing-dup")).one()
    assert conversation.user_turns == 2 and conversation.outcome == Outcome.BOT


def test_malformed_and_unknown_events_are_skipped_and_the_rest_stored(session: Session) -> None:
    good = ev.user("ing-bad", "你好", 1_700_000_100.0)
    raws = ["{not json", json.dumps([1, 2]), json.dumps({"event": "user"}), json.dumps({"sender_id": "x"}),
            json.dumps({"sender_id": "ing-bad", "event": "made_up_event", "timestamp": 1.0}),
            json.dumps({"sender_id": "ing-bad", "event": "user", "timestamp": "noon"}), json.dumps(good)]
    done = store(session, raws)
    assert done is not None
    # [1, 2] is a batch (Kefu's Pika broker sends lists) of two items that are not events: 2 malformed.
    assert done.malformed == 6 and done.result.skipped == 1 and done.result.stored == 1
    assert _count(session, "ing-bad") == 1


def test_customer_text_slot_values_and_entities_are_redacted(session: Session) -> None:
    text = "我的手机 13812345678，邮箱 li@example.com"
    turn = ev.user("ing-pii", text, 1_700_000_200.0, intent="update_contact",
                   entities=[{"entity": "phone", "value": "13812345678", "start": 5, "end": 16}])
    store(session, _raw([turn, ev.slot("ing-pii", "phone", "13812345678", 1_700_000_200.5)]))
    rows = session.scalars(select(ConversationEvent).join(Conversation)
                           .where(Conversation.sender_id == "ing-pii").order_by(ConversationEvent.rasa_ts)).all()
    stored = json.dumps([(r.text, r.value, r.entities) for r in rows], ensure_ascii=False)
    assert "13812345678" not in stored and "li@example.com" not in stored
    assert "[PHONE]" in (rows[0].text or "") and "[EMAIL]" in (rows[0].text or "")
    assert rows[0].intent == "update_contact" and rows[0].confidence == 0.93


def test_outcomes_language_channel_csat_and_customer(session: Session) -> None:
    t0 = 1_700_000_300.0
    store(session, _raw(ev.conversation("ing-o1", t0, intents=["greet"], language="en", channel="telegram")
                        + [ev.slot("ing-o1", "customer_id", 3, t0 + 5)]))
    store(session, _raw(ev.conversation("ing-o2", t0, intents=["greet", "nlu_fallback"])))
    store(session, _raw(ev.conversation("ing-o3", t0, intents=["nlu_fallback", "ask_human"], handoff=True, csat=2)))
    found = {c.sender_id: c for c in session.scalars(select(Conversation).where(Conversation.sender_id.like("ing-o%")))}
    assert (found["ing-o1"].outcome, found["ing-o1"].language, found["ing-o1"].channel) == ("bot", "en", "telegram")
    assert found["ing-o1"].customer_id == 3
    assert (found["ing-o2"].outcome, found["ing-o2"].fallback_turns) == ("abandoned", 1)
    assert (found["ing-o3"].outcome, found["ing-o3"].csat, found["ing-o3"].has_handoff) == ("handoff", 2, True)


def test_out_of_order_delivery_gives_the_same_outcome(session: Session) -> None:
    batch = ev.conversation("ing-ooo", 1_700_000_400.0, intents=["nlu_fallback", "greet"])
    store(session, _raw(list(reversed(batch))))
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == "ing-ooo")).one()
    assert conversation.outcome == Outcome.BOT and conversation.started_at.timestamp() == 1_700_000_400.0


def test_customer_turns_of_an_open_handoff_reach_it_once(client: TestClient, session: Session,
                                                         service_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/handoffs", headers=service_headers, json={
        "conversation_id": "ing-live", "channel": "rest", "reason": "customer asked", "language": "en",
        "transcript": [{"role": "user", "text": "human please"}]})
    assert created.status_code in (200, 201), created.text
    hid = created.json()["handoff_id"]
    later = time.time() + 1
    turn = ev.user("ing-live", "my parcel is late, call 13812345678", later)
    first = store(session, _raw([turn]))
    second = store(session, _raw([turn]))  # redelivered
    assert first is not None and first.result.handoff_ids == {hid}
    assert second is not None and not second.result.handoff_ids
    texts = list(session.scalars(select(HandoffMessage.text).where(HandoffMessage.handoff_id == hid,
                                                                  HandoffMessage.role == "user")))
    assert texts.count("my parcel is late, call [PHONE]") == 1


def test_an_agent_reply_sent_through_rasa_is_marked_as_the_agents(session: Session) -> None:
    reply = ev.bot("ing-agent", "您好，我是小林", 1_700_000_500.0)
    reply["metadata"] = {"kefu_agent_id": 2, "kefu_message_id": 7}
    store(session, _raw([reply, ev.bot("ing-agent", "bot line", 1_700_000_501.0)]))
    rows = session.scalars(select(ConversationEvent).join(Conversation)
                           .where(Conversation.sender_id == "ing-agent").order_by(ConversationEvent.rasa_ts)).all()
    assert [(r.kind, r.name) for r in rows] == [("bot", "agent"), ("bot", None)]
