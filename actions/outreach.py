""""退订" / "unsubscribe" / "stop messages": opt the customer out of marketing messages at once, and confirm."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import apologise_crm_down, channel_of, crm, verified_customer
from actions.crm_client import CrmError


class ActionOptOutMessages(Action):
    def name(self) -> str:
        return "action_opt_out_messages"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        # The CRM maps a chat-app sender to its verified customer; a website visitor is known by the token.
        try:
            answer = await crm(tracker).opt_out(channel=channel_of(tracker), sender_id=tracker.sender_id,
                                                customer_id=verified_customer(tracker))
        except CrmError:
            apologise_crm_down(dispatcher, tracker)
            return []
        dispatcher.utter_message(text=answer["message"])
        return []
