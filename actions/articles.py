"""The CRM's help-centre answer to a question, and how it is shown to the customer."""

from __future__ import annotations

import os
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_of, crm, say
from actions.messages import render


def public_url(path: str) -> str:
    """Article links for customers: the CRM's public address (the widget page is served by it)."""
    base = os.environ.get("CRM_PUBLIC_URL") or os.environ.get("CRM_URL", "http://127.0.0.1:8000")
    return base.rstrip("/") + path


async def find_article(tracker: Tracker, question: str, lang: str) -> dict[str, Any] | None:
    """The CRM's best passage for `question` (None: not confident); CrmError when it cannot answer."""
    result = await crm(lang).knowledge_answer(question, lang, tracker.sender_id, channel_of(tracker))
    article = result.get("article")
    return dict(result) if result.get("answered") and article else None


def tell_article(dispatcher: CollectingDispatcher, lang: str, result: dict[str, Any], *, in_form: bool = False) -> None:
    """The passage, its title and its link (with a note when it is in the other language).

    `in_form`: one message (the channels split a text at blank lines), so that with the form's question asked
    again a turn stays at two messages.
    """
    article = result["article"]
    text = render("utter_knowledge_answer", lang, title=article["title"], passage=article["passage"],
                  url=public_url(article["url"]))
    if in_form:
        note = render("utter_knowledge_other_language", lang) + "\n" if result.get("other_language") else ""
        dispatcher.utter_message(text=note + text.replace("\n\n", "\n"))
        return
    if result.get("other_language"):
        say(dispatcher, lang, "utter_knowledge_other_language")
    dispatcher.utter_message(text=text)
