"""Build rasa-sdk trackers the way the action server receives them, and read what actions said."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from rasa_sdk import Tracker

SERVICE_TOKEN = "actions-test-service-token"
TOKEN_SECRET = "actions-test-customer-token-secret-0123456789"


def make_tracker(*, text: str = "", intent: str = "", slots: dict[str, Any] | None = None,
                 entities: list[dict[str, Any]] | None = None, metadata: dict[str, Any] | None = None,
                 language: str | None = None, sender: str = "actions-test", events: list[dict[str, Any]] | None = None,
                 active_loop: str | None = None, requested_slot: str | None = None,
                 channel: str = "rest") -> Tracker:
    """A rasa-sdk tracker as the action server receives it after one user message."""
    all_slots = {"language": language or "zh", "verified": False, "form_failures": 0.0, **(slots or {})}
    if requested_slot:
        all_slots["requested_slot"] = requested_slot
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
              "language": language, "intent_ranking": [{"name": intent, "confidence": 1.0}]}
    user_event = {"event": "user", "text": text, "timestamp": time.time(), "metadata": metadata or {},
                  "parse_data": latest, "input_channel": channel}
    return Tracker(sender, all_slots, latest, [*(events or []), user_event], False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


async def crm_get(crm_url: str, path: str) -> Any:
    """GET `/api/v1{path}` on the CRM test server with the service token; the body, after checking 200."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{crm_url}/api/v1{path}", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as r:
            assert r.status == 200, await r.text()
            return await r.json()


def customer_slots(customer_id: int) -> dict[str, Any]:
    return {"customer_id": customer_id, "verified": True}


def texts(dispatcher: Any) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def form_turn(*, text: str, intent: str, candidates: dict[str, Any], active_loop: str, requested: str | None,
              slots: dict[str, Any] | None = None, confidence: float = 0.99, language: str = "zh",
              earlier: list[dict[str, Any]] | None = None,
              entities: list[dict[str, Any]] | None = None, gap_s: float = 0.0) -> Tracker:
    """A tracker as a form's validation action gets it: the message, then the slot candidates after it.

    `gap_s`: the silence before the message, after the customer's previous message (the form's opening).
    """
    ranked = {"name": intent, "confidence": confidence}
    latest: dict[str, Any] = {"text": text, "intent": ranked, "entities": entities or [], "intent_ranking": [ranked]}
    now = time.time()
    opening = [{"event": "user", "text": "…", "timestamp": now - gap_s, "parse_data": {}}] if gap_s else []
    events = [*opening, *(earlier or []), {"event": "user", "text": text, "timestamp": now, "parse_data": latest},
              {"event": "slot", "name": "requested_slot", "value": requested, "timestamp": now},
              {"event": "action", "name": active_loop, "timestamp": now},
              *({"event": "slot", "name": k, "value": v, "timestamp": now} for k, v in candidates.items())]
    all_slots = {"language": language, "verified": False, "form_failures": 0.0, "requested_slot": requested,
                 **(slots or {}), **candidates}
    return Tracker("forms-test", all_slots, latest, events, False, None, {"name": active_loop}, "action_listen")


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
