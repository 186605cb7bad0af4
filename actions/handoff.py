"""Hand the conversation to a human agent through the CRM and pause the bot."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, crm, identify, language, say, transcript, verified_customer
from actions.complaints import decide
from actions.crm_client import CrmError, Handoff
from actions.metrics import HANDOFFS


class ActionHandoffToHuman(Action):
    """POST /handoffs with the transcript, tell the expected wait, return ConversationPaused()."""

    def name(self) -> str:
        return "action_handoff_to_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        customer_id, identity = await identify(tracker)
        reason_code = tracker.get_slot("handoff_reason")
        priority = tracker.get_slot("handoff_priority")
        if not reason_code:  # the customer asked: let the policy set the priority (VIPs first)
            decision = await decide(tracker, is_complaint=False, severity=None, sentiment=None, explicit=True)
            reason_code = decision.get("reason_code") or "explicit_request"
            priority = decision.get("priority") or "normal"
        payload = {"conversation_id": tracker.sender_id, "channel": channel_of(tracker),
                   "customer_id": customer_id, "reason": reason_code, "reason_code": reason_code,
                   "priority": priority or "normal", "transcript": transcript(tracker), "language": lang}
        clear = identity + [SlotSet("handoff_reason", None), SlotSet("handoff_priority", None)]
        try:
            handoff = await crm(lang).create_handoff(payload)
        except CrmError:
            HANDOFFS.labels("crm_unavailable", payload["priority"], payload["channel"]).inc()
            say(dispatcher, lang, "utter_handoff_unavailable")
            return clear
        outcome = "callback" if handoff.get("offer_callback") else "queued"
        HANDOFFS.labels(outcome, payload["priority"], payload["channel"]).inc()
        if handoff.get("offer_callback"):  # the CRM sets it when nobody is online or the wait is too long
            ticket_no = await callback_ticket(tracker, lang, handoff)
            if ticket_no:
                say(dispatcher, lang, "utter_handoff_callback_ticket", ticket_no=ticket_no,
                    minutes=handoff.get("expected_wait_minutes") or "-")
            else:
                say(dispatcher, lang, "utter_handoff_queued_offline")
        else:
            say(dispatcher, lang, "utter_handoff_started", minutes=handoff.get("expected_wait_minutes") or 1)
        return clear + [ConversationPaused()]


async def callback_ticket(tracker: Tracker, lang: str, handoff: Handoff) -> str | None:
    """Open a callback ticket when nobody can take the chat soon; the handoff stays queued as well.

    The key is the handoff id, so a repeated escalation of the same conversation opens one ticket.
    """
    said = [line["text"] for line in transcript(tracker) if line["role"] == "user"]
    payload = {"customer_id": verified_customer(tracker), "kind": "callback", "severity": "normal",
               "channel": channel_of(tracker), "conversation_id": tracker.sender_id,
               "description": "\n".join(said[-10:]) or "callback requested"}
    try:
        ticket = await crm(lang).create_ticket(payload, f"handoff-callback-{handoff.get('handoff_id')}")
    except CrmError:
        return None  # the queued handoff still holds the transcript: nothing is lost
    return ticket["ticket_no"]
