"""Account questions for verified customers: greeting, points, rewards, orders, tier, tickets."""

from __future__ import annotations

from abc import abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    apologise_crm_down,
    ask_to_verify,
    crm,
    customer_name,
    fmt_int,
    identify,
    language,
    say,
    tier_name,
)
from actions.complaints import offer_complaint_if_upset
from actions.crm_client import CrmClient, CrmError, CrmUnavailable
from actions.kept_writes import resubmit_kept_writes
from actions.knowledge import answer_question_beside
from actions.multi_request import offer_the_rest


class AccountAction(Action):
    """Base: only a verified customer gets an answer; the CRM being down gets an apology, never a crash."""

    action_name = ""
    # Status questions are where an upset customer hides a complaint ("still hasn't moved!").
    offers_complaint = False

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        # Before any verification: the resumed action sees the code as its latest message and answers only this.
        await answer_question_beside(dispatcher, tracker, text)
        customer_id, identity = await identify(tracker)
        if customer_id is None:
            return ask_to_verify(dispatcher, tracker, self.name())
        try:
            client = crm(tracker)
            events = await self.answer(dispatcher, tracker, client, customer_id)
            if self.offers_complaint:
                await offer_complaint_if_upset(dispatcher, tracker, client)
            offer_the_rest(dispatcher, text, self.name(), language(tracker))
            return identity + events
        except CrmUnavailable:
            apologise_crm_down(dispatcher, tracker)
        except CrmError as error:
            say(dispatcher, tracker, "utter_crm_error", message=error.message or error.code)
        return identity

    @abstractmethod
    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        """The answer for `customer_id`, who is verified."""


class ActionGreetCustomer(Action):
    """Greet by name and tier when we know who it is; otherwise greet and mention verification."""

    def name(self) -> str:
        return "action_greet_customer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        customer_id, identity = await identify(tracker)
        if customer_id is None:
            say(dispatcher, lang, "utter_greet_anonymous")
            return []
        try:
            customer = dict(await crm(lang).customer(customer_id))
        except CrmError:
            customer = {"display_name": tracker.get_slot("customer_name") or "",
                        "tier": tracker.get_slot("customer_tier")}
        say(dispatcher, lang, "utter_greet_customer", name=customer_name(customer, lang),
            tier=tier_name(str(customer.get("tier") or "") or None, lang))
        return identity + [SlotSet("customer_tier", customer.get("tier"))]


class ActionShowPointsBalance(AccountAction):
    """Points balance, with what expires within 30 days."""

    action_name = "action_show_points_balance"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        points = await client.points(customer_id)
        say(dispatcher, tracker, "utter_points_balance", balance=fmt_int(points.get("balance")))
        expiring = int(points.get("expiring_total_30d") or 0)
        if expiring:
            say(dispatcher, tracker, "utter_points_expiring_hint", points=fmt_int(expiring))
        return []


class ActionShowPointsHistory(AccountAction):
    """The five most recent points entries."""

    action_name = "action_show_points_history"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        page = await client.points_entries(customer_id, limit=5)
        if not page["items"]:
            say(dispatcher, tracker, "utter_points_history_empty")
            return []
        lines = [f"{str(e.get('created_at', ''))[:10]}  {int(e['points']):+,}  {e.get('reason') or e.get('kind')}"
                 for e in page["items"]]
        say(dispatcher, tracker, "utter_points_history", entries="\n".join(lines))
        return []


class ActionShowPointsExpiring(AccountAction):
    """Points expiring soon, batch by batch."""

    action_name = "action_show_points_expiring"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        points = await client.points(customer_id)
        batches = points.get("expiring_soon") or []
        if not batches:
            say(dispatcher, tracker, "utter_points_expiring_none")
            return []
        lines = [f"{fmt_int(b['points'])} — {str(b['expires_at'])[:10]}" for b in batches]
        say(dispatcher, tracker, "utter_points_expiring", total=fmt_int(points.get("expiring_total_30d")),
            batches="\n".join(lines))
        return []


class ActionShowRewards(Action):
    """The rewards catalog (no account data, so no verification needed)."""

    def name(self) -> str:
        return "action_show_rewards"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        lang = language(tracker)
        try:
            page = await crm(lang).rewards()
        except CrmError:
            apologise_crm_down(dispatcher, tracker)
            return []
        lines = []
        for reward in page["items"]:
            name = reward.get("name_en") if lang == "en" else reward.get("name_zh")
            stock = reward.get("stock")
            sold_out = " " + ("(sold out)" if lang == "en" else "（已兑完）") if stock == 0 else ""
            lines.append(f"• {name} [{reward['code']}] — {fmt_int(reward['cost_points'])}{sold_out}")
        say(dispatcher, lang, "utter_rewards_list", rewards="\n".join(lines))
        return []


