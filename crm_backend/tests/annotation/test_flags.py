"""Agents flag a customer message the bot misunderstood: it lands in the NLU inbox (reason agent_corrected),
redacted, once however often it is flagged; only for conversations the agent may see, only customer turns."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.handoff.models import AuditLog
from testing.handoff import another_client, handoff_body, login


def test_a_flagged_message_goes_to_the_inbox_once_and_redacted(
        app: FastAPI, client: TestClient, session: Session, service_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/handoffs", headers=service_headers, json=handoff_body(
        "flag-1", language="zh", transcript=[{"role": "user", "text": "扣款金额好像不对，我手机 13800000003"},
                                             {"role": "bot", "text": "请问您想了解哪方面的常见问题？"}]))
    handoff_id = created.json()["handoff_id"]
    login(client, "agent1")
    assert client.post(f"/api/v1/handoffs/{handoff_id}/claim").status_code == 200
    messages = client.get(f"/api/v1/handoffs/{handoff_id}").json()["messages"]
    customer = next(m for m in messages if m["role"] == "user")
    bot = next(m for m in messages if m["role"] == "bot")
    for _ in range(2):  # a double click flags once
        flagged = client.post("/api/v1/nlu/flags", json={"handoff_id": handoff_id, "message_id": customer["id"]})
        assert flagged.status_code == 201, flagged.text
        assert "13800000003" not in flagged.json()["text"] and flagged.json()["language"] == "zh"
    wrong = client.post("/api/v1/nlu/flags", json={"handoff_id": handoff_id, "message_id": bot["id"]},
                        headers={"Accept-Language": "zh"})
    assert wrong.status_code == 404 and "客户消息" in wrong.json()["error"]["message"]  # bot turns: no
    with another_client(app) as other:  # another agent cannot reach a conversation agent1 holds
        login(other, "agent2")
        assert other.post("/api/v1/nlu/flags", json={"handoff_id": handoff_id,
                                                      "message_id": customer["id"]}).status_code == 403
    with another_client(app) as boss:
        login(boss, "supervisor")
        inbox = boss.get("/api/v1/nlu/inbox", params={"language": "zh"}).json()["items"]
        item = next(i for i in inbox if i["text"].startswith("扣款金额好像不对"))
        assert item["reasons"] == ["agent_corrected"] and item["count"] == 1 and item["channels"] == ["rest"]
        assert boss.post("/api/v1/nlu/annotations", json={"items": [
            {"text": item["text"], "language": "zh", "intent": "file_complaint"}]}).status_code == 201
        after = boss.get("/api/v1/nlu/inbox", params={"language": "zh"}).json()["items"]
        assert not any(i["text"] == item["text"] for i in after)  # annotated: it leaves the inbox
    assert session.scalars(select(AuditLog).where(AuditLog.action == "nlu_flag")).all()
