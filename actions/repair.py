"""Form repair shared by every form: "none" answers, failed answers, questions asked mid-form, corrections."""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.articles import find_article, tell_article
from actions.common import language, say
from actions.crm_client import CrmError
from actions.multi_request import QUESTION, REQUESTS
from actions.session import FORM_TOPICS

logger = logging.getLogger(__name__)
MAX_FAILURES = 2  # after this many bad answers to one slot: skip it if optional, else offer buttons and a way out
# Chitchat intents and their replies (the form resumes after one; a survey remark read as one is its comment).
CHITCHAT_REPLIES = {"ask_how_are_you": "utter_chitchat_how_are_you", "ask_if_bot": "utter_chitchat_bot_identity",
                    "ask_capabilities": "utter_chitchat_capabilities"}
# Intents that, recognised this surely, are a question asked mid-form rather than an answer to the form.
DIGRESSION_INTENTS = ("faq", *CHITCHAT_REPLIES)
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
CORRECTION = re.compile(r"^\W*(不对|不是|错了|说错了|我是说|应该是|更正|改成|改为|改一下|no\b|sorry\b|oops|"
                        r"wrong|i meant|i mean|actually|correction|change)", re.I)


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
    """Forget what `form` collected, and that it was paused."""
    names = [*FORM_SLOTS.get(form, ()), *FORM_EXTRA_SLOTS.get(form, ())]
    return [SlotSet(name, None) for name in names] + [SlotSet("paused_form", None), SlotSet(PAUSED_REQUEST, None),
                                                      SlotSet("form_failures", 0.0)]


# What the customer asked for instead, while a stop waits for its confirmation (an action name).
PAUSED_REQUEST = "paused_request"
KNOWLEDGE_ACTION = "action_answer_from_knowledge"
# A cancel that opens a longer message: "算了，我想查一下积分", "never mind, what's my balance". Only these
# openings: "stop sending me emails" is a complaint, and "没有收到货" a description.
CANCEL_THEN = re.compile(r"^\W*(?:算了吧?|不用了|不要了|不弄了|不(?:投诉|评价|评|建议|兑换|验证)了|"
                         r"先不(?:投诉|弄|填|评|兑换)了?|"
                         r"取消吧?|never ?mind|forget (?:it|that|about it)|scratch that|cancel (?:that|it|this)|"
                         r"let'?s (?:stop|drop it))(?:[\s,，。.!！;；:：~]+|(?=[\u4e00-\u9fff]))(?P<rest>.*)$", re.I)
# A silence this long inside a form, then a new request: the form is set aside (shorter than the session's
# 60 minutes, after which Rasa starts a new session anyway).
FORM_IDLE_S = 15 * 60
# Intents that start something new after a silence, unless they belong to the form's own topic.
FORM_TOPIC_INTENTS = {"complaint_form": {"check_order_status", "check_ticket_status", "file_complaint"},
                      "redeem_form": {"show_rewards", "check_points_balance", "redeem_reward"}}
NEW_TOPIC_CONFIDENCE = 0.8


def request_after_cancel(text: str, intent: str | None = None) -> str | None:
    """The action for what a "cancel, and …" message asks for instead (None: nothing, or no cancel)."""
    match = CANCEL_THEN.match(text.strip())
    rest = match.group("rest").strip() if match else ""
    if len(re.sub(r"[\W_]+", "", rest)) < 2:
        return None
    for request in REQUESTS:
        if request.words.search(rest):
            return request.action
    return KNOWLEDGE_ACTION if QUESTION.search(rest) or intent == "faq" else None


def new_topic_after_silence(tracker: Tracker, form: str) -> str | None:
    """The action for a new request that ends a long silence inside `form` (None: an answer, or no silence)."""
    stamps = [float(e.get("timestamp") or 0) for e in tracker.events if e.get("event") == "user"]
    if len(stamps) < 2 or stamps[-1] - stamps[-2] < FORM_IDLE_S:
        return None
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    intent = message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0)
    if confidence < NEW_TOPIC_CONFIDENCE or name in FORM_TOPIC_INTENTS.get(form, ()) or is_none_answer(text):
        return None
    if name == "greet":
        return "action_greet_customer"
    for request in REQUESTS:
        if request.intent == name and request.words.search(text):
            return request.action
    return KNOWLEDGE_ACTION if name == "faq" and QUESTION.search(text) else None


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


async def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a question asked mid-form (a help question or chitchat) when the NLU is sure of it.

    A help question is answered from the knowledge base; one it cannot answer, or a CRM that is down, leaves
    the message to the form as an answer. Out of scope is not one: "飞机" answering "which reward?" is a wrong
    answer, not a question.
    """
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    name = intent.get("name")
    text = str(message.get("text") or "")
    if is_none_answer(text) or not QUESTION.search(text):  # "不知道", "物流配送" are answers
        return False
    if name not in DIGRESSION_INTENTS or float(intent.get("confidence") or 0) < DIGRESSION_CONFIDENCE:
        return False
    if name in CHITCHAT_REPLIES:
        dispatcher.utter_message(response=CHITCHAT_REPLIES[name])
        return True
    lang = language(tracker)
    try:
        result = await find_article(tracker, text, lang)
    except CrmError as error:
        logger.warning("knowledge answer mid-form failed: %s", error)
        return False
    if not result:
        return False
    tell_article(dispatcher, lang, result, in_form=True)
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
        undo = [SlotSet(name, value_before_message(tracker, name)) for name in answered]
        form = self.name().removeprefix("validate_")
        message = tracker.latest_message or {}
        if CANCEL_THEN.match(str(message.get("text") or "").strip()):
            # "算了，…" inside a longer message: leave the form before any slot takes it; the stop action
            # asks before losing details and does what the rest of the message asks.
            return undo + [SlotSet("requested_slot", None), SlotSet("paused_form", form),
                           FollowupAction("action_stop_form")]
        request = new_topic_after_silence(tracker, form)
        if request:
            say(dispatcher, tracker, "utter_form_set_aside", topic=FORM_TOPICS[language(tracker)].get(form, form))
            # action_drop_form does the new request (inline): the form is already cleared, nothing is paused.
            return [*undo, SlotSet("requested_slot", None), *cleared(form), SlotSet(PAUSED_REQUEST, request),
                    FollowupAction("action_drop_form")]
        if await answer_digression(dispatcher, tracker):
            return undo
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
