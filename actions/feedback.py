"""Feedback: CSAT after a resolution, NPS on request, free-text suggestions; all recorded and thanked."""

from __future__ import annotations

import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, crm, language, say, verified_customer
from actions.crm_client import CrmError, CrmUnavailable
from actions.kept_writes import KEPT_FEEDBACK, keep_comment, keep_feedback
from actions.multi_request import QUESTION
from actions.repair import CHITCHAT_REPLIES, RepairingFormValidation, failed_again, is_none_answer, reset_failures

ZH_NUMBERS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10}
EN_NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
              "nine": 9, "ten": 10}


SKIPPED = "skipped"  # a survey or suggestion the customer chose not to give
SURVEYS = ("csat", "nps")
# The survey answer just recorded: the next message, when it is a remark and not a request, is its comment.
SURVEY_SLOT = "survey_feedback_id"
# "谢谢" alone after a survey is a thank-you, not a comment.
THANKS = re.compile(r"谢谢|多谢|感谢|thanks?( you)?|thx|ok(ay)?|好的", re.I)
# The default answer for each intent a comment tends to be read as, when the message is not a comment after all.
# A complaint goes on with its usual rule (data/rules/feedback.yml picks it up after utter_complaint_ack).
NOT_A_COMMENT = {**CHITCHAT_REPLIES, "praise_service": "utter_praise_thanks", "thank": "utter_thank_reply",
                 "file_complaint": "utter_complaint_ack", "nlu_fallback": "action_answer_from_knowledge",
                 "out_of_scope": "action_answer_from_knowledge"}
# "The delivery was really slow" reads as a complaint, and explains the score; "我要投诉" asks to file one.
ASKS_TO_COMPLAIN = re.compile(r"投诉|举报|complain|complaint|file a (?:ticket|report)", re.I)


def score_from(value: Any) -> int | None:
    """A whole-number score in an answer ("4", "4分", "四星", "five"), else None."""
    text = str(value or "").strip().lower()
    numbers = re.findall(r"\d+", text)
    if len(numbers) == 1:
        return int(numbers[0])
    if numbers:
        return None
    for word, number in EN_NUMBERS.items():
        if re.search(rf"\b{word}\b", text):
            return number
    hits = [n for ch, n in ZH_NUMBERS.items() if ch in text]
    return hits[0] if len(hits) == 1 else None


def checked_score(slot: str, low: int, high: int, value: Any, dispatcher: CollectingDispatcher,
                  tracker: Tracker) -> dict[str, Any]:
    """Slot values for a survey answer: the score, or None with a specific re-ask."""
    if is_none_answer(value):
        return {slot: SKIPPED, **reset_failures()}  # the survey ends without a score; nothing is recorded
    score = score_from(value)
    if score is None or not low <= score <= high:
        return failed_again(dispatcher, tracker, slot, f"utter_{slot}_invalid")
    return {slot: str(score), **reset_failures()}


