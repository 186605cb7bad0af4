"""Two requests in one message ("我的积分和订单" / "my balance and where's my order"): the intent classifier
picks one; after answering it, the bot names the other and offers it as a button, so nothing is dropped."""

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
            re.compile(r"积分(余额|还有|多少|有多少)|多少积分|points? balance|how many points", re.I),
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
    if not others:
        return
    titles = [r.title_zh if lang == "zh" else r.title_en for r in others]
    listed = ("、" if lang == "zh" else ", ").join(titles)
    buttons = [{"title": t, "payload": f"/{r.intent}"} for t, r in zip(titles, others, strict=True)]
    dispatcher.utter_message(text=render("utter_also_asked", lang, requests=listed), buttons=buttons)
