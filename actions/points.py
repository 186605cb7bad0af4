"""Reward redemption: pick a reward (form), confirm explicitly, redeem once per confirmation."""

from __future__ import annotations

import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    apologise_crm_down,
    ask_to_verify,
    crm,
    fmt_int,
    identify,
    language,
    say,
    verified_customer,
)
from actions.crm_client import CrmClient, CrmError, CrmUnavailable
from actions.messages import render
from actions.repair import RepairingFormValidation, failed_again, is_none_answer, reset_failures

# Words customers use for catalog items, besides the codes themselves.
REWARD_WORDS = {
    "COUPON10": ("10元", "十元", "优惠券", "$10", "10 coupon", "coupon 10", "coupon"),
    "COUPON50": ("50元", "五十元", "50 coupon", "coupon 50"),
    "MUG": ("马克杯", "杯子", "mug", "cup"),
    "VIPLOUNGE": ("贵宾", "休息室", "lounge"),
}


def reward_code_from(text: str, codes: list[str]) -> str | None:
    """Map free text or a code onto a catalog code (longest, most specific words first)."""
    upper = text.upper()
    for code in sorted(codes, key=len, reverse=True):
        if re.search(rf"(?<![A-Z0-9]){re.escape(code)}(?![A-Z0-9])", upper):
            return code
    for code in ("COUPON50", "COUPON10", "MUG", "VIPLOUNGE"):
        if code in codes and any(word.upper() in upper for word in REWARD_WORDS[code]):
            return code
    return None


class ValidateRedeemForm(RepairingFormValidation):
    """Check the chosen reward against the live catalog."""

    def name(self) -> str:
        return "validate_redeem_form"

    async def validate_reward_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        lang = language(tracker)
        try:
            catalog = {r["code"]: r for r in (await crm(lang).rewards())["items"]}
        except CrmError:
            return failed_again(dispatcher, tracker, "reward_code", "utter_crm_down")
        code = None if is_none_answer(value) else reward_code_from(str(value or ""), list(catalog))
        if code is None:
            # "不知道" / an unknown reward: the catalog as buttons ("don't know" is no failure).
            names = ", ".join(f"{r['name_en'] if lang == 'en' else r['name_zh']} [{c}]" for c, r in catalog.items())
            buttons = [{"title": r["name_en"] if lang == "en" else r["name_zh"], "payload": c}
                       for c, r in catalog.items() if r.get("stock") != 0]
            none = is_none_answer(value)
            response = "utter_reward_catalog" if none else "utter_reward_unknown"
            dispatcher.utter_message(text=render(response, lang, rewards=names), buttons=buttons)
            if none:
                return {"reward_code": None}
            failures = int(tracker.get_slot("form_failures") or 0) + 1
            return {"reward_code": None, "form_failures": float(failures)}
        if catalog[code].get("stock") == 0:
            return failed_again(dispatcher, tracker, "reward_code", "utter_reward_out_of_stock", reward=code)
        return {"reward_code": code, **reset_failures()}


class ActionAskRedeemConfirmation(Action):
    """State cost and balance, mint the idempotency key for this one confirmation, and ask yes/no."""

    def name(self) -> str:
        return "action_ask_redeem_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        customer_id, identity = await identify(tracker)
        if customer_id is None:
            return ask_to_verify(dispatcher, tracker, self.name())
        code = tracker.get_slot("reward_code")
        lang = language(tracker)
        client = crm(lang)
        try:
            catalog = {r["code"]: r for r in (await client.rewards())["items"]}
            balance = (await client.points(customer_id)).get("balance", 0)
        except CrmError:
            apologise_crm_down(dispatcher, tracker)
            return identity
        reward = catalog.get(code or "")
        if reward is None:
            say(dispatcher, lang, "utter_reward_unknown", rewards=", ".join(catalog))
            return identity + [SlotSet("reward_code", None)]
        name = reward["name_en"] if lang == "en" else reward["name_zh"]
        if int(balance) < int(reward["cost_points"]):
            say(dispatcher, lang, "utter_redeem_not_enough", reward=name, cost=fmt_int(reward["cost_points"]),
                balance=fmt_int(balance))
            return identity + [SlotSet("reward_code", None), SlotSet("redeem_key", None)]
        dispatcher.utter_message(
            text=_confirm_text(lang, name, reward["cost_points"], balance),
            buttons=[{"title": "确认" if lang == "zh" else "Yes", "payload": "/affirm"},
                     {"title": "取消" if lang == "zh" else "No", "payload": "/deny"}])
        return identity + [SlotSet("redeem_key", f"redeem-{tracker.sender_id}-{uuid.uuid4().hex}")]


def _confirm_text(lang: str, name: str, cost: Any, balance: Any) -> str:
    return render("utter_redeem_confirm", lang, reward=name, cost=fmt_int(cost), balance=fmt_int(balance),
                  after=fmt_int(int(balance) - int(cost)))


async def reward_name(client: CrmClient, code: str, lang: str) -> str:
    """The catalog name of reward `code` in `lang`, or the code when the catalog is unreachable."""
    try:
        rewards = (await client.rewards())["items"]
    except CrmError:
        return code
    reward = next((r for r in rewards if r["code"] == code), None)
    return (reward["name_en"] if lang == "en" else reward["name_zh"]) if reward else code


class ActionRedeemReward(Action):
    """Redeem with the key minted at confirmation: a repeated "yes" replays, never spends twice."""

    def name(self) -> str:
        return "action_redeem_reward"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        customer_id = verified_customer(tracker)
        code, key = tracker.get_slot("reward_code"), tracker.get_slot("redeem_key")
        lang = language(tracker)
        if customer_id is None or not code or not key:
            say(dispatcher, lang, "utter_redeem_nothing_pending")
            return []
        client = crm(lang)
        try:
            result = await client.redeem(customer_id, code, 1, key)
        except CrmUnavailable:
            # Same key next time: if the CRM did redeem before failing, the retry returns that result.
            say(dispatcher, lang, "utter_redeem_crm_down")
            return []
        except CrmError as error:
            name = {"insufficient_points": "utter_redeem_not_enough_short",
                    "out_of_stock": "utter_reward_out_of_stock"}.get(error.code, "utter_crm_error")
            say(dispatcher, lang, name, reward=code, message=error.message or error.code)
            return [SlotSet("redeem_key", None)]
        say(dispatcher, lang, "utter_redeem_done", reward=await reward_name(client, result["reward_code"], lang),
            spent=fmt_int(result["points_spent"]), balance=fmt_int(result["balance_after"]),
            redemption_id=result["redemption_id"])
        return []
