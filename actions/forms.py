"""Form plumbing: slot questions in both languages, repeated-failure handling, phone + code verification."""

from __future__ import annotations

import functools
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, crm, customer_name, identity_slots, language, say, tier_name
from actions.crm_client import CrmError, CrmUnavailable

MAX_FAILURES = 2  # after this many bad answers to one slot: skip it if optional, else offer buttons and a way out
PHONE = re.compile(r"^1[3-9]\d{9}$")
CODE = re.compile(r"^\d{6}$")
# Intents that, recognised this surely, are a question asked mid-form rather than an answer to the form.
DIGRESSION_INTENTS = ("faq", "chitchat")
DIGRESSION_CONFIDENCE = 0.7
# "None" / "don't know" answers, whole message only: "没有收到货" is a description, "没有" is not.
NONE_ANSWER = re.compile(
    r"^(?:(?:我|我这边|这个|那个)?(?:没有|没|无|木有|不记得|记不得|记不清|忘了|忘记了|不知道|不清楚|不确定|说不上来|"
    r"不好说|跳过|略过|暂时没有|没什么|没啥)(?:了|呢|啊|吧)?(?:订单号|订单|单号|号码|手机号|建议|意见|可说的)?(?:了|呢|啊)?|"
    r"none|no|nope|nothing|n/?a|skip|pass|no comment|no order(?: number)?|no idea|not sure|unsure|"
    r"(?:i )?(?:don'?t|do not) (?:know|remember|have (?:it|one|an? order(?: number)?|a number))|"
    r"(?:i )?can'?t remember|i have no order(?: number)?|there is no order|nothing to say)\W*$",
    re.I,
)
# What a question looks like. An answer such as "物流配送" or "please add evening delivery slots" can read
# as an FAQ to the NLU; it is a digression only when it is also phrased as a question.
QUESTION = re.compile(r"[?？]|吗|呢|怎么|怎样|如何|多少|多久|几天|什么|哪|为什么|能不能|可不可以|是否|"
                      r"\b(how|what|when|where|why|which|who|can i|can you|do you|does|is there|are there|are you)\b",
                      re.I)
NO_CODE = re.compile(r"没收到|没有收到|收不到|重发|再发|didn'?t (get|receive)|not received|resend|send (it )?again",
                     re.I)
CORRECTION = re.compile(r"^\W*(不对|不是|错了|说错了|我是说|应该是|更正|改成|改为|改一下|no\b|sorry\b|oops|"
                        r"wrong|i meant|i mean|actually|correction|change)", re.I)


def is_none_answer(value: Any) -> bool:
    return bool(NONE_ANSWER.match(str(value or "").strip(" ，,。.!！~")))


def failed_again(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str,
                 **values: Any) -> dict[str, Any]:
    """Reject an answer with a specific re-ask; the second failure skips an optional slot.

    The question that follows (`AskSlotAction`) carries the buttons and the way out from the second
    failure on, so a turn is at most two messages: what was wrong, and the question.
    """
    failures = int(tracker.get_slot("form_failures") or 0) + 1
    if failures >= MAX_FAILURES and slot in SKIP_VALUES:
        say(dispatcher, tracker, "utter_slot_skipped")
        return {slot: SKIP_VALUES[slot], **reset_failures()}
    say(dispatcher, tracker, response, **values)
    return {slot: None, "form_failures": float(failures)}


def reset_failures() -> dict[str, Any]:
    return {"form_failures": 0.0}


# Optional slots and the value that means "not given".
SKIP_VALUES = {"complaint_order": "none", "complaint_category": "other"}


def digits(value: Any) -> str:
    """Digits of an answer ("138 0000 0003", "+86-13800000003" → "13800000003")."""
    text = re.sub(r"\D", "", str(value or ""))
    return text[2:] if len(text) == 13 and text.startswith("86") else text


def value_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message (its candidates come after that message)."""
    seen_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_message = True
        elif seen_message and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a question asked mid-form (an FAQ or chitchat) when the NLU is sure of it.

    Out of scope is not one: "飞机" answering "which reward?" is a wrong answer, not a question.
    """
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    text = str(message.get("text") or "")
    if is_none_answer(text) or not QUESTION.search(text):  # "不知道", "物流配送" are answers
        return False
    if intent.get("name") not in DIGRESSION_INTENTS or float(intent.get("confidence") or 0) < DIGRESSION_CONFIDENCE:
        return False
    selected = ((message.get("response_selector") or {}).get("default") or {}).get("response") or {}
    utter = selected.get("utter_action") or ""
    if not str(selected.get("intent_response_key") or "").startswith(f"{intent['name']}/"):
        return False
    dispatcher.utter_message(response=utter)
    return True