class ValidateCsatForm(RepairingFormValidation):
    def name(self) -> str:
        return "validate_csat_form"

    async def validate_csat_score(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        return checked_score("csat_score", 1, 5, value, dispatcher, tracker)


class ValidateNpsForm(RepairingFormValidation):
    def name(self) -> str:
        return "validate_nps_form"

    async def validate_nps_score(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        return checked_score("nps_score", 0, 10, value, dispatcher, tracker)


class ValidateSuggestionForm(RepairingFormValidation):
    def name(self) -> str:
        return "validate_suggestion_form"

    async def validate_suggestion_text(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        if is_none_answer(text):
            return {"suggestion_text": SKIPPED, **reset_failures()}
        if len(text) < 2:
            return failed_again(dispatcher, tracker, "suggestion_text", "utter_suggestion_short")
        return {"suggestion_text": text, **reset_failures()}


class ActionPrepareSuggestion(Action):
    """Keep a suggestion given in the first message, so the form does not ask for it again."""

    def name(self) -> str:
        return "action_prepare_suggestion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        rest = re.sub(r"(我)?(有|想提|提|给你们提|说)?(个|一些|一点|点)?(小)?(建议|意见|反馈)|i have a suggestion|"
                      r"suggestion:?|feedback:?|i'd like to (suggest|give some feedback)", "", text, flags=re.I)
        rest = rest.strip(" ，,：:。.!！")
        descriptive = len(re.findall(r"[\u4e00-\u9fff]", rest)) >= 6 or len(rest.split()) >= 4
        return [SlotSet("suggestion_text", text if descriptive else None), SlotSet("form_failures", 0.0)]


async def _record(dispatcher: CollectingDispatcher, tracker: Tracker, payload: dict[str, Any],
                  slot: str) -> list[EventType]:
    lang = language(tracker)
    if tracker.get_slot(slot) == SKIPPED:
        say(dispatcher, lang, "utter_feedback_skipped")
        return [SlotSet(slot, None), SlotSet(SURVEY_SLOT, None)]
    payload = {"customer_id": verified_customer(tracker), "channel": channel_of(tracker),
               "conversation_id": tracker.sender_id, **payload}
    key = f"feedback-{tracker.sender_id}-{uuid.uuid4().hex}"
    try:
        result = await crm(lang).feedback(payload, key)
    except CrmUnavailable:
        say(dispatcher, lang, "utter_feedback_kept")
        return [SlotSet(slot, None), SlotSet(SURVEY_SLOT, None), *keep_feedback(tracker, payload, key)]
    except CrmError as error:
        say(dispatcher, lang, "utter_crm_error", message=error.message or error.code)
        return [SlotSet(slot, None)]
    survey = payload["kind"] in SURVEYS
    say(dispatcher, lang, "utter_survey_thanks" if survey else "utter_feedback_thanks")
    if result.get("follow_up_ticket_no"):
        say(dispatcher, lang, "utter_feedback_follow_up", ticket_no=result["follow_up_ticket_no"])
    return [SlotSet(slot, None), SlotSet(SURVEY_SLOT, float(result["feedback_id"]) if survey else None)]


class ActionRecordSurveyComment(Action):
    """The remark right after a survey score ("服务很好", "delivery was slow") is the score's comment.

    The NLU reads such remarks as praise, chitchat or off-topic: answering "我很好，谢谢关心！" to them
    lost the comment.
    A question is still answered as one, and a remark with no survey just before gets the usual reply.
    """

    def name(self) -> str:
        return "action_record_survey_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        message = tracker.latest_message or {}
        text = str(message.get("text") or "").strip()
        intent = (message.get("intent") or {}).get("name") or ""
        feedback_id = tracker.get_slot(SURVEY_SLOT)
        kept = _kept_survey(tracker)
        remark = re.sub(r"[\W_]+", "", THANKS.sub("", text))
        if ((feedback_id is None and kept is None) or len(remark) < 2 or text.startswith("/") or QUESTION.search(text)
                or (intent == "file_complaint" and ASKS_TO_COMPLAIN.search(text))):
            return [SlotSet(SURVEY_SLOT, None), FollowupAction(NOT_A_COMMENT.get(intent, "action_default_fallback"))]
        lang = language(tracker)
        done: list[EventType] = [SlotSet(SURVEY_SLOT, None)]
        if feedback_id is None and kept is not None:  # the score itself waits for the CRM: the comment joins it
            items = list(tracker.get_slot(KEPT_FEEDBACK) or [])
            items[kept] = {**items[kept], "payload": {**items[kept]["payload"], "text": text[:2000]}}
            say(dispatcher, lang, "utter_survey_comment_thanks")
            return [*done, SlotSet(KEPT_FEEDBACK, items)]
        survey_id = int(feedback_id or 0)
        key = f"comment-{tracker.sender_id}-{survey_id}"
        try:
            await crm(lang).feedback_comment(survey_id, text, tracker.sender_id, key)
        except CrmUnavailable:
            say(dispatcher, lang, "utter_survey_comment_thanks")
            return [*done, *keep_comment(tracker, survey_id, text, key)]
        except CrmError as error:
            say(dispatcher, lang, "utter_crm_error", message=error.message or error.code)
            return done
        say(dispatcher, lang, "utter_survey_comment_thanks")
        return done


def _kept_survey(tracker: Tracker) -> int | None:
    """Index of the kept survey answer (CRM down when it was given) that has no comment yet."""
    items = tracker.get_slot(KEPT_FEEDBACK) or []
    for index in range(len(items) - 1, -1, -1):
        payload = items[index].get("payload") if isinstance(items[index], dict) else None
        if isinstance(payload, dict) and payload.get("kind") in SURVEYS and not payload.get("text"):
            return index
    return None


class ActionAnnounceResolvedTicket(Action):
    """Tell the customer the CRM resolved their ticket, and keep its number so the CSAT answer is linked to it."""

    def name(self) -> str:
        return "action_announce_resolved_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        ticket_no = str(next(tracker.get_latest_entity_values("ticket_no"), None) or "").strip().upper()
        if not ticket_no:  # a trigger without a number still gets the CSAT question, just no announcement
            return []
        say(dispatcher, tracker, "utter_ticket_resolved", ticket_no=ticket_no)
        return [SlotSet("last_ticket_no", ticket_no)]


class ActionSubmitCsat(Action):
    """Record CSAT (1–5) for the last ticket/handoff; a low score makes the CRM open a follow-up."""

    def name(self) -> str:
        return "action_submit_csat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        payload = {"kind": "csat", "score": score_from(tracker.get_slot("csat_score")),
                   "ticket_no": tracker.get_slot("last_ticket_no")}
        return await _record(dispatcher, tracker, payload, "csat_score")


class ActionSubmitNps(Action):
    """Record NPS (0–10)."""

    def name(self) -> str:
        return "action_submit_nps"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        return await _record(dispatcher, tracker, {"kind": "nps", "score": score_from(tracker.get_slot("nps_score"))},
                             "nps_score")


class ActionSubmitSuggestion(Action):
    """Record a free-text suggestion."""

    def name(self) -> str:
        return "action_submit_suggestion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        return await _record(dispatcher, tracker, {"kind": "suggestion", "text": tracker.get_slot("suggestion_text")},
                             "suggestion_text")


