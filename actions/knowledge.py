"""Answers from the CRM's knowledge base, and the "Did this answer your question?" follow-up."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.articles import find_article, tell_article
from actions.common import channel_of, crm, language, say
from actions.complaints import offer_complaint_if_upset
from actions.crm_client import CrmError
from actions.messages import render
from actions.multi_request import offer_requests, question_beside_requests

logger = logging.getLogger(__name__)
ARTICLE_SLOT = "kb_article_id"
# Below the CRM's confidence threshold the question is not the knowledge base's: fall back to the
# two-stage "did you mean …?" for unrecognised messages, or say we don't know for an FAQ.
FALLBACK = "action_two_stage_fallback"


async def answer_question_beside(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    """Answer the help-centre question of a message that also asks for account data, when there is one.

    Best effort: the account answer follows whatever happens here.
    """
    split = question_beside_requests(text)
    if not split:
        return
    lang = language(tracker)
    try:
        result = await find_article(tracker, split[0], lang)
    except CrmError as error:
        logger.warning("knowledge answer failed: %s", error)
        return
    if result:
        tell_article(dispatcher, lang, result)


class ActionAnswerFromKnowledge(Action):
    """Answer from the help centre; a joined account request ("…另外我的积分还有多少") is offered after."""

    def name(self) -> str:
        return "action_answer_from_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        intent = (message.get("intent") or {}).get("name")
        if not text or text.startswith("/"):
            return self._decline(dispatcher, lang, intent)
        split = question_beside_requests(text)
        try:
            result = await find_article(tracker, split[0] if split else text, lang)
        except CrmError as error:
            logger.warning("knowledge answer failed: %s", error)
            say(dispatcher, lang, "utter_crm_down")
            return [SlotSet(ARTICLE_SLOT, None)]
        if not result:
            events = self._decline(dispatcher, lang, intent)
        else:
            tell_article(dispatcher, lang, result)
            # An upset customer ("退款两周了还没到，太离谱了") gets the complaint offer instead of "did this help?".
            if await offer_complaint_if_upset(dispatcher, tracker, crm(lang)):
                return [SlotSet(ARTICLE_SLOT, None)]
            dispatcher.utter_message(text=render("utter_knowledge_ask_helpful", lang), buttons=[
                {"title": "有帮助" if lang == "zh" else "Yes", "payload": "/affirm"},
                {"title": "没有帮助" if lang == "zh" else "No", "payload": "/deny"}])
            events = [SlotSet(ARTICLE_SLOT, float(result["article"]["id"]))]
        if split and result:
            offer_requests(dispatcher, split[1], lang)
        return events

    @staticmethod
    def _decline(dispatcher: CollectingDispatcher, lang: str, intent: str | None) -> list[EventType]:
        if intent == "nlu_fallback":
            return [SlotSet(ARTICLE_SLOT, None), FollowupAction(FALLBACK)]
        if intent == "out_of_scope":  # nothing in the help centre either: say what the bot can do instead
            dispatcher.utter_message(response="utter_out_of_scope")
            return [SlotSet(ARTICLE_SLOT, None)]
        dispatcher.utter_message(text=render("utter_knowledge_unknown", lang), buttons=[
            {"title": "转人工" if lang == "zh" else "Talk to a human", "payload": "/request_human"},
            {"title": "提交工单" if lang == "zh" else "Leave a ticket", "payload": "/file_complaint"}])
        return [SlotSet(ARTICLE_SLOT, None)]


class ActionRecordKnowledgeFeedback(Action):
    """Yes → thanks; no → recorded against the article, and a human or a ticket is offered."""

    def name(self) -> str:
        return "action_record_knowledge_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        article_id = tracker.get_slot(ARTICLE_SLOT)
        helpful = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "affirm"
        if article_id is not None:
            try:
                await crm(lang).knowledge_feedback(int(article_id), helpful, lang, tracker.sender_id,
                                                   channel_of(tracker))
            except CrmError as error:  # the customer still gets the offer; only the count is lost
                logger.warning("knowledge feedback not recorded: %s", error)
        if helpful:
            say(dispatcher, lang, "utter_knowledge_thanks")
        else:
            dispatcher.utter_message(text=render("utter_knowledge_unhelpful_offer", lang), buttons=[
                {"title": "转人工" if lang == "zh" else "Talk to a human", "payload": "/request_human"},
                {"title": "提交工单" if lang == "zh" else "Leave a ticket", "payload": "/file_complaint"}])
        return [SlotSet(ARTICLE_SLOT, None)]
