"""Per-turn bookkeeping: session start, the `language` slot, token identity, retrying kept complaints."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    CHAT_APP_CHANNELS,
    channel_of,
    crm,
    customer_from_token,
    identity_slots,
    latest_metadata,
)
from actions.complaints import submit_pending_ticket
from actions.crm_client import CrmError, CrmUnavailable

logger = logging.getLogger(__name__)

# Slots a new session keeps: who the customer is and what they still wait for.
CARRIED_SLOTS = ("language", "customer_id", "verified", "customer_name", "customer_tier", "pending_ticket",
                 "last_ticket_no")


async def identify_from_token(token: Any, tracker: Tracker, lang: str) -> list[EventType]:
    """Slots for the customer a valid `customer_token` names, unless the conversation already has them."""
    customer_id = customer_from_token(token)
    if customer_id is None:
        return []
    if tracker.get_slot("verified") and tracker.get_slot("customer_id") == customer_id:
        return []
    try:
        customer: dict[str, Any] | None = dict(await crm(lang).customer(customer_id))
    except CrmUnavailable:
        customer = None  # the token is proof enough; the name comes later
    except CrmError as error:
        logger.warning("token names customer %s but the CRM says %s", customer_id, error.code)
        return []
    return identity_slots(customer_id, customer)


class ActionSessionStart(Action):
    """Start a session: keep the customer's identity, verify a token in the session-start metadata."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_SLOTS
                   if tracker.get_slot(name) is not None]
        metadata = tracker.get_slot("session_started_metadata") or {}
        lang = metadata.get("language") if metadata.get("language") in ("zh", "en") else None
        if lang:
            events.append(SlotSet("language", lang))
        lang = lang or tracker.get_slot("language") or "zh"
        # A chat-app link is checked on the session's first message instead (`first_message_of_session`).
        events += await identify_from_token(metadata.get("customer_token"), tracker, lang)
        events.append(ActionExecuted("action_listen"))
        return events


async def linked_identity(channel: str, sender_id: str, lang: str) -> list[EventType]:
    """Identity slots for a chat-app sender the CRM linked to a customer after an earlier verification."""
    client = crm(lang)
    try:
        customer_id = await client.linked_customer(channel, sender_id)
        if customer_id is None:
            return []
        return identity_slots(customer_id, dict(await client.customer(customer_id)))
    except CrmError:
        return []


def first_message_of_session(tracker: Tracker) -> bool:
    """True on the session's first user message.

    A brand-new sender's session starts before Rasa records the input channel, so the chat-app
    link can only be checked here; the channel comes from Rasa's own record, never from metadata.
    """
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        users += event.get("event") == "user"
    return users <= 1


class ActionValidateSlotMappings(Action):
    """Runs after every user message: language slot, website token, and a kept complaint to resubmit."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = []
        detected = (tracker.latest_message or {}).get("language")
        if detected in ("zh", "en") and detected != tracker.get_slot("language"):
            events.append(SlotSet("language", detected))
        lang = detected if detected in ("zh", "en") else (tracker.get_slot("language") or "zh")
        token = latest_metadata(tracker).get("customer_token")
        if token:
            events += await identify_from_token(token, tracker, lang)
        channel = channel_of(tracker)
        if (not token and not tracker.get_slot("verified") and channel in CHAT_APP_CHANNELS
                and first_message_of_session(tracker)):
            events += await linked_identity(channel, tracker.sender_id, lang)
        if tracker.get_slot("pending_ticket"):
            events += await submit_pending_ticket(dispatcher, tracker, lang)
        return events
