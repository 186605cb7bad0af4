"""Complaints: empathetic acknowledgement, a form (order optional, what happened, category), a ticket.

If the CRM is down when the ticket is created, the complaint is kept with its idempotency key and
resubmitted later (`actions.kept_writes`); the customer is told the ticket number then.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import bot_failures, channel_of, crm, identify, language, say, verified_customer
from actions.crm_client import CrmClient, CrmError, CrmUnavailable, TextAnalysis
from actions.kept_writes import NEVER_VALID, file_ticket, keep_ticket, resubmit_kept_writes
from actions.messages import render
from actions.repair import RepairingFormValidation, digits, failed_again, is_none_answer, reset_failures

CATEGORIES = ("delivery", "product_quality", "service_attitude", "price_billing", "refund_return", "account", "other")
CATEGORY_CONFIDENCE = 0.6  # below this the bot asks instead of trusting the CRM's guess
UPSET_SCORE = 0.8  # sentiment size from which a message counts as clearly upset (and a complaint as severe)
CATEGORY_WORDS = {
    "delivery": ("物流", "快递", "配送", "送货", "deliver", "shipping", "courier", "package"),
    "product_quality": ("质量", "坏", "破", "product", "quality", "broken", "damaged", "defect"),
    "service_attitude": ("态度", "服务", "客服", "service", "attitude", "rude", "staff"),
    "price_billing": ("价格", "扣款", "收费", "多扣", "billing", "price", "charge", "payment"),
    "refund_return": ("退", "refund", "return"),
    "account": ("账户", "账号", "积分", "account", "login", "points"),
    "other": ("其他", "其它", "other"),
}
ORDER_NO = re.compile(r"KF\d{8}", re.I)


def category_from(text: str) -> str | None:
    lowered = text.lower()
    if lowered.strip() in CATEGORIES:
        return lowered.strip()
    for category, words in CATEGORY_WORDS.items():
        if any(word in lowered for word in words):
            return category
    return None


def ticket_payload(tracker: Tracker) -> dict[str, Any]:
    order = tracker.get_slot("complaint_order")
    category = tracker.get_slot("complaint_category")
    payload: dict[str, Any] = {
        "customer_id": verified_customer(tracker),
        "severity": "high" if tracker.get_slot("complaint_severity") == "high" else "normal",
        "channel": channel_of(tracker),
        "description": tracker.get_slot("complaint_text") or "",
        "order_no": order if order and order != "none" else None,
        "conversation_id": tracker.sender_id,
        "kind": "complaint",
    }
    if category and category in CATEGORIES and category != "other":
        payload["category"] = category
    return payload


class ActionPrepareComplaint(Action):
    """Keep what the customer already said, and infer the category when the CRM is confident."""

    def name(self) -> str:
        return "action_prepare_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        _, events = await identify(tracker)  # the ticket names a linked chat-app customer too
        events += await resubmit_kept_writes(dispatcher, tracker)
        events += [SlotSet("complaint_key", f"complaint-{uuid.uuid4().hex}"),
                                   SlotSet("complaint_text", None), SlotSet("complaint_category", None),
                                   SlotSet("complaint_order", None), SlotSet("form_failures", 0.0)]
        order = ORDER_NO.search(text)
        if order:
            events.append(SlotSet("complaint_order", order.group(0).upper()))
        if _is_descriptive(text):
            events.append(SlotSet("complaint_text", text))
            events += await _infer_category(tracker, text)
        return events


ZH_OPENING = re.compile(r"(我要|我想|想要|我需要|帮我|麻烦你?|请)?(提交|提个|提一个|提出|发起|进行)?(一个|个)?"
                        r"(投诉|客诉|反映(一个|个|一下)?问题)(一下)?")
# Words of a bare English opening ("I'd like to lodge a formal complaint, please"): what is left describes.
EN_OPENING = frozenset("i i'd i'm id want wanna would like to need file make lodge raise submit open register have "
                       "a an formal complaint complain please can could you help me let do just hi hello hey "
                       "about regarding order my".split())


def _is_descriptive(text: str) -> bool:
    """More than a bare "I want to complain (about order KF…)": worth keeping as the description."""
    text = ORDER_NO.sub("", text)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", ZH_OPENING.sub("", text)))
    words = [word for word in re.findall(r"[a-z']+", text.lower()) if word not in EN_OPENING]
    return cjk >= 6 or len(words) >= 3


def strongly_negative(analysis: TextAnalysis) -> bool:
    """The CRM's text analysis reads the message as clearly upset."""
    sentiment = analysis.get("sentiment") or {}
    # The score is signed (-1 … 1) or a confidence, depending on the model: its size is what counts.
    return sentiment.get("label") == "negative" and abs(float(sentiment.get("score") or 0)) >= UPSET_SCORE


