"""Form plumbing: slot questions in both languages, repeated-failure handling, phone + code verification."""

from __future__ import annotations

import functools
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import (
    ActionShowOrderStatus,
    ActionShowPointsBalance,
    ActionShowPointsExpiring,
    ActionShowPointsHistory,
    ActionShowTickets,
    ActionShowTier,
)
from actions.common import channel_of, crm, customer_name, identity_slots, language, say, tier_name
from actions.crm_client import CrmError, CrmUnavailable
from actions.messages import render
from actions.points import ActionAskRedeemConfirmation
from actions.retries import failed_again, reset_failures

PHONE = re.compile(r"^1[3-9]\d{9}$")
CODE = re.compile(r"^\d{6}$")


def digits(value: Any) -> str:
    """Digits of an answer ("138 0000 0003", "+86-13800000003" → "13800000003")."""
    text = re.sub(r"\D", "", str(value or ""))
    return text[2:] if len(text) == 13 and text.startswith("86") else text


# Each form slot is asked by `action_ask_<slot>` with response `utter_ask_<slot>`.
ASKED_SLOTS = ("phone", "otp_code", "complaint_order", "complaint_text", "complaint_category", "reward_code",
               "csat_score", "nps_score", "suggestion_text")


class AskSlotAction(Action):
    """Ask for one form slot in the customer's language."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        buttons = SLOT_BUTTONS.get(self.slot, {}).get(language(tracker))
        dispatcher.utter_message(text=render(f"utter_ask_{self.slot}", language(tracker)), buttons=buttons or [])
        return []


def _buttons(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": title, "payload": payload} for title, payload in pairs]


SLOT_BUTTONS = {
    "csat_score": {lang: _buttons([(str(i), str(i)) for i in range(1, 6)]) for lang in ("zh", "en")},
    "complaint_category": {
        "zh": _buttons([("物流配送", "物流配送"), ("商品质量", "商品质量"), ("服务态度", "服务态度"),
                        ("价格/扣款", "价格扣款"), ("退货退款", "退货退款"), ("账户", "账户"), ("其他", "其他")]),
        "en": _buttons([("Delivery", "delivery"), ("Product quality", "product quality"),
                        ("Service attitude", "service attitude"), ("Price / billing", "billing"),
                        ("Refund / return", "refund"), ("Account", "account"), ("Other", "other")]),
    },
}

# One concrete class per asked slot (rasa-sdk registers Action subclasses by name).
for _slot in ASKED_SLOTS:
    globals()[f"ActionAsk{''.join(p.title() for p in _slot.split('_'))}"] = type(
        f"ActionAsk{''.join(p.title() for p in _slot.split('_'))}", (AskSlotAction,), {"slot": _slot,
                                                                                      "__doc__": f"Ask for {_slot}."})


class ValidateVerifyForm(FormValidationAction):
    """Phone + one-time code: format checks, code sent by the CRM, attempts and lock-out from the CRM."""

    def name(self) -> str:
        return "validate_verify_form"

    async def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        phone = digits(value)
        if not PHONE.match(phone):
            say(dispatcher, tracker, "utter_phone_invalid")
            return {"phone": None, **failed_again(dispatcher, tracker)}
        try:
            sent = await crm(tracker).send_otp(phone, channel_of(tracker), tracker.sender_id)
        except CrmUnavailable:
            say(dispatcher, tracker, "utter_crm_down")
            return {"phone": None, **failed_again(dispatcher, tracker)}
        except CrmError as error:
            say(dispatcher, tracker, "utter_crm_error", message=error.message or error.code)
            return {"phone": None, **failed_again(dispatcher, tracker)}
        minutes = max(1, int(sent.get("expires_in", 300)) // 60)
        say(dispatcher, tracker, "utter_otp_sent", phone=f"{phone[:3]}****{phone[-4:]}", minutes=minutes)
        return {"phone": phone, **reset_failures()}

    async def validate_otp_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        code = digits(value)
        if not CODE.match(code):
            say(dispatcher, tracker, "utter_otp_format")
            return {"otp_code": None, **failed_again(dispatcher, tracker)}
        client = crm(tracker)
        try:
            customer_id = await client.verify_otp(tracker.get_slot("phone"), code, channel_of(tracker),
                                                  tracker.sender_id)
        except CrmUnavailable:
            say(dispatcher, tracker, "utter_crm_down")
            return {"otp_code": None, **failed_again(dispatcher, tracker)}
        except CrmError as error:
            if error.code == "otp_locked":
                say(dispatcher, tracker, "utter_otp_locked")
                return {"otp_code": "locked"}  # ends the form; action_finish_verification sees verified=False
            left = (error.details or {}).get("attempts_left") if isinstance(error.details, dict) else None
            if left == 0:
                say(dispatcher, tracker, "utter_otp_locked")
                return {"otp_code": "locked"}
            say(dispatcher, tracker, "utter_otp_wrong", left=left if left is not None else "?")
            return {"otp_code": None, **failed_again(dispatcher, tracker)}
        try:
            customer = dict(await client.customer(customer_id))
        except CrmError:
            customer = None
        slots = {e["name"]: e["value"] for e in identity_slots(customer_id, customer)}
        return {"otp_code": code, **slots, **reset_failures()}


class ActionFinishVerification(Action):
    """After the phone + code form: welcome by name and tier, then do what the customer asked before."""

    def name(self) -> str:
        return "action_finish_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        lang = language(tracker)
        events: list[EventType] = [SlotSet("phone", None), SlotSet("otp_code", None)]
        if not tracker.get_slot("verified"):
            return events + [SlotSet("pending_action", None)]
        name = tracker.get_slot("customer_name") or ""
        try:
            name = customer_name(dict(await crm(lang).customer(int(tracker.get_slot("customer_id")))), lang)
        except CrmError:
            pass
        say(dispatcher, lang, "utter_verified", name=name, tier=tier_name(tracker.get_slot("customer_tier"), lang))
        events.append(SlotSet("pending_action", None))
        resume = resumable_actions().get(tracker.get_slot("pending_action") or "")
        if resume is not None:
            # Run the request inline rather than as a FollowupAction: no story has to predict the
            # detour, and the customer gets the answer in the same reply.
            events += await resume().run(dispatcher, tracker, domain)
        return events


@functools.lru_cache(maxsize=1)
def resumable_actions() -> dict[str, type[Action]]:
    """Requests that wait for verification, by action name."""
    classes: list[type[Action]] = [ActionShowPointsBalance, ActionShowPointsHistory, ActionShowPointsExpiring,
                                   ActionShowOrderStatus, ActionShowTier, ActionShowTickets,
                                   ActionAskRedeemConfirmation]
    return {cls().name(): cls for cls in classes}