class ActionEndConversation(Action):
    """Goodbye: record the conversation in the CRM, say goodbye, and ask CSAT once if the bot served them."""

    def name(self) -> str:
        return "action_end_conversation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        actions = {e.get("name") for e in tracker.events if e.get("event") == "action"}
        intents = [e["parse_data"]["intent"]["name"] for e in tracker.events
                   if e.get("event") == "user" and (e.get("parse_data") or {}).get("intent", {}).get("name")]
        escalated = "action_handoff_to_human" in actions
        served = bool(actions & SERVING_ACTIONS) or "faq" in intents
        payload = {"conversation_id": tracker.sender_id, "channel": channel_of(tracker),
                   "customer_id": verified_customer(tracker), "intents": intents[-50:], "escalated": escalated,
                   "resolved_by_bot": served and not escalated}
        try:
            await crm(lang).record_interaction(payload)
        except CrmError:
            pass  # analytics only: the customer's goodbye must not fail on it
        say(dispatcher, lang, "utter_goodbye")
        if served and "action_submit_csat" not in actions and "csat_form" not in actions:
            return [FollowupAction("csat_form")]
        return []


# Actions that answer a request: after one of them a goodbye is a good moment to ask for CSAT.
SERVING_ACTIONS = {"action_show_points_balance", "action_show_points_history", "action_show_points_expiring",
                   "action_show_rewards", "action_show_order_status", "action_show_tier", "action_show_tickets",
                   "action_redeem_reward", "action_create_ticket"}
