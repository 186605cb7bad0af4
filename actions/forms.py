"""Form plumbing: slot questions in both languages, repeated-failure handling, phone + code verification."""

from __future__ import annotations

import functools
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import (
    ActionGreetCustomer,
    ActionShowOrderStatus,
    ActionShowPointsBalance,
    ActionShowPointsExpiring,
    ActionShowPointsHistory,
    ActionShowTickets,
    ActionShowTier,
)
from actions.common import channel_of, crm, customer_name, identity_slots, language, say, tier_name
from actions.crm_client import CrmError, CrmUnavailable
from actions.knowledge import ActionAnswerFromKnowledge
from actions.messages import render
from actions.points import ActionAskRedeemConfirmation
from actions.recommendations import ActionRecommendProducts
from actions.repair import (
    FORM_SLOTS,
    KNOWLEDGE_ACTION,
    MAX_FAILURES,
    PAUSED_REQUEST,
    SKIP_VALUES,
    RepairingFormValidation,
    cleared,
    digits,
    failed_again,
    is_none_answer,
    request_after_cancel,
    reset_failures,
)

PHONE = re.compile(r"^1[3-9]\d{9}$")
CODE = re.compile(r"^\d{6}$")
NO_CODE = re.compile(r"没收到|没有收到|收不到|重发|再发|didn'?t (get|receive)|not received|resend|send (it )?again",
                     re.I)

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
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        buttons = list(SLOT_BUTTONS.get(self.slot, {}).get(lang) or [])
        text = render(f"utter_ask_{self.slot}", lang)
        if int(tracker.get_slot("form_failures") or 0) >= MAX_FAILURES:
            # Still stuck on a required slot: the choices as buttons, and a way out.
            text = f"{text}\n{render('utter_form_offer_stop', lang)}"
            buttons += EXIT_BUTTONS[lang]
        dispatcher.utter_message(text=text, buttons=buttons)
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
    "nps_score": {lang: _buttons([(str(i), str(i)) for i in range(0, 11)]) for lang in ("zh", "en")},
}
EXIT_BUTTONS = {"zh": _buttons([("算了", "/stop"), ("转人工", "/request_human")]),
                "en": _buttons([("Stop", "/stop"), ("Talk to a human", "/request_human")])}

# One concrete class per asked slot (rasa-sdk registers Action subclasses by name).
for _slot in ASKED_SLOTS:
    globals()[f"ActionAsk{''.join(p.title() for p in _slot.split('_'))}"] = type(
        f"ActionAsk{''.join(p.title() for p in _slot.split('_'))}", (AskSlotAction,), {"slot": _slot,
                                                                                      "__doc__": f"Ask for {_slot}."})


class ActionStopForm(Action):
    """"Stop" inside a form: stop at once, or, when the customer already gave details, ask first.

    Either way the form is left (so the yes/no that follows is not taken as a slot value); the
    details wait in their slots, and `paused_form` names the form until the answer. "算了，我想查一下积分"
    also asks for something else: that is done at once when nothing is lost, else after the "yes".
    A form's validation that reads a cancel inside a longer answer has already left the form and names
    it in `paused_form`.
    """

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name") or tracker.get_slot("paused_form")
        leave: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if not form:
            say(dispatcher, tracker, "utter_form_stopped")
            return leave
        message = tracker.latest_message or {}
        request = request_after_cancel(str(message.get("text") or ""), (message.get("intent") or {}).get("name"))
        # "No order number" is not a detail to lose.
        if any(tracker.get_slot(name) not in (None, SKIP_VALUES.get(name)) for name in FORM_SLOTS.get(form, ())):
            lang = language(tracker)
            dispatcher.utter_message(text=render("utter_form_stop_confirm", lang), buttons=[
                {"title": "是的，不用了" if lang == "zh" else "Yes, drop it", "payload": "/affirm"},
                {"title": "继续" if lang == "zh" else "No, continue", "payload": "/deny"}])
            # A question needs its text, gone after the "yes": only an account request waits for it.
            waiting = request if request != KNOWLEDGE_ACTION else None
            return leave + [SlotSet("paused_form", form), SlotSet(PAUSED_REQUEST, waiting)]
        say(dispatcher, tracker, "utter_form_stopped")
        return leave + cleared(form) + await run_request(request, dispatcher, tracker, domain)


class ActionDropForm(Action):
    """The customer confirmed the stop: forget what the paused form had collected, then do what they asked instead."""

    def name(self) -> str:
        return "action_drop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        form = tracker.get_slot("paused_form")
        request = tracker.get_slot(PAUSED_REQUEST)
        if form:  # else a form set aside after a silence, already announced: only its new request is left
            say(dispatcher, tracker, "utter_form_stopped")
        elif not request:  # "好的" / "ok" after a form that stopped at once: nothing left to drop, but an answer
            dispatcher.utter_message(response="utter_nothing_to_stop")
        events = cleared(form) if form else [SlotSet(PAUSED_REQUEST, None)]
        return events + await run_request(request, dispatcher, tracker, domain)


