"""Two-stage fallback in both languages, ending with an offer of a human or a ticket."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language, say

INTENT_NAMES = {
    "zh": {"check_order_status": "查询订单", "check_points_balance": "查询积分", "check_points_history": "积分明细",
           "check_points_expiring": "即将过期的积分", "show_rewards": "查看奖励", "redeem_reward": "兑换奖励",
           "check_tier": "会员等级", "file_complaint": "投诉", "check_ticket_status": "查询工单",
           "give_suggestion": "提建议", "take_survey": "满意度调查", "verify_identity": "验证身份",
           "request_human": "转人工", "faq": "常见问题", "greet": "打招呼", "goodbye": "再见"},
    "en": {"check_order_status": "check an order", "check_points_balance": "check your points",
           "check_points_history": "see your points history", "check_points_expiring": "see expiring points",
           "show_rewards": "see the rewards", "redeem_reward": "redeem a reward", "check_tier": "check your tier",
           "file_complaint": "make a complaint", "check_ticket_status": "check a ticket",
           "give_suggestion": "leave a suggestion", "take_survey": "take the survey",
           "verify_identity": "verify your identity", "request_human": "talk to a human",
           "faq": "ask a general question", "greet": "say hello", "goodbye": "say goodbye"},
}


class ActionDefaultAskAffirmation(Action):
    """First stage: "Did you mean …?" with yes/no buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        ranking = [r for r in (tracker.latest_message or {}).get("intent_ranking", [])
                   if r.get("name") not in ("nlu_fallback", None)]
        guess = ranking[0]["name"] if ranking else None
        if guess not in INTENT_NAMES[lang]:
            say(dispatcher, lang, "utter_ask_rephrase")
            return []
        from actions.messages import render

        dispatcher.utter_message(text=render("utter_ask_affirmation", lang, intent=INTENT_NAMES[lang][guess]),
                                 buttons=[{"title": "是" if lang == "zh" else "Yes", "payload": f"/{guess}"},
                                          {"title": "不是" if lang == "zh" else "No", "payload": "/deny"}])
        return []


class ActionDefaultAskRephrase(Action):
    """Second stage: ask the customer to say it differently."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        say(dispatcher, tracker, "utter_ask_rephrase")
        return []


FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback")
# Guesses worth a button: a task the customer can start with one tap ("/faq" carries no question to answer).
NOT_OFFERED = ("faq", "greet", "goodbye", "verify_identity")


def closest_intents(tracker: Tracker, lang: str, limit: int = 2, floor: float = 0.05) -> list[str]:
    """The classifier's best guesses for the last message that can be offered as buttons."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return [r["name"] for r in ranking if r.get("name") in INTENT_NAMES[lang] and r["name"] not in NOT_OFFERED
            and float(r.get("confidence") or 0.0) >= floor][:limit]


def misunderstood_recently(tracker: Tracker, turns: int = 2) -> bool:
    """Did the bot already fail to understand in the customer's previous `turns` messages?"""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen += 1
            if seen > turns:
                return False
        elif seen >= 1 and event.get("event") == "action" and event.get("name") in FALLBACK_ACTIONS:
            return True
    return False


class ActionDefaultFallback(Action):
    """Not understood: first ask for a rephrase; only a repeated miss offers a human agent or a ticket."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        from actions.messages import render

        if not misunderstood_recently(tracker):
            guesses = closest_intents(tracker, lang)
            if not guesses:
                say(dispatcher, lang, "utter_ask_rephrase")
                return [UserUtteranceReverted()]
            dispatcher.utter_message(text=render("utter_ask_rephrase_or_choose", lang), buttons=[
                {"title": INTENT_NAMES[lang][g], "payload": f"/{g}"} for g in guesses])
            return [UserUtteranceReverted()]

        dispatcher.utter_message(text=render("utter_fallback_offer", lang), buttons=[
            {"title": "转人工" if lang == "zh" else "Talk to a human", "payload": "/request_human"},
            {"title": "提交工单" if lang == "zh" else "Leave a ticket", "payload": "/file_complaint"}])
        return [UserUtteranceReverted()]
