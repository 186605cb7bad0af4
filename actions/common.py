"""Helpers every action shares: language, bilingual messages, the CRM client, identity checks."""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.config import get_settings
from actions.crm_client import CrmClient, CrmError
from actions.messages import render

logger = logging.getLogger(__name__)

CHAT_APP_CHANNELS = ("telegram", "slack", "wechat")


def language(tracker: Tracker) -> str:
    """The customer's current language ("zh" unless the slot says "en")."""
    return "en" if tracker.get_slot("language") == "en" else "zh"


def say(dispatcher: CollectingDispatcher, tracker: Tracker | str, response: str, /, **values: Any) -> None:
    """Send `response` from actions/responses.yml in the customer's language."""
    lang = tracker if isinstance(tracker, str) else language(tracker)
    dispatcher.utter_message(text=render(response, lang, **values))


def crm(tracker: Tracker | str) -> CrmClient:
    """A CRM client speaking the customer's language (error messages come back in it)."""
    return CrmClient(language=tracker if isinstance(tracker, str) else language(tracker))


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def verified_customer(tracker: Tracker) -> int | None:
    """The verified customer's id, or None: account data needs this, never a typed-in id.

    A valid website token on the latest message wins (the website knows who is logged in now);
    otherwise the slots a token, a phone + code check or a chat-app link set earlier.
    """
    from_token = customer_from_token(latest_metadata(tracker).get("customer_token"))
    if from_token is not None:
        return from_token
    customer_id = tracker.get_slot("customer_id")
    if tracker.get_slot("verified") and customer_id is not None:
        return int(customer_id)
    return None


async def identify(tracker: Tracker) -> tuple[int | None, list[EventType]]:
    """The verified customer and the slot events that record them in the conversation.

    Like `verified_customer`, and a chat-app sender the CRM linked to a customer after an earlier
    phone + code check counts as verified too. The channel comes from Rasa's own record of the
    message, never from metadata a customer could write.
    """
    customer_id = verified_customer(tracker)
    if customer_id is not None:
        if tracker.get_slot("verified") and tracker.get_slot("customer_id") == customer_id:
            return customer_id, []
        return customer_id, identity_slots(customer_id, None)
    channel = channel_of(tracker)
    if channel not in CHAT_APP_CHANNELS:
        return None, []
    client = crm(tracker)
    try:
        linked = await client.linked_customer(channel, tracker.sender_id)
        if linked is None:
            return None, []
        return linked, identity_slots(linked, dict(await client.customer(linked)))
    except CrmError:
        return None, []


def ask_to_verify(dispatcher: CollectingDispatcher, tracker: Tracker, resume_action: str) -> list[EventType]:
    """Explain why we need verification, remember what to do afterwards and start the phone + code form.

    A customer who gave the phone in the same message ("my phone is 138…, what's my balance") skips the
    explanation: the form sends the code at once, and one reply asks for it.
    """
    if not tracker.get_slot("phone"):
        say(dispatcher, tracker, "utter_verify_needed")
    return [SlotSet("pending_action", resume_action), FollowupAction("verify_form")]


def apologise_crm_down(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    say(dispatcher, tracker, "utter_crm_down")


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata of the latest user message (Rasa keeps it on the `user` event, not in parse data)."""
    metadata = tracker.latest_message.get("metadata") if tracker.latest_message else None
    if metadata:
        return dict(metadata)
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return dict(event.get("metadata") or {})
    return {}


def customer_from_token(token: Any) -> int | None:
    """The customer id in a valid website token (JWT HS256, `sub`, unexpired), else None."""
    if not isinstance(token, str) or not token:
        return None
    # `./kefu run` exports the secret (its development value comes from .env.example); without one no
    # token can be trusted.
    secret = get_settings().customer_token_secret
    if not secret:
        logger.warning("CUSTOMER_TOKEN_SECRET is not set: customer tokens are refused")
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"],
                            options={"require": ["sub", "exp"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        logger.info("rejected customer token: %s", type(error).__name__)
        return None


def identity_slots(customer_id: int, customer: dict[str, Any] | None) -> list[EventType]:
    """Slots that mark the conversation as verified for `customer_id`."""
    events: list[EventType] = [SlotSet("customer_id", customer_id), SlotSet("verified", True)]
    if customer:
        events += [SlotSet("customer_name", customer.get("display_name") or customer.get("name_zh")),
                   SlotSet("customer_tier", customer.get("tier"))]
    return events


def customer_name(customer: dict[str, Any], lang: str) -> str:
    """The customer's name as this language addresses them."""
    if lang == "en":
        return customer.get("name_en") or customer.get("display_name") or ""
    return customer.get("name_zh") or customer.get("display_name") or ""


TIER_NAMES = {
    "zh": {"regular": "普通会员", "silver": "银卡会员", "gold": "金卡会员", "diamond": "钻石会员"},
    "en": {"regular": "Regular", "silver": "Silver", "gold": "Gold", "diamond": "Diamond"},
}


def tier_name(tier: str | None, lang: str) -> str:
    return TIER_NAMES[lang].get(tier or "", tier or "")


def transcript(tracker: Tracker, limit: int = 30) -> list[dict[str, Any]]:
    """The recent user/bot messages, oldest first, for an agent taking over."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("user", "bot") and event.get("text"):
            at = event.get("timestamp") or time.time()
            lines.append({"role": kind, "text": event["text"],
                          "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))})
    return lines[-limit:]


def bot_failures(tracker: Tracker) -> int:
    """How often the bot did not understand in this conversation (fallbacks)."""
    return sum(1 for e in tracker.events if e.get("event") == "action"
               and e.get("name") in ("action_default_fallback", "action_two_stage_fallback"))


def fmt_int(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
