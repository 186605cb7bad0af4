"""Answers from the CRM's knowledge base, and the "Did this answer your question?" follow-up."""

from __future__ import annotations

import logging
import os

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, crm, language, say
from actions.crm_client import CrmError
from actions.messages import render

logger = logging.getLogger(__name__)
ARTICLE_SLOT = "kb_article_id"
# Below the CRM's confidence threshold the question is not the knowledge base's: fall back to the
# two-stage "did you mean …?" for unrecognised messages, or say we don't know for an FAQ.
FALLBACK = "action_two_stage_fallback"


def public_url(path: str) -> str:
    """Article links for customers: the CRM's public address (the widget page is served by it)."""
    base = os.environ.get("CRM_PUBLIC_URL") or os.environ.get("CRM_URL", "http://127.0.0.1:8000")
    return base.rstrip("/") + path


class ActionAnswerFromKnowledge(Action):
    def name(self) -> str:
        return "action_answer_from_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        message = tracker.latest_message or {}
        question = (message.get("text") or "").strip()
        intent = (message.get("intent") or {}).get("name")
        if not question or question.startswith("/"):
            return self._decline(dispatcher, lang, intent)
        try:
            result = await crm(lang).knowledge_answer(question, lang, tracker.sender_id, channel_of(tracker))
        except CrmError as error:
            logger.warning("knowledge answer failed: %s", error)
            say(dispatcher, lang, "utter_crm_down")
            return [SlotSet(ARTICLE_SLOT, None)]
        article = result.get("article")
        if not result.get("answered") or not article:
            return self._decline(dispatcher, lang, intent)
        if result.get("other_language"):
            say(dispatcher, lang, "utter_knowledge_other_language")
        dispatcher.utter_message(text=render("utter_knowledge_answer", lang, title=article["title"],
                                             passage=article["passage"], url=public_url(article["url"])))
        dispatcher.utter_message(text=render("utter_knowledge_ask_helpful", lang), buttons=[
            {"title": "有帮助" if lang == "zh" else "Yes", "payload": "/affirm"},
            {"title": "没有帮助" if lang == "zh" else "No", "payload": "/deny"}])
        return [SlotSet(ARTICLE_SLOT, float(article["id"]))]

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