class ActionShowOrderStatus(AccountAction):
    """One order's status and shipping events: the number given now, else the latest order."""

    action_name = "action_show_order_status"
    offers_complaint = True

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        lang = language(tracker)
        order_no = next((e.get("value") for e in (tracker.latest_message or {}).get("entities", [])
                         if e.get("entity") == "order_id"), None) or tracker.get_slot("order_id")
        if not order_no:
            latest = await client.orders(customer_id, limit=1)
            if not latest["items"]:
                say(dispatcher, lang, "utter_order_none")
                return []
            order_no = latest["items"][0]["order_no"]
        try:
            order = await client.order(customer_id, str(order_no).upper())
        except CrmError as error:
            if error.status == 404:
                say(dispatcher, lang, "utter_order_not_found", order_no=str(order_no).upper())
                return [SlotSet("order_id", None)]
            raise
        events = order.get("events") or []
        lines = [f"{str(e.get('at', ''))[:16].replace('T', ' ')}  {e.get('location') or ''} "
                 f"{e.get('description_en') if lang == 'en' else e.get('description_zh')}".strip()
                 for e in events[-5:]]
        say(dispatcher, lang, "utter_order_status", order_no=order["order_no"],
            status=status_name(order.get("status"), lang), shipping=status_name(order.get("shipping_status"), lang),
            carrier=order.get("carrier") or "-",
            tracking=order.get("tracking_no") or "-")
        if lines:
            say(dispatcher, lang, "utter_order_events", events="\n".join(lines))
        return [SlotSet("order_id", None)]


class ActionShowTier(AccountAction):
    """Tier, benefits and progress to the next tier."""

    action_name = "action_show_tier"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        lang = language(tracker)
        tier = await client.tier(customer_id)
        benefits = "、".join if lang == "zh" else ", ".join
        names = [b.get("name_en") if lang == "en" else b.get("name_zh") for b in tier.get("benefits", [])]
        say(dispatcher, lang, "utter_tier_status", tier=tier_name(tier.get("tier"), lang),
            multiplier=tier.get("multiplier"), benefits=benefits([n for n in names if n]) or "-")
        if tier.get("next_tier"):
            say(dispatcher, lang, "utter_tier_progress", next_tier=tier_name(tier["next_tier"], lang),
                pct=round(float(tier.get("progress_pct") or 0)), amount=fmt_int(tier.get("amount_to_next")),
                currency=tier.get("currency") or "CNY")
        else:
            say(dispatcher, lang, "utter_tier_top")
        return [SlotSet("customer_tier", tier.get("tier"))]


class ActionShowTickets(AccountAction):
    """The customer's tickets (or the one named) with status and SLA."""

    action_name = "action_show_tickets"
    offers_complaint = True

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        lang = language(tracker)
        filed = await resubmit_kept_writes(dispatcher, tracker)
        page = await client.tickets(customer_id)
        wanted = tracker.get_slot("ticket_no")
        items = [t for t in page["items"] if not wanted or t["ticket_no"].upper() == str(wanted).upper()]
        if not items:
            say(dispatcher, lang, "utter_tickets_none")
            return filed + [SlotSet("ticket_no", None)]
        lines = [f"{t['ticket_no']} · {status_name(t.get('status'), lang)} · {t.get('summary') or t.get('category')}"
                 f" · SLA {str(t.get('sla_due_at') or '-')[:16].replace('T', ' ')}" for t in items[:5]]
        say(dispatcher, lang, "utter_tickets_list", tickets="\n".join(lines))
        return filed + [SlotSet("ticket_no", None)]


STATUS_NAMES = {
    "zh": {"open": "待处理", "in_progress": "处理中", "pending_customer": "等待您回复", "resolved": "已解决",
           "closed": "已关闭", "escalated": "已升级", "pending": "待付款", "paid": "已付款", "shipped": "已发货",
           "delivered": "已签收", "cancelled": "已取消", "returned": "已退货", "in_transit": "运输中",
           "picked_up": "已揽收", "out_for_delivery": "派送中", "not_shipped": "未发货", "exception": "物流异常"},
    "en": {"open": "open", "in_progress": "in progress", "pending_customer": "waiting for you",
           "resolved": "resolved", "closed": "closed", "escalated": "escalated", "pending": "awaiting payment",
           "paid": "paid", "shipped": "shipped", "delivered": "delivered", "cancelled": "cancelled",
           "returned": "returned", "in_transit": "in transit", "picked_up": "picked up",
           "out_for_delivery": "out for delivery", "not_shipped": "not shipped yet", "exception": "delivery problem"},
}


def status_name(status: str | None, lang: str) -> str:
    """Order, shipping or ticket status in the customer's language."""
    return STATUS_NAMES[lang].get(status or "", status or "-")