async def offer_complaint_if_upset(dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient) -> bool:
    """An angry "still hasn't moved!" read as a status question or a help question gets its answer, then an
    apology and the offer of a complaint: whichever intent won, an upset customer is not left with a status
    line or a policy paragraph only. True when the offer was made."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if not text or text.startswith("/"):
        return False
    try:
        analysis = await client.analyse(text)
    except CrmError:
        return False  # the answer was given; the offer is a courtesy that needs the CRM
    if not strongly_negative(analysis):
        return False
    lang = language(tracker)
    dispatcher.utter_message(text=render("utter_complaint_offer", lang), buttons=[
        {"title": "提交投诉" if lang == "zh" else "File a complaint", "payload": "/file_complaint"},
        {"title": "转人工" if lang == "zh" else "Talk to a human", "payload": "/request_human"}])
    return True


async def _keep_details(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> dict[str, Any]:
    """What happened, told where the order number was asked: it joins the description (asked no more) and
    the order number is asked once more, with no failure counted."""
    before = str(tracker.get_slot("complaint_text") or "").strip()
    slots: dict[str, Any] = {"complaint_order": None, "complaint_text": f"{before}\n{text}" if before else text}
    if not tracker.get_slot("complaint_category"):
        for event in await _infer_category(tracker, slots["complaint_text"]):
            slots[event["name"]] = event["value"]
    say(dispatcher, tracker, "utter_complaint_details_noted")
    return slots


async def _infer_category(tracker: Tracker, text: str) -> list[EventType]:
    try:
        analysis = await crm(tracker).analyse(text)
    except CrmError:
        return []
    category = analysis.get("category") or {}
    events: list[EventType] = []
    if strongly_negative(analysis):
        events.append(SlotSet("complaint_severity", "high"))
    if category.get("label") in CATEGORIES and category.get("label") != "other" \
            and float(category.get("confidence") or 0) >= CATEGORY_CONFIDENCE:
        events.append(SlotSet("complaint_category", category["label"]))
    return events


class ValidateComplaintForm(RepairingFormValidation):
    """Order number (optional), what happened, category (asked only when not inferred)."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def validate_complaint_order(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        match = ORDER_NO.search(text)
        order_no = match.group(0).upper() if match else f"KF{digits(text)}" if len(digits(text)) == 8 else None
        if order_no:
            if await _not_on_account(tracker, order_no):
                return failed_again(dispatcher, tracker, "complaint_order", "utter_order_not_found", order_no=order_no)
            return {"complaint_order": order_no, **reset_failures()}
        if is_none_answer(text):
            return {"complaint_order": "none", **reset_failures()}
        if _is_descriptive(text):
            return await _keep_details(dispatcher, tracker, text)
        return failed_again(dispatcher, tracker, "complaint_order", "utter_order_no_invalid")

    async def validate_complaint_text(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 2 or is_none_answer(text):
            return failed_again(dispatcher, tracker, "complaint_text", "utter_complaint_text_short")
        result: dict[str, Any] = {"complaint_text": text, **reset_failures()}
        if not tracker.get_slot("complaint_category"):
            for event in await _infer_category(tracker, text):
                result[event["name"]] = event["value"]
        return result

    async def validate_complaint_category(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> dict[str, Any]:
        if is_none_answer(value):
            return {"complaint_category": "other", **reset_failures()}
        category = category_from(str(value or ""))
        if category is None:
            return failed_again(dispatcher, tracker, "complaint_category", "utter_category_invalid")
        return {"complaint_category": category, **reset_failures()}


async def _not_on_account(tracker: Tracker, order_no: str) -> bool:
    """A verified customer's order number that is not on their account: asked again here, because the CRM
    refuses a ticket naming it once the form is over. Unverified, or the CRM unreachable: taken as given."""
    customer_id = verified_customer(tracker)
    if customer_id is None:
        return False
    try:
        await crm(tracker).order(customer_id, order_no)
    except CrmError as error:
        return error.code == "order_not_found"
    return False


async def create_ticket(tracker: Tracker, payload: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(await file_ticket(crm(tracker), payload, key))


def _tell_ticket(dispatcher: CollectingDispatcher, lang: str, ticket: dict[str, Any]) -> None:
    say(dispatcher, lang, "utter_ticket_created", ticket_no=ticket["ticket_no"],
        hours=ticket.get("sla_hours") or "-", due=str(ticket.get("sla_due_at") or "")[:16].replace("T", " "))


class ActionCreateTicket(Action):
    """Create the complaint ticket, tell its number + SLA, then ask the escalation policy."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        payload = ticket_payload(tracker)
        key = tracker.get_slot("complaint_key") or f"complaint-{uuid.uuid4().hex}"
        clear = [SlotSet(s, None) for s in ("complaint_order", "complaint_text", "complaint_category",
                                            "complaint_key", "complaint_severity")]
        try:
            ticket = await create_ticket(tracker, payload, key)
        except CrmError as error:
            if not isinstance(error, CrmUnavailable) and error.status in NEVER_VALID:
                # Refused, not lost to an outage: resubmitting would be refused again, so a human takes it.
                say(dispatcher, lang, "utter_crm_error", message=error.message or error.code)
                return clear + [SlotSet("handoff_reason", "ticket_refused"), SlotSet("handoff_priority", "normal"),
                                FollowupAction("action_handoff_to_human")]
            say(dispatcher, lang, "utter_ticket_kept")
            return clear + keep_ticket(payload, key)
        _tell_ticket(dispatcher, lang, ticket)
        events: list[EventType] = clear + [SlotSet("last_ticket_no", ticket["ticket_no"])]
        decision = await decide(tracker, is_complaint=True, severity=payload["severity"],
                                sentiment="negative", explicit=False)
        if decision.get("escalate"):
            events += [SlotSet("handoff_reason", decision.get("reason_code") or "complaint"),
                       SlotSet("handoff_priority", decision.get("priority") or "normal"),
                       FollowupAction("action_handoff_to_human")]
        return events


async def decide(tracker: Tracker, *, is_complaint: bool, severity: str | None, sentiment: str | None,
                 explicit: bool) -> dict[str, Any]:
    """The CRM's escalation policy; an unreachable CRM means no escalation decision (empty)."""
    payload = {"customer_id": verified_customer(tracker), "message_sentiment": sentiment,
               "complaint_severity": severity, "explicit_request": explicit,
               "bot_failures": bot_failures(tracker), "is_complaint": is_complaint}
    try:
        return dict(await crm(tracker).decide_escalation(payload))
    except CrmError:
        return {}