class RepairingFormValidation(FormValidationAction):
    """What every form does before a slot's own check.

    - A slot reset to None by a prepare action is not an answer: validating it sent one failure
      message per slot on the form's first turn.
    - A question the NLU is sure of is answered and takes no slot; the form then asks again.
    - "No, I meant KF…" corrects an earlier answer (its entity mapping refills that slot) and is
      not taken as the answer to the open question.
    """

    @abstractmethod
    def name(self) -> str:
        """`validate_<form>` (abstract here, so rasa-sdk does not register this base class)."""

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> list[EventType]:
        form_slots = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        answered = {name: value for name, value in tracker.slots_to_validate().items()
                    if name in form_slots and value is not None}
        if not answered:
            return []
        if answer_digression(dispatcher, tracker):
            return [SlotSet(name, value_before_message(tracker, name)) for name in answered]
        requested = tracker.get_slot("requested_slot")
        corrected = [name for name in answered if name != requested
                     and value_before_message(tracker, name) not in (None, answered[name])]
        slots: dict[str, Any] = {}
        if corrected and requested in answered and self._only_a_correction(tracker):
            answered.pop(requested)
            slots[requested] = None
        for name, value in answered.items():
            validate = getattr(self, f"validate_{name}", None)
            output = await validate(value, dispatcher, tracker, domain) if validate else {name: value}
            slots.update(output)
            tracker.slots.update(output)
            if name in corrected and output.get(name) is not None:
                say(dispatcher, tracker, "utter_slot_corrected", value=output[name])
        return [SlotSet(name, value) for name, value in slots.items()]

    @staticmethod
    def _only_a_correction(tracker: Tracker) -> bool:
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        for entity in message.get("entities") or []:
            text = text.replace(str(entity.get("value") or ""), "")
        rest = re.sub(r"[\W_]+", "", CORRECTION.sub("", text))
        return bool(CORRECTION.match(str(message.get("text") or ""))) or len(rest) <= 6


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
        from actions.messages import render

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


# Each form's required slots, as in domain.yml (tests/actions/test_actions_forms.py keeps them equal): the
# stop actions cannot read them from the domain, which Rasa sends only to validate_* actions
# (`enable_selective_domain`).
FORM_SLOTS = {"verify_form": ("phone", "otp_code"),
              "complaint_form": ("complaint_order", "complaint_text", "complaint_category"),
              "redeem_form": ("reward_code",), "csat_form": ("csat_score",), "nps_form": ("nps_score",),
              "suggestion_form": ("suggestion_text",)}


# Slots a form keeps besides its required ones, cleared when it is dropped.
FORM_EXTRA_SLOTS = {"complaint_form": ("complaint_key", "complaint_severity"), "verify_form": ("pending_action",)}


def cleared(form: str) -> list[EventType]:
    names = [*FORM_SLOTS.get(form, ()), *FORM_EXTRA_SLOTS.get(form, ())]
    return [SlotSet(name, None) for name in names] + [SlotSet("paused_form", None), SlotSet("form_failures", 0.0)]


class ActionStopForm(Action):
    """"Stop" inside a form: stop at once, or, when the customer already gave details, ask first.

    Either way the form is left (so the yes/no that follows is not taken as a slot value); the
    details wait in their slots, and `paused_form` names the form until the answer.
    """

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        leave: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if not form:
            say(dispatcher, tracker, "utter_form_stopped")
            return leave
        if any(tracker.get_slot(name) is not None for name in FORM_SLOTS.get(form, ())):
            lang = language(tracker)
            from actions.messages import render

            dispatcher.utter_message(text=render("utter_form_stop_confirm", lang), buttons=[
                {"title": "是的，不用了" if lang == "zh" else "Yes, drop it", "payload": "/affirm"},
                {"title": "继续" if lang == "zh" else "No, continue", "payload": "/deny"}])
            return leave + [SlotSet("paused_form", form)]
        say(dispatcher, tracker, "utter_form_stopped")
        return leave + cleared(form)


class ActionDropForm(Action):
    """The customer confirmed the stop: forget what the paused form had collected."""

    def name(self) -> str:
        return "action_drop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        form = tracker.get_slot("paused_form")
        say(dispatcher, tracker, "utter_form_stopped")
        return cleared(form) if form else []


class ActionResumeForm(Action):
    """The customer did not want to stop after all: reactivate the paused form, which asks its next question."""

    def name(self) -> str:
        return "action_resume_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        form = tracker.get_slot("paused_form")
        if not form:
            dispatcher.utter_message(response="utter_nothing_to_stop")
            return []
        return [SlotSet("paused_form", None), ActiveLoop(form)]


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
            customer_id = await client.verify_otp(tracker.get_slot("phone"), code, channel_of(tracker),
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
    """Requests that wait for verification, by action name (imported late: they import this module)."""
    from actions.account import (
        ActionShowOrderStatus,
        ActionShowPointsBalance,
        ActionShowPointsExpiring,
        ActionShowPointsHistory,
        ActionShowTickets,
        ActionShowTier,
    )
    from actions.points import ActionAskRedeemConfirmation

    classes: list[type[Action]] = [ActionShowPointsBalance, ActionShowPointsHistory, ActionShowPointsExpiring,
                                   ActionShowOrderStatus, ActionShowTier, ActionShowTickets,
                                   ActionAskRedeemConfirmation]
    return {cls().name(): cls for cls in classes}
