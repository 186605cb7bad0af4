"""Build rasa-sdk trackers the way the action server receives them, and read what actions said."""

from __future__ import annotations

import time
from typing import Any

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


def customer_slots(customer_id: int) -> dict[str, Any]:
    return {"customer_id": customer_id, "verified": True}


def texts(dispatcher: Any) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)
