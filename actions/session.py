"""Session start: keep who the customer is and what they still wait for, in their language."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Slots a new session keeps: who the customer is and what they still wait for.
CARRIED_SLOTS = ("language", "customer_id", "verified", "customer_name", "customer_tier", "pending_ticket",
                 "pending_feedback", "kept_retry_wait_s", "last_ticket_no")


class ActionSessionStart(Action):
    """Start a session: carry the customer's identity over, take the language the page asks for.

    A website token needs no work here: every message carries it and `actions.common.identify`
    checks it when account data is asked for.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_SLOTS
                   if tracker.get_slot(name) is not None]
        metadata = tracker.get_slot("session_started_metadata") or {}
        if metadata.get("language") in ("zh", "en"):
            events.append(SlotSet("language", metadata["language"]))
        events.append(ActionExecuted("action_listen"))
        return events
