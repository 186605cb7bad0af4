"""Two requests in one message ("我的积分和订单" / "my balance and where's my order"): the intent classifier
picks one; after answering it, the bot names the other and offers it as a button, so nothing is dropped.
A help-centre question beside an account request ("退货要几天？另外我的积分还有多少") is answered too."""

from __future__ import annotations

import re
from typing import NamedTuple

from rasa_sdk.executor import CollectingDispatcher

from actions.messages import render


class Request(NamedTuple):
    action: str
    intent: str
    words: re.Pattern[str]  # the words that ask for it, Chinese and English
    title_zh: str
    title_en: str


REQUESTS = (
    Request("action_show_points_balance", "check_points_balance",
            re.compile(r"积分(余额|还有|多少|有多少)|多少积分|查(一下|下|询|查)?(我的)?积分|points? balance|"
                       r"how many points|check (my )?points", re.I),
            "查询积分", "check your points"),
    Request("action_show_order_status", "check_order_status",
            re.compile(r"订单|快递|包裹|物流|\border\b|parcel|package|deliver", re.I), "查询订单", "check your order"),
    Request("action_show_tier", "check_tier", re.compile(r"会员等级|什么等级|\btier\b|membership level", re.I),
            "会员等级", "check your tier"),
    Request("action_show_tickets", "check_ticket_status", re.compile(r"工单|\btickets?\b", re.I),
            "查询工单", "check a ticket"),
    Request("action_show_rewards", "show_rewards", re.compile(r"奖励|能兑换什么|\brewards?\b|catalog", re.I),
            "查看奖励", "see the rewards"),
    Request("action_show_points_expiring", "check_points_expiring", re.compile(r"过期|expir", re.I),
            "即将过期的积分", "see expiring points"),
)
# What a question looks like. An answer such as "物流配送" or "please add evening delivery slots" can read
# as an FAQ to the NLU; it is a question only when it is also phrased as one.
QUESTION = re.compile(r"[?？]|吗|呢|怎么|怎样|如何|多少|多久|几天|什么|哪|为什么|能不能|可不可以|是否|"
                      r"\b(how|what|when|where|why|which|who|can i|can you|do you|does|is there|are there|are you)\b",
                      re.I)
# Where a joined message splits into its parts (a question mark ends a part and stays with it).
CLAUSE_END = re.compile(r"(?<=[?？])|另外|顺便|以及|同时|[，,;；。]|\b(?:and|also|plus|by the way|btw)\b", re.I)
# A second request is only looked for when the message joins two things.
JOINED = re.compile(r"和|还有|另外|顺便|以及|同时|再帮我|也帮我|\band\b|\balso\b|\bplus\b|\bthen\b|[，,;；]", re.I)


def also_asked(text: str, answered: str) -> list[Request]:
    """The other account requests in `text`, besides the one `answered` (an action name)."""
    if not text or text.startswith("/") or not JOINED.search(text):
        return []
    rest = text
    for request in REQUESTS:
        if request.action == answered:
            # The words that asked for the answered request do not count for another one.
            rest = request.words.sub(" ", rest)
    return [r for r in REQUESTS if r.action != answered and r.words.search(rest)]


def offer_the_rest(dispatcher: CollectingDispatcher, text: str, answered: str, lang: str) -> None:
    """After the first answer: "you also asked about …" with one button per other request."""
    others = also_asked(text, answered)
    if others:
        offer_requests(dispatcher, others, lang)


def question_beside_requests(text: str) -> tuple[str, list[Request]] | None:
    """A question part and the account requests beside it, when a joined message holds both."""
    if not text or text.startswith("/") or not JOINED.search(text):
        return None
    parts = [part.strip() for part in CLAUSE_END.split(text) if part and part.strip()]
    asked = [r for r in REQUESTS if any(r.words.search(part) for part in parts)]
    question = next((part for part in parts if QUESTION.search(part)
                     and not any(r.words.search(part) for r in REQUESTS)), None)
    return (question, asked) if question and asked else None


def offer_requests(dispatcher: CollectingDispatcher, requests: list[Request], lang: str) -> None:
    """"You also asked about …" with one button per request."""
    titles = [r.title_zh if lang == "zh" else r.title_en for r in requests]
    listed = ("、" if lang == "zh" else ", ").join(titles)
    buttons = [{"title": t, "payload": f"/{r.intent}"} for t, r in zip(titles, requests, strict=True)]
    dispatcher.utter_message(text=render("utter_also_asked", lang, requests=listed), buttons=buttons)
