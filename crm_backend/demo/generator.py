"""Deterministic demo dataset (`random.Random(2025)`), relative to the time it is loaded.

The five named customers (ids 1–5) and their facts are documented in demo/README.md;
generated customers have ids ≥ 100. Rows are bulk-inserted so a full seed stays well under
a minute on SQLite.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import utcnow
from crm_backend.core.security import hash_password
from crm_backend.customer.models import Customer, Referral
from crm_backend.demo import catalog
from crm_backend.order.models import Order, OrderItem, ShippingEvent
from crm_backend.points import rules
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward
from crm_backend.tier import rules as tier_rules

SEED = 2025
FIRST_GENERATED_ID = 100
DAY = timedelta(days=1)


@dataclass
class PlannedOrder:
    placed_at: datetime
    amount_hint: Decimal | None = None
    order_no: str | None = None
    shipping: str | None = None  # force a shipping status for a recent order


@dataclass
class PlannedCustomer:
    id: int
    name_zh: str | None
    name_en: str | None
    phone: str
    language: str
    created_at: datetime
    birthday: date | None
    orders: list[PlannedOrder] = field(default_factory=list)
    tier: str | None = None  # fixed tier (named customers); otherwise derived from spend
    redemptions: list[tuple[datetime, str]] = field(default_factory=list)  # (at, reward code)
    referred_by: int | None = None


@dataclass
class Rows:
    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    redemptions: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)


def named_customers(now: datetime, rng: random.Random) -> list[PlannedCustomer]:
    """The five documented demo customers (docs/contract.md)."""
    wang = PlannedCustomer(1, "王伟", "Wang Wei", "13800000001", "zh", now - 900 * DAY, date(1982, 3, 16),
                           tier="diamond")
    day = 720
    while day > 20:
        wang.orders.append(PlannedOrder(now - day * DAY, Decimal(rng.randrange(900, 3200))))
        day -= rng.randint(14, 22)
    # This lot was earned ~11.5 months ago, so it expires within the next 30 days.
    wang.orders.append(PlannedOrder(now - 350 * DAY, Decimal("2888.00")))
    wang.orders.append(PlannedOrder(now - 6 * DAY, Decimal("3299.00"), "KF20250001", "delivered"))
    wang.redemptions = [(now - 600 * DAY, "COUPON50"), (now - 480 * DAY, "VIPLOUNGE")]

    li = PlannedCustomer(2, "李娜", "Li Na", "13800000002", "zh", now - 800 * DAY, date(1990, 7, 2), tier="silver")
    day = 730
    while day > 420:  # a steady monthly buyer …
        li.orders.append(PlannedOrder(now - day * DAY, Decimal(rng.randrange(150, 450))))
        day -= rng.randint(26, 34)
    for day in (360, 300, 230):  # … whose purchase interval doubles …
        li.orders.append(PlannedOrder(now - day * DAY, Decimal(rng.randrange(150, 400))))
    li.orders.append(PlannedOrder(now - 160 * DAY, Decimal("268.00"), "KF20250002", "delivered"))  # … then stops

    emily = PlannedCustomer(3, None, "Emily Carter", "13800000003", "en", now - 600 * DAY, date(1993, 11, 30),
                            tier="gold")
    day = 560
    while day > 15:
        emily.orders.append(PlannedOrder(now - day * DAY, Decimal(rng.randrange(600, 1300))))
        day -= rng.randint(24, 34)
    emily.orders.append(PlannedOrder(now - 3 * DAY, Decimal("1299.00"), "KF20250003", "in_transit"))
    emily.redemptions = [(now - 200 * DAY, "COUPON10")]

    zhang = PlannedCustomer(4, "张小明", "Zhang Xiaoming", "13800000004", "zh", now - 5 * DAY, date(2001, 1, 20),
                            tier="regular")
    zhang.orders.append(PlannedOrder(now - 4 * DAY, Decimal("199.00"), "KF20250004", "delivered"))

    chen = PlannedCustomer(5, "陈静", "Chen Jing", "13800000005", "zh", now - 650 * DAY, date(1988, 5, 8), tier="gold")
    day = 620
    while day > 25:
        chen.orders.append(PlannedOrder(now - day * DAY, Decimal(rng.randrange(350, 900))))
        day -= rng.randint(16, 26)
    chen.orders.append(PlannedOrder(now - 12 * DAY, Decimal("899.00"), "KF20250005", "delayed"))
    return [wang, li, emily, zhang, chen]


def generated_customers(now: datetime, rng: random.Random, count: int) -> list[PlannedCustomer]:
    """`count` customers with a realistic mix of Chinese and English names and buying habits."""
    phones = rng.sample(range(10_000_000, 99_999_999), count)
    planned: list[PlannedCustomer] = []
    for index in range(count):
        cid = FIRST_GENERATED_ID + index
        english = rng.random() < 0.25
        if english:
            name_zh, name_en = None, f"{rng.choice(catalog.EN_FIRST)} {rng.choice(catalog.EN_LAST)}"
        else:
            surname, given = rng.choice(catalog.SURNAMES), rng.choice(catalog.GIVEN)
            name_zh, name_en = surname[0] + given[0], f"{surname[1]} {given[1]}"
        created_at = now - rng.uniform(3, 900) * DAY
        birthday = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        customer = PlannedCustomer(cid, name_zh, name_en, f"139{phones[index]:08d}", "en" if english else "zh",
                                   created_at, birthday)
        per_year = min(40.0, max(0.3, rng.lognormvariate(1.4, 0.8)))
        mean_amount = min(3000.0, max(40.0, rng.lognormvariate(5.5, 0.6)))
        stop_at = now - rng.uniform(60, 500) * DAY if rng.random() < 0.2 else now
        at = max(created_at, now - 730 * DAY) + rng.expovariate(per_year / 365) * DAY
        while at < stop_at:
            customer.orders.append(PlannedOrder(at, Decimal(round(rng.lognormvariate(0, 0.35) * mean_amount))))
            at += rng.expovariate(per_year / 365) * DAY
        if planned and rng.random() < 0.1:
            referrer = rng.choice(planned)
            if referrer.created_at < created_at:
                customer.referred_by = referrer.id
        planned.append(customer)
    return planned


class _Builder:
    def __init__(self, now: datetime, rng: random.Random, rewards: dict[str, tuple[int, int]]) -> None:
        self.now, self.rng, self.rewards = now, rng, rewards  # rewards: code -> (id, cost)
        self.rows = Rows()
        self.order_id = self.item_id = self.entry_id = self.redemption_id = 0
        self.order_seq = 10_000_000

    def add(self, c: PlannedCustomer, referral_credits: list[tuple[datetime, int, int]]) -> None:
        """Orders, items, shipping events and the customer's whole points history."""
        events: list[tuple[datetime, int, str, Any]] = []  # (at, priority, kind, payload)
        spend: list[tuple[datetime, Decimal]] = []
        for planned in sorted(c.orders, key=lambda o: o.placed_at):
            order_id, total, status = self._order(c, planned)
            if status != "cancelled":
                spend.append((planned.placed_at, total))
                events.append((planned.placed_at, 1, "earn", (order_id, total)))
            if status == "refunded":
                events.append((planned.placed_at + 9 * DAY, 1, "reverse", order_id))
        for at, code in c.redemptions:
            events.append((at, 2, "redeem", code))
        for at, points, referred in referral_credits:
            events.append((at, 1, "referral", (points, referred)))
        if not c.tier and len(spend) > 3 and self.rng.random() < 0.3:
            late = max(c.created_at, self.now - 400 * DAY)
            events.append((late + self.rng.uniform(0, (self.now - late).days) * DAY, 2, "redeem", "COUPON10"))
        tier = c.tier or tier_rules.qualifying_tier(sum((t for at, t in spend if at > self.now - 365 * DAY),
                                                        Decimal(0)))
        self._ledger(c, sorted(events, key=lambda e: (e[0], e[1])), tier)
        self.rows.customers.append({
            "id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "phone": c.phone,
            "email": f"{(c.name_en or 'kefu').lower().replace(' ', '.')}.{c.id}@example.com",
            "preferred_language": c.language, "birthday": c.birthday, "consent_marketing": c.id % 3 != 0,
            "consent_sms": c.id % 2 == 0, "consent_email": c.id % 4 != 0, "tier": tier,
            "tier_since": c.created_at if tier == "regular" else max(c.created_at, self.now - 200 * DAY),
            "referred_by": c.referred_by, "created_at": c.created_at,
        })

    def _order(self, c: PlannedCustomer, planned: PlannedOrder) -> tuple[int, Decimal, str]:
        self.order_id += 1
        rng, age = self.rng, self.now - planned.placed_at
        lines: list[tuple[str, str, str, int, Decimal]] = []
        target = planned.amount_hint or Decimal(rng.randrange(60, 1200))
        while not lines or sum(q * p for *_, q, p in lines) < target * Decimal("0.6"):
            sku, zh, en, price = rng.choice(catalog.PRODUCTS)
            lines.append((sku, zh, en, rng.choice((1, 1, 1, 2)), price))
            if len(lines) >= 4:
                break
        total = sum((q * p for *_, q, p in lines), Decimal(0))
        if planned.amount_hint is not None and planned.order_no:
            total = planned.amount_hint  # the documented orders keep their documented totals
            lines = [(lines[0][0], lines[0][1], lines[0][2], 1, total)]
        if planned.order_no:
            order_no = planned.order_no
        else:
            self.order_seq += 1
            order_no = f"KF{self.order_seq:08d}"
        status, shipping = self._status(planned, age)
        carrier = rng.choice(catalog.CARRIERS) if shipping != "not_shipped" else None
        self.rows.orders.append({
            "id": self.order_id, "order_no": order_no, "customer_id": c.id, "status": status,
            "shipping_status": shipping, "total": total, "currency": "CNY", "carrier": carrier,
            "tracking_no": f"SF{rng.randrange(10**11, 10**12)}" if carrier else None,
            "placed_at": planned.placed_at, "created_at": planned.placed_at,
        })
        for sku, zh, en, qty, price in lines:
            self.item_id += 1
            self.rows.items.append({"id": self.item_id, "order_id": self.order_id, "sku": sku, "name_zh": zh,
                                    "name_en": en, "qty": qty, "price": price})
        self._shipping(planned, shipping, planned.shipping == "delayed")
        return self.order_id, total, status

    def _status(self, planned: PlannedOrder, age: timedelta) -> tuple[str, str]:
        if planned.shipping == "in_transit":
            return "shipped", "in_transit"
        if planned.shipping in {"delivered", "delayed"}:
            return "delivered", "delivered"
        roll = self.rng.random()
        if age < 2 * DAY:
            return "paid", "not_shipped"
        if age < 6 * DAY:
            return "shipped", "in_transit"
        if roll < 0.03:
            return "cancelled", "not_shipped"
        if roll < 0.06:
            return "refunded", "returned"
        return "delivered", "delivered"

    def _shipping(self, planned: PlannedOrder, shipping: str, delayed: bool) -> None:
        if shipping == "not_shipped":
            return
        origin, dest = self.rng.sample(catalog.CITIES, 2)
        if planned.order_no == "KF20250003":
            origin, dest = ("上海", "Shanghai"), ("北京", "Beijing")
        steps = [
            (0.6, "picked_up", origin, "快件已揽收", "Parcel picked up"),
            (1.2, "in_transit", origin, f"已从{origin[0]}转运中心发出", f"Departed the {origin[1]} hub"),
            (2.0, "in_transit", dest, f"已到达{dest[0]}转运中心", f"Arrived at the {dest[1]} hub"),
        ]
        if delayed:
            steps.append((4.0, "in_transit", ("武汉", "Wuhan"), "因天气原因延误", "Delayed by bad weather"))
            steps.append((9.5, "delivered", dest, "已签收（延误送达）", "Delivered (late)"))
        elif shipping in {"delivered", "returned"}:
            steps.append((2.6, "out_for_delivery", dest, "派送员正在派送", "Out for delivery"))
            steps.append((3.0, "delivered", dest, "已签收", "Delivered"))
        if shipping == "returned":
            steps.append((8.0, "returned", dest, "退货已寄回仓库", "Return received at the warehouse"))
        for offset, status, city, zh, en in steps:
            at = planned.placed_at + offset * DAY
            if at > self.now:
                break
            self.rows.events.append({"order_id": self.order_id, "at": at, "status": status,
                                     "location": f"{city[0]} {city[1]}", "description_zh": zh,
                                     "description_en": en})

    def _ledger(self, c: PlannedCustomer, events: list[tuple[datetime, int, str, Any]], tier: str) -> None:
        lots: list[list[Any]] = []  # [expires_at, remaining]
        balance = earned = 0
        earned_by_order: dict[int, int] = {}

        def entry(kind: str, points: int, at: datetime, reason: str, key: str, order_id: int | None = None,
                  expires_at: datetime | None = None) -> int:
            nonlocal balance
            balance += points
            self.entry_id += 1
            self.rows.entries.append({
                "id": self.entry_id, "customer_id": c.id, "kind": kind, "points": points, "balance_after": balance,
                "reason": reason, "idempotency_key": key, "order_id": order_id, "expires_at": expires_at,
                "created_at": at,
            })
            return self.entry_id

        def consume(points: int) -> None:
            for lot in lots:
                used = min(lot[1], points)
                lot[1] -= used
                points -= used

        def expire_until(at: datetime) -> None:
            for lot in lots:
                if lot[0] <= at and lot[1] > 0:
                    amount, lot[1] = lot[1], 0
                    entry("expire", -amount, lot[0], "积分过期 Points expired", f"expire:{lot[0].isoformat()}")

        for at, _, kind, payload in events:
            expire_until(at)
            if kind == "earn":
                order_id, total = payload
                points = rules.earn_points(total, tier=tier, birthday=c.birthday, at=at)
                if points:
                    expires = rules.expiry_for(at)
                    entry("earn", points, at, "购物积分 Order points", f"order:{order_id}", order_id, expires)
                    lots.append([expires, points])
                    earned += points
                    earned_by_order[order_id] = points
            elif kind == "referral":
                points, referred = payload
                expires = rules.expiry_for(at)
                entry("earn", points, at, "推荐奖励 Referral reward", f"referral:{referred}", expires_at=expires)
                lots.append([expires, points])
                earned += points
            elif kind == "reverse":
                points = min(earned_by_order.get(payload, 0), balance)
                if points:
                    consume(points)
                    entry("reverse", -points, at, "退款冲销 Refund reversal", f"reverse:order:{payload}", payload)
            elif kind == "redeem":
                reward_id, cost = self.rewards[payload]
                if balance >= cost:
                    consume(cost)
                    self.redemption_id += 1
                    entry_id = entry("redeem", -cost, at, f"兑换 Redeemed {payload}", f"redeem:{self.redemption_id}")
                    self.rows.redemptions.append({
                        "id": self.redemption_id, "customer_id": c.id, "reward_id": reward_id, "quantity": 1,
                        "points_spent": cost, "status": "completed", "points_entry_id": entry_id, "created_at": at,
                    })
        expire_until(self.now)
        self.rows.accounts.append({"customer_id": c.id, "balance": balance, "lifetime_earned": earned, "version": 0,
                                   "updated_at": self.now})


