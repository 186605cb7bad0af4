"""What a customer gave while the CRM was down — a complaint, a score, a suggestion — kept and resubmitted.

Each write is kept in a slot with the idempotency key of its first attempt, so a resubmission that races
a slow first try is recorded once. A Rasa reminder (`EXTERNAL_retry_kept_writes` →
`action_retry_kept_writes`) resubmits after 30 s, then after twice the last wait (at most 10 minutes),
whether or not the customer writes again, and the customer is told once it is in. A new complaint or a
ticket question tries first too: reminders live in the Rasa process and die with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import crm, say
from actions.crm_client import CrmClient, CrmError, Ticket
from actions.metrics import KEPT, SETTLED

KEPT_TICKET, KEPT_FEEDBACK, RETRY_WAIT = "pending_ticket", "pending_feedback", "kept_retry_wait_s"
RETRY_INTENT = "EXTERNAL_retry_kept_writes"
RETRY_FIRST_S, RETRY_MAX_S = 30, 600
NEVER_VALID = (400, 404, 422)  # the CRM refused the content itself: retrying forever helps nobody


def schedule_retry(wait_s: int) -> list[EventType]:
    """A reminder to resubmit the kept writes in `wait_s` seconds (it replaces an earlier one)."""
    return [SlotSet(RETRY_WAIT, float(wait_s)),
            ReminderScheduled(RETRY_INTENT, datetime.now() + timedelta(seconds=wait_s), name="retry_kept_writes",
                              kill_on_user_message=False)]


def keep_ticket(payload: dict[str, Any], key: str) -> list[EventType]:
    """Keep a complaint ticket the CRM did not take, and schedule its resubmission."""
    KEPT.labels("ticket").inc()
    return [SlotSet(KEPT_TICKET, {"payload": payload, "key": key}), *schedule_retry(RETRY_FIRST_S)]


def keep_feedback(tracker: Tracker, payload: dict[str, Any], key: str) -> list[EventType]:
    """Keep a CSAT/NPS answer or suggestion the CRM did not take (after any kept earlier), and schedule it."""
    kept = [item for item in tracker.get_slot(KEPT_FEEDBACK) or [] if isinstance(item, dict)]
    KEPT.labels("feedback").inc()
    return [SlotSet(KEPT_FEEDBACK, [*kept, {"payload": payload, "key": key}]), *schedule_retry(RETRY_FIRST_S)]


def keep_comment(tracker: Tracker, feedback_id: int, text: str, key: str) -> list[EventType]:
    """Keep a survey comment the CRM did not take (its score is in), and schedule it with the other writes."""
    kept = [item for item in tracker.get_slot(KEPT_FEEDBACK) or [] if isinstance(item, dict)]
    KEPT.labels("feedback").inc()
    comment = {"comment_for": feedback_id, "payload": {"text": text, "conversation_id": tracker.sender_id}, "key": key}
    return [SlotSet(KEPT_FEEDBACK, [*kept, comment]), *schedule_retry(RETRY_FIRST_S)]


async def file_ticket(client: CrmClient, payload: dict[str, Any], key: str) -> Ticket:
    """Create a ticket. An order number the CRM does not know (an unverified customer's typo, or one checked
    while the CRM was down) must not cost the complaint: it is filed without the link, the number in its text."""
    try:
        return await client.create_ticket(payload, key)
    except CrmError as error:
        if error.code != "order_not_found" or not payload.get("order_no"):
            raise
    described = f"{payload.get('description') or ''}\n订单号 Order no.: {payload['order_no']}".strip()
    return await client.create_ticket({**payload, "order_no": None, "description": described}, f"{key}-no-order")


async def resubmit_kept_writes(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Send every kept write once; tell the customer what got in; schedule another try for the rest."""
    events: list[EventType] = []
    client = crm(tracker)
    still_kept = False
    ticket = tracker.get_slot(KEPT_TICKET)
    if ticket and not (isinstance(ticket, dict) and "payload" in ticket):
        events.append(SlotSet(KEPT_TICKET, None))  # not something we kept: drop it
    elif ticket:
        try:
            created = await file_ticket(client, ticket["payload"], ticket["key"])
        except CrmError as error:
            still_kept = error.status not in NEVER_VALID
            if not still_kept:
                SETTLED.labels("ticket", "refused").inc()
                events.append(SlotSet(KEPT_TICKET, None))
        else:
            SETTLED.labels("ticket", "submitted").inc()
            say(dispatcher, tracker, "utter_ticket_created_later", ticket_no=created["ticket_no"],
                hours=created.get("sla_hours") or "-")
            events += [SlotSet(KEPT_TICKET, None), SlotSet("last_ticket_no", created["ticket_no"])]
    feedback = tracker.get_slot(KEPT_FEEDBACK)
    if feedback:
        left, follow_ups = [], []
        for item in feedback if isinstance(feedback, list) else []:
            try:
                if "comment_for" in item:
                    payload = item["payload"]
                    result = await client.feedback_comment(int(item["comment_for"]), payload["text"],
                                                           payload["conversation_id"], item["key"])
                    result = {**result, "follow_up_ticket_no": None}  # its ticket was told with the score
                else:
                    result = await client.feedback(item["payload"], item["key"])
            except CrmError as error:
                if error.status not in NEVER_VALID:
                    left.append(item)
                else:
                    SETTLED.labels("feedback", "refused").inc()
            except (KeyError, TypeError):
                continue  # not something we kept: drop it
            else:
                SETTLED.labels("feedback", "submitted").inc()
                follow_ups += [result["follow_up_ticket_no"]] if result.get("follow_up_ticket_no") else []
        if len(left) < len(feedback):
            say(dispatcher, tracker, "utter_feedback_recorded_later")
            for ticket_no in follow_ups:
                say(dispatcher, tracker, "utter_feedback_follow_up", ticket_no=ticket_no)
        events.append(SlotSet(KEPT_FEEDBACK, left or None))
        still_kept = still_kept or bool(left)
    if still_kept:
        events += schedule_retry(min(2 * int(tracker.get_slot(RETRY_WAIT) or RETRY_FIRST_S), RETRY_MAX_S))
    return events


class ActionRetryKeptWrites(Action):
    """Resubmit what the CRM could not take earlier (the reminder's action)."""

    def name(self) -> str:
        return "action_retry_kept_writes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        return await resubmit_kept_writes(dispatcher, tracker)