class ActionResumeForm(Action):
    """The customer did not want to stop after all: reactivate the paused form, which asks its next question."""

    def name(self) -> str:
        return "action_resume_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        form = tracker.get_slot("paused_form")
        if not form:
            dispatcher.utter_message(response="utter_nothing_to_stop")
            return []
        return [SlotSet("paused_form", None), SlotSet(PAUSED_REQUEST, None), ActiveLoop(form)]


class ValidateVerifyForm(RepairingFormValidation):
    """Phone + one-time code: format checks, code sent by the CRM, attempts and lock-out from the CRM."""

    def name(self) -> str:
        return "validate_verify_form"

    async def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        if is_none_answer(value):
            # Without a phone there is nothing to check: end the form, a human can help instead.
            say(dispatcher, tracker, "utter_verify_no_phone")
            return {"phone": None, "requested_slot": None, **reset_failures()}
        phone = digits(value)
        if not PHONE.match(phone):
            return failed_again(dispatcher, tracker, "phone", "utter_phone_invalid")
        return await send_code(dispatcher, tracker, phone)

    async def validate_otp_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        if is_none_answer(value) or NO_CODE.search(str(value or "")):
            # "没收到" / "I didn't get it": send a new code rather than count a failure.
            return {**await send_code(dispatcher, tracker, str(tracker.get_slot("phone") or "")), "otp_code": None}
        code = digits(value)
        if not CODE.match(code):
            return failed_again(dispatcher, tracker, "otp_code", "utter_otp_format")
        client = crm(tracker)
        try:
            customer_id = await client.verify_otp(str(tracker.get_slot("phone") or ""), code, channel_of(tracker),
                                                  tracker.sender_id)
        except CrmUnavailable:
            return failed_again(dispatcher, tracker, "otp_code", "utter_crm_down")
        except CrmError as error:
            if error.code == "otp_locked":
                say(dispatcher, tracker, "utter_otp_locked")
                return {"otp_code": "locked"}  # ends the form; action_finish_verification sees verified=False
            left = (error.details or {}).get("attempts_left") if isinstance(error.details, dict) else None
            if left == 0:
                say(dispatcher, tracker, "utter_otp_locked")
                return {"otp_code": "locked"}
            return failed_again(dispatcher, tracker, "otp_code", "utter_otp_wrong",
                                left=left if left is not None else "?")
        try:
            customer = dict(await client.customer(customer_id))
        except CrmError:
            customer = None
        slots = {e["name"]: e["value"] for e in identity_slots(customer_id, customer)}
        return {"otp_code": code, **slots, **reset_failures()}


async def send_code(dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> dict[str, Any]:
    """Ask the CRM to send a one-time code to `phone`; the phone slot is kept only when it did."""
    try:
        sent = await crm(tracker).send_otp(phone, channel_of(tracker), tracker.sender_id)
    except CrmUnavailable:
        return failed_again(dispatcher, tracker, "phone", "utter_crm_down")
    except CrmError as error:
        return failed_again(dispatcher, tracker, "phone", "utter_crm_error", message=error.message or error.code)
    minutes = max(1, int(sent.get("expires_in", 300)) // 60)
    say(dispatcher, tracker, "utter_otp_sent", phone=f"{phone[:3]}****{phone[-4:]}", minutes=minutes)
    return {"phone": phone, **reset_failures()}


class ActionFinishVerification(Action):
    """After the phone + code form: welcome by name and tier, then do what the customer asked before."""

    def name(self) -> str:
        return "action_finish_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        events: list[EventType] = [SlotSet("phone", None), SlotSet("otp_code", None)]
        if not tracker.get_slot("verified"):
            return events + [SlotSet("pending_action", None)]
        name = tracker.get_slot("customer_name") or ""
        customer_id = tracker.get_slot("customer_id")
        try:
            if customer_id is not None:
                name = customer_name(dict(await crm(lang).customer(int(customer_id))), lang)
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


async def run_request(request: str | None, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> list[EventType]:
    """Do what the customer asked for instead of a form, inline (as `action_finish_verification` resumes a
    request): as a FollowupAction, no rule or story predicted what comes after it, and the core fallback
    answered "I didn't understand" after the answer."""
    actions = {**resumable_actions(), KNOWLEDGE_ACTION: ActionAnswerFromKnowledge, "action_greet_customer":
               ActionGreetCustomer}
    action = actions.get(request or "")
    return list(await action().run(dispatcher, tracker, domain)) if action is not None else []


@functools.lru_cache(maxsize=1)
def resumable_actions() -> dict[str, type[Action]]:
    """Requests that wait for verification, by action name."""
    classes: list[type[Action]] = [ActionShowPointsBalance, ActionShowPointsHistory, ActionShowPointsExpiring,
                                   ActionShowOrderStatus, ActionShowTier, ActionShowTickets,
                                   ActionAskRedeemConfirmation, ActionRecommendProducts]
    return {cls().name(): cls for cls in classes}