def load_reference_data(session: Session, *, hash_rounds: int = 12) -> None:
    """Rewards catalog and console users (fixed names and passwords from the contract)."""
    session.execute(insert(Reward), [
        {"code": code, "name_zh": zh, "name_en": en, "cost_points": cost, "stock": stock, "active": True}
        for code, zh, en, cost, stock in catalog.REWARDS
    ])
    session.execute(insert(Agent), [
        {"username": username, "password_hash": hash_password(password, rounds=hash_rounds), "display_name": name,
         "role": role, "capacity": 3, "is_online": False, "is_active": True, "created_at": utcnow()}
        for username, password, name, role in catalog.AGENTS
    ])


def generate(session: Session, *, now: datetime | None = None, generated: int = 2000, seed: int = SEED,
             hash_rounds: int = 12) -> dict[str, int]:
    """Insert the demo dataset into an empty database; returns row counts. Does not commit."""
    now = now or utcnow()
    rng = random.Random(seed)
    load_reference_data(session, hash_rounds=hash_rounds)
    rewards = {r.code: (r.id, r.cost_points) for r in session.query(Reward).all()}
    customers = named_customers(now, rng) + generated_customers(now, rng, generated)
    credits: dict[int, list[tuple[datetime, int, int]]] = {}
    builder = _Builder(now, rng, rewards)
    for c in customers:
        if c.referred_by is not None:
            first = min((o.placed_at for o in c.orders), default=None)
            if first is not None:
                credits.setdefault(c.referred_by, []).append((first, rules.REFERRAL_REWARD_POINTS, c.id))
    by_id = {c.id: c for c in customers}
    for c in customers:
        builder.add(c, credits.get(c.id, []))
    rows = builder.rows
    for referrer_id, items in credits.items():
        for at, points, referred in items:
            rows.referrals.append({"referrer_id": referrer_id, "referred_id": referred, "points_awarded": points,
                                   "rewarded_at": at, "created_at": by_id[referred].created_at})
    # Referrers must exist before the customers they referred (self-referencing FK).
    session.execute(insert(Customer), sorted(rows.customers, key=lambda r: r["id"]))
    for model, batch in ((Order, rows.orders), (OrderItem, rows.items), (ShippingEvent, rows.events),
                         (PointsEntry, rows.entries), (PointsAccount, rows.accounts), (Redemption, rows.redemptions),
                         (Referral, rows.referrals)):
        for start in range(0, len(batch), 5000):
            session.execute(insert(model), batch[start:start + 5000])
    _fix_sequences(session)
    return {"customers": len(rows.customers), "orders": len(rows.orders), "points_entries": len(rows.entries),
            "shipping_events": len(rows.events), "referrals": len(rows.referrals)}


def _fix_sequences(session: Session) -> None:
    """Explicit ids leave PostgreSQL sequences behind; move them past the inserted rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("customers", "orders", "order_items", "points_entries", "redemptions"):
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        ))
