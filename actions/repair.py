"""Form repair shared by every form: "none" answers, failed answers, questions asked mid-form, corrections."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import say

MAX_FAILURES = 2  # after this many bad answers to one slot: skip it if optional, else offer buttons and a way out
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
