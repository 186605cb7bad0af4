"""Session start: keep who the customer is and what they still wait for, in their language."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import render

# Slots a new session keeps: who the customer is and what they still wait for.
CARRIED_SLOTS = ("language", "customer_id", "verified", "customer_name", "customer_tier", "pending_ticket",
                 "pending_feedback", "kept_retry_wait_s", "last_ticket_no")
# What a form left unfinished when the session expired was about, for the line saying it was set aside.
FORM_TOPICS = {
    "zh": {"complaint_form": "投诉", "suggestion_form": "建议", "verify_form": "身份验证", "redeem_form": "积分兑换",
           "csat_form": "满意度评价", "nps_form": "推荐意愿调查"},
    "en": {"complaint_form": "complaint", "suggestion_form": "suggestion", "verify_form": "verification",
           "redeem_form": "reward redemption", "csat_form": "satisfaction rating", "nps_form": "survey"},
}


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
        # After a long silence (session_expiration_time) the new message is a new start: a form left
        # half-done is dropped with its details (they are not carried over), and the customer is told so.
        unfinished = tracker.active_loop_name or tracker.get_slot("paused_form")
        if unfinished in FORM_TOPICS["en"]:
            known = (metadata.get("language"), tracker.get_slot("language"))
            lang = next((v for v in known if v in ("zh", "en")), "zh")
            dispatcher.utter_message(text=render("utter_form_set_aside", lang, topic=FORM_TOPICS[lang][unfinished]))
        events.append(ActionExecuted("action_listen"))
        return events
