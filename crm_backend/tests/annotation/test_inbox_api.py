"""The NLU inbox on SQLite and PostgreSQL: what lands in it, dedup and order, filters, annotating (one, many,
last wins, audited), who may, and the export to Rasa YAML."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.annotation import export
from crm_backend.annotation.models import Annotation
from crm_backend.annotation.service import is_rephrase, normalise
from crm_backend.conversation.consumer import store
from crm_backend.handoff.models import AuditLog
from testing import conversation_events as ev
from testing.handoff import another_client, login

RANKING = [{"name": "check_points", "confidence": 0.41}, {"name": "redeem_reward", "confidence": 0.33},
           {"name": "greet", "confidence": 0.1}, {"name": "goodbye", "confidence": 0.05}]


def said(sender: str, text: str, ts: float, *, intent: str, confidence: float, language: str = "zh",
         channel: str = "rest") -> dict[str, Any]:
    event = ev.user(sender, text, ts, intent=intent, confidence=confidence, channel=channel, language=language)
    event["parse_data"]["intent_ranking"] = RANKING
    return event


def load(session: Session, events: list[dict[str, Any]]) -> None:
    assert store(session, [json.dumps(e) for e in events]) is not None


def dataset(session: Session) -> None:
    now = time.time() - 3600
    events = []
    for i in range(3):  # the same fallback three times, spelled a little differently
        events.append(said(f"inbox-a{i}", ["我的积分呢？？", "我的积分呢", "我的 积分呢!"][i], now + i,
                           intent="nlu_fallback", confidence=0.3, channel="socketio" if i else "rest"))
    events.append(said("inbox-b", "points pls", now + 10, intent="check_points", confidence=0.45, language="en"))
    events.append(said("inbox-c", "can you give me a human", now + 20, intent="greet", confidence=0.9,
                       language="en"))
    events.append(said("inbox-c", "human", now + 25, intent="request_human", confidence=0.99, language="en"))
    events.append(said("inbox-d", "where is my parcel going", now + 30, intent="check_order", confidence=0.8,
                       language="en"))
    events.append(said("inbox-d", "where is my parcel going now", now + 40, intent="check_order", confidence=0.8,
                       language="en"))
    events.append(said("inbox-e", "你好", now + 50, intent="greet", confidence=0.99))  # understood: not listed
    load(session, events)


def test_poorly_handled_messages_are_deduplicated_counted_and_explained(
        client: TestClient, session: Session) -> None:
    dataset(session)
    login(client, "supervisor")
    page = client.get("/api/v1/nlu/inbox").json()
    texts = [i["text"] for i in page["items"]]
    assert page["total"] == 4 and "你好" not in texts, texts
    first = page["items"][0]
    assert first["count"] == 3 and first["language"] == "zh" and first["reasons"] == ["fallback"]
    assert first["channels"] == ["rest", "socketio"]
    assert [r["name"] for r in first["top_intents"]] == ["check_points", "redeem_reward", "greet"]
    reasons = {i["text"]: i["reasons"] for i in page["items"]}
    assert reasons["points pls"] == ["low_confidence"]
    assert reasons["can you give me a human"] == ["asked_human"]
    assert reasons["where is my parcel going"] == ["rephrased"]
    english = client.get("/api/v1/nlu/inbox?language=en").json()
    assert english["total"] == 3 and all(i["language"] == "en" for i in english["items"])
    widget = client.get("/api/v1/nlu/inbox?channel=socketio").json()
    assert widget["total"] == 1 and widget["items"][0]["count"] == 2
    assert client.get("/api/v1/nlu/inbox?language=fr").status_code == 422


def test_annotating_one_and_many_last_wins_and_every_decision_is_audited(
        app: FastAPI, client: TestClient, session: Session) -> None:
    dataset(session)
    login(client, "supervisor")
    one = client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "我的积分呢", "language": "zh", "intent": "check_points_balance", "predicted": "nlu_fallback"}]})
    assert one.status_code == 201, one.text
    assert one.json()[0]["decision"] == "changed"
    remaining = client.get("/api/v1/nlu/inbox").json()
    assert remaining["total"] == 3 and all(i["language"] == "en" for i in remaining["items"])  # all 3 spellings gone
    many = client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "points pls", "language": "en", "intent": "check_points_balance", "predicted": "check_points_balance"},
        {"text": "can you give me a human", "language": "en", "out_of_scope": True}]})
    assert many.status_code == 201 and [a["decision"] for a in many.json()] == ["confirmed", "out_of_scope"]
    with another_client(app) as other:  # a second supervisor annotates the same message: the last one wins
        login(other, "supervisor")
        again = other.post("/api/v1/nlu/annotations", json={"items": [
            {"text": "我的积分呢？", "language": "zh", "intent": "redeem_reward"}]})
        assert again.status_code == 201
    rows = session.scalars(select(Annotation).where(Annotation.language == "zh")).all()
    assert [(r.text, r.intent) for r in rows] == [("我的积分呢", "redeem_reward")]
    audited = session.scalars(select(AuditLog).where(AuditLog.action == "nlu_annotate")).all()
    assert len(audited) == 4 and json.loads(audited[-1].details)["previous"] == "check_points_balance"
    listed = client.get("/api/v1/nlu/annotations?language=en").json()
    assert listed["total"] == 2


def test_bad_annotations_are_refused_in_the_callers_language(client: TestClient, session: Session) -> None:
    login(client, "supervisor")
    unknown = client.post("/api/v1/nlu/annotations", headers={"Accept-Language": "zh"},
                          json={"items": [{"text": "x y", "language": "zh", "intent": "fly_to_the_moon"}]})
    assert unknown.status_code == 422 and "未知意图" in unknown.json()["error"]["message"]
    both = client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "hi there", "language": "en", "intent": "greet", "out_of_scope": True}]})
    assert both.status_code == 422 and "either an intent or out_of_scope" in both.json()["error"]["message"]
    assert client.post("/api/v1/nlu/annotations", json={"items": []}).status_code == 422
    assert client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "hi", "language": "en", "intent": "Bad-Name"}]}).status_code == 422
    assert session.scalars(select(Annotation)).first() is None  # nothing half-saved


def test_only_supervisors_see_the_inbox(client: TestClient) -> None:
    assert client.get("/api/v1/nlu/inbox").status_code == 401
    login(client, "agent1")
    assert client.get("/api/v1/nlu/inbox").status_code == 403
    assert client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "hi there", "language": "en", "intent": "greet"}]}).status_code == 403
    page = client.get("/console/nlu", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console"
    intents = client.get("/api/v1/nlu/intents")
    assert intents.status_code == 403


def test_intents_come_from_the_domain_and_export_writes_valid_rasa_yaml(
        client: TestClient, session: Session, tmp_path: Path) -> None:
    login(client, "supervisor")
    names = client.get("/api/v1/nlu/intents").json()["items"]
    assert "check_points_balance" in names and "out_of_scope" in names
    assert "EXTERNAL_nps_survey" not in names and "nlu_fallback" not in names
    client.post("/api/v1/nlu/annotations", json={"items": [
        {"text": "我的积分呢", "language": "zh", "intent": "check_points_balance"},
        {"text": "points\nplease", "language": "en", "intent": "check_points_balance"},
        {"text": "what's the weather", "language": "en", "out_of_scope": True}]})
    rows = list(session.scalars(select(Annotation)))
    text, skipped = export.to_yaml(rows, set(names) - {"out_of_scope"})
    assert skipped == ["out_of_scope"]
    data = yaml.safe_load(export.to_yaml(rows, set(names))[0])
    assert data["version"] == "3.1"
    examples = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert examples["check_points_balance"] == "- points please\n- 我的积分呢\n"
    assert examples["out_of_scope"] == "- what's the weather\n"
    assert yaml.safe_load(export.to_yaml([], set(names))[0])["nlu"] == []


def test_normalising_and_rephrase_detection() -> None:
    assert normalise("我的 积分呢！！") == normalise("我的积分呢") == "我的积分呢"
    assert normalise("KF20250001 到哪了") == "kf20250001到哪了"
    assert normalise("Where IS my parcel??") == "where is my parcel"
    assert is_rephrase("where is my parcel going", "where is my parcel going now")
    assert is_rephrase("我的快递到哪了", "我的快递现在到哪里了")
    assert not is_rephrase("where is my parcel", "Where is my parcel?")  # the same words: a repeat
    assert not is_rephrase("hello", "I want a refund for order KF20250001")
