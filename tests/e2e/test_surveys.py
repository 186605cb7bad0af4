"""CRM-triggered surveys through the running stack: CSAT after a resolved ticket, an NPS campaign (zh and en)."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.stack import Stack, text_of


def bot_lines(stack: Stack, sender: str, after: float, count: int) -> list[str]:
    """The bot's messages in the conversation since `after` (Rasa timestamps), waiting for `count` of them."""
    deadline = time.monotonic() + 15
    lines: list[str] = []
    while time.monotonic() < deadline:
        tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token},
                            timeout=30).json()
        lines = [e.get("text") or "" for e in tracker["events"] if e["event"] == "bot" and e["timestamp"] > after]
        if len(lines) >= count:
            return lines
        time.sleep(0.3)
    raise AssertionError(f"expected {count} bot messages in {sender}, got {lines}")


@pytest.mark.parametrize(("language", "hello", "resolved", "csat", "nps"), [
    ("zh", "你好", "已处理完毕", "满意", "推荐"),
    ("en", "hello", "has been resolved", "satisfied", "recommend"),
])
def test_resolved_ticket_asks_csat_and_campaign_asks_nps(stack: Stack, language: str, hello: str, resolved: str,
                                                         csat: str, nps: str) -> None:
    sender = f"e2e-surveys-{language}"
    stack.chat(sender, hello)
    created = stack.crm("POST", "/tickets", headers={"Idempotency-Key": sender}, json={
        "severity": "normal", "channel": "rest", "kind": "complaint", "description": "the parcel arrived damaged",
        "conversation_id": sender})
    assert created.status_code == 201, created.text
    ticket_no = created.json()["ticket_no"]
    since = time.time()
    for status in ("in_progress", "resolved"):
        changed = stack.crm("PATCH", f"/tickets/{ticket_no}/status", json={"status": status})
        assert changed.status_code == 200, changed.text
    announce, question = bot_lines(stack, sender, since, 2)[:2]
    assert ticket_no in announce and resolved in announce, announce
    assert csat in question, question
    reply = text_of(stack.chat(sender, "2"))  # a low score opens a follow-up ticket
    follow_up = re.findall(r"T\d{6}", reply)
    assert follow_up and follow_up[0] != ticket_no, reply

    since = time.time()
    campaign = stack.crm("POST", "/campaigns/nps", json={"conversation_ids": [sender]})
    assert campaign.status_code == 200 and campaign.json() == {"triggered": 1, "failed": []}, campaign.text
    assert nps in bot_lines(stack, sender, since, 1)[0]
