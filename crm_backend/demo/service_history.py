"""Deterministic service history for the demo base: tickets, CSAT/NPS surveys and bot interactions.

Called by the demo seed after customers and orders exist, before ``rescore_all``. Texts come from the
labelled examples in ``data/text_analysis/*_train.tsv`` so their sentiment and category are known
without running the models. Named customers get their documented facts:

- 1 王伟: resolved request, CSAT 5 and NPS 10 (stays a value customer);
- 2 李娜: 2 complaints in the last 30 days (one in progress), NPS 4 (churn risk);
- 3 Emily Carter: resolved English request, CSAT 4, NPS 9;
- 4 张小明: one bot interaction, nothing else (new customer);
- 5 陈静: an OPEN high-severity delivery complaint about KF20250005, CSAT 1 with negative text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.customer.models import Customer
from crm_backend.feedback.models import Feedback
from crm_backend.interaction.models import Interaction
from crm_backend.text.analyzer import warm_up
from crm_backend.text.data import Example, load_examples
from crm_backend.ticket.models import Ticket, TicketStatusChange
from crm_backend.ticket.rules import sla_hours

DAY = timedelta(days=1)
SENTIMENT_SCORE = {"negative": -0.7, "neutral": 0.0, "positive": 0.7}
COMPLAINT_CATEGORIES = ("delivery", "product_quality", "service_attitude", "price_billing", "refund_return",
                        "account")
CHANNELS = ("web", "web", "web", "wechat", "telegram", "slack")
INTENTS = ("ask_order_status", "ask_points_balance", "redeem_reward", "ask_tier", "complain", "request_human",
           "greet", "ask_return_policy")


class _History:
    def __init__(self, session: Session, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.next_id = (session.scalar(select(func.max(Ticket.id))) or 0) + 1
        self.tickets: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self.interactions: list[dict[str, Any]] = []
        self.examples = {lang: load_examples(lang, "train") for lang in ("zh", "en")}

    def pick(self, language: str, *, sentiment: str, category: str | None = None) -> Example:
        pool = [e for e in self.examples[language]
                if e.sentiment == sentiment and (category is None or e.category == category)]
        return self.rng.choice(pool)

    def ticket(self, *, customer_id: int, tier: str, language: str, at: datetime, kind: str, status: str,
               severity: str, category: str | None = None, order_no: str | None = None, channel: str = "web",
               conversation_id: str | None = None, example: Example | None = None) -> int:
        example = example or self.pick(language, sentiment="negative" if kind == "complaint" else "neutral",
                                       category=category)
        ticket_id = self.next_id
        self.next_id += 1
        hours = sla_hours(tier=tier, severity=severity)
        steps = {"open": ["open"], "in_progress": ["open", "in_progress"],
                 "resolved": ["open", "in_progress", "resolved"],
                 "closed": ["open", "in_progress", "resolved", "closed"]}[status]
        times = [at + timedelta(hours=h) for h in (0, 2, min(hours * 0.8, 40), min(hours, 48) + 24)][:len(steps)]
        times = [min(t, self.now) for t in times]
        for i, step in enumerate(steps):
            self.changes.append({"ticket_id": ticket_id, "from_status": steps[i - 1] if i else None,
                                 "to_status": step, "actor": "agent:agent1" if i else "bot", "note": None,
                                 "at": times[i]})
        self.tickets.append({
            "id": ticket_id, "ticket_no": f"T{100000 + ticket_id:06d}", "customer_id": customer_id, "kind": kind,
            "category": category or example.category, "category_source": "inferred", "severity": severity,
            "channel": channel, "status": status, "summary": example.text[:80], "description": example.text,
            "sentiment": SENTIMENT_SCORE[example.sentiment], "order_no": order_no,
            "conversation_id": conversation_id, "sla_hours": hours, "sla_due_at": at + timedelta(hours=hours),
            "created_at": at, "updated_at": times[-1],
            "resolved_at": times[2] if status in ("resolved", "closed") else None,
        })
        return ticket_id

    def survey(self, *, customer_id: int, language: str, kind: str, score: int, at: datetime,
               ticket_id: int | None = None, channel: str = "web", with_text: bool = True,
               follow_up_ticket_id: int | None = None, agent_id: int | None = None,
               conversation_id: str | None = None) -> None:
        sentiment = "positive" if score >= (4 if kind == "csat" else 9) else (
            "negative" if score <= (2 if kind == "csat" else 6) else "neutral")
        example = self.pick(language, sentiment=sentiment) if with_text else None
        self.feedback.append({
            "customer_id": customer_id, "kind": kind, "score": score, "text": example.text if example else None,
            "sentiment": SENTIMENT_SCORE[sentiment] if example else None, "ticket_id": ticket_id,
            "conversation_id": conversation_id, "agent_id": agent_id, "channel": channel,
            "follow_up_ticket_id": follow_up_ticket_id, "created_at": at,
        })

    def interaction(self, *, customer_id: int, at: datetime, channel: str, sentiment: float, escalated: bool,
                    resolved: bool, intents: Sequence[str]) -> None:
        self.interactions.append({
            "conversation_id": f"demo-{customer_id}-{len(self.interactions)}", "channel": channel,
            "customer_id": customer_id, "intents": list(intents), "sentiment": sentiment, "escalated": escalated,
            "resolved_by_bot": resolved, "created_at": at, "updated_at": at,
        })


def _named(h: _History, by_id: dict[int, Customer]) -> None:
    now = h.now
    if 1 in by_id:
        t = h.ticket(customer_id=1, tier="diamond", language="zh", at=now - 90 * DAY, kind="request",
                     status="closed", severity="medium", category="delivery")
        h.survey(customer_id=1, language="zh", kind="csat", score=5, at=now - 86 * DAY, ticket_id=t, agent_id=1)
        h.survey(customer_id=1, language="zh", kind="nps", score=10, at=now - 40 * DAY)
        h.interaction(customer_id=1, at=now - 10 * DAY, channel="web", sentiment=0.5, escalated=True,
                      resolved=False, intents=["request_human", "ask_points_balance"])
    if 2 in by_id:
        h.ticket(customer_id=2, tier="silver", language="zh", at=now - 20 * DAY, kind="complaint",
                 status="resolved", severity="medium", category="product_quality")
        h.ticket(customer_id=2, tier="silver", language="zh", at=now - 6 * DAY, kind="complaint",
                 status="in_progress", severity="high", category="refund_return")
        h.survey(customer_id=2, language="zh", kind="nps", score=4, at=now - 45 * DAY)
        h.survey(customer_id=2, language="zh", kind="csat", score=2, at=now - 15 * DAY)
        for days in (300, 250, 210, 170):  # she used to talk to us; no interaction in the last 90 days
            h.interaction(customer_id=2, at=now - days * DAY, channel="web", sentiment=0.0, escalated=False,
                          resolved=True, intents=["ask_order_status"])
    if 3 in by_id:
        t = h.ticket(customer_id=3, tier="gold", language="en", at=now - 60 * DAY, kind="request",
                     status="closed", severity="low", category="account")
        h.survey(customer_id=3, language="en", kind="csat", score=4, at=now - 58 * DAY, ticket_id=t)
        h.survey(customer_id=3, language="en", kind="nps", score=9, at=now - 30 * DAY)
        h.interaction(customer_id=3, at=now - 2 * DAY, channel="web", sentiment=0.0, escalated=False,
                      resolved=True, intents=["ask_order_status"])
    if 4 in by_id:
        h.interaction(customer_id=4, at=now - 3 * DAY, channel="web", sentiment=0.2, escalated=False, resolved=True,
                      intents=["greet", "ask_points_balance"])
    if 5 in by_id:
        complaint = next(e for e in h.examples["zh"] if e.text.startswith("我的订单一直显示运输中"))
        t = h.ticket(customer_id=5, tier="gold", language="zh", at=now - 2 * DAY, kind="complaint", status="open",
                     severity="high", category="delivery", order_no="KF20250005", conversation_id="demo-5-delay",
                     example=complaint)
        h.feedback.append({
            "customer_id": 5, "kind": "csat", "score": 1, "text": "等了这么久还没到，客服也没给解决办法，非常失望",
            "sentiment": -0.8, "ticket_id": None, "conversation_id": "demo-5-delay", "agent_id": None,
            "channel": "web", "follow_up_ticket_id": t, "created_at": now - 1 * DAY,
        })
        h.interaction(customer_id=5, at=now - 2 * DAY, channel="web", sentiment=-0.8, escalated=True,
                      resolved=False, intents=["ask_order_status", "complain"])
        h.interactions[-1]["conversation_id"] = "demo-5-delay"


def _generated(h: _History, customers: Sequence[Customer]) -> None:
    rng, now = h.rng, h.now
    for c in customers:
        if c.id < 100:
            continue
        language = c.preferred_language if c.preferred_language in ("zh", "en") else "zh"
        joined = max(c.created_at, now - 730 * DAY)
        span = max((now - joined) / DAY, 1.0)

        def when(span: float = span, joined: datetime = joined) -> datetime:
            return joined + rng.uniform(0, span) * DAY

        if rng.random() < 0.18:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                at = when()
                age = (now - at) / DAY
                status = ("open" if age < 2 else "in_progress" if age < 5 else
                          rng.choice(("resolved", "closed", "closed")))
                severity = rng.choices(("low", "medium", "high", "critical"), (3, 6, 3, 0.3))[0]
                channel = rng.choice(CHANNELS)
                t = h.ticket(customer_id=c.id, tier=c.tier, language=language, at=at, kind="complaint",
                             status=status, severity=severity, category=rng.choice(COMPLAINT_CATEGORIES),
                             channel=channel)
                if status in ("resolved", "closed") and rng.random() < 0.6:
                    score = rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 4))[0]
                    h.survey(customer_id=c.id, language=language, kind="csat", score=score,
                             at=min(now, at + 3 * DAY), ticket_id=t, channel=channel,
                             agent_id=rng.choice((1, 2)), with_text=rng.random() < 0.5)
        if rng.random() < 0.12:
            h.ticket(customer_id=c.id, tier=c.tier, language=language, at=when(), kind=rng.choice(
                ("request", "callback")), status=rng.choice(("resolved", "closed")), severity="low",
                category=rng.choice(COMPLAINT_CATEGORIES), channel=rng.choice(CHANNELS))
        if rng.random() < 0.3:
            score = rng.choices(range(11), (1, 1, 1, 1, 2, 2, 3, 6, 8, 7, 6))[0]
            h.survey(customer_id=c.id, language=language, kind="nps", score=score, at=when(),
                     with_text=rng.random() < 0.3)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
            sentiment = round(rng.uniform(-1, 1), 2)
            escalated = rng.random() < 0.15
            h.interaction(customer_id=c.id, at=when(), channel=rng.choice(CHANNELS), sentiment=sentiment,
                          escalated=escalated, resolved=not escalated and rng.random() < 0.8,
                          intents=rng.sample(INTENTS, rng.randint(1, 3)))


def generate(session: Session, *, rng: random.Random, customers: Sequence[Customer],
             now: datetime | None = None) -> None:
    """Insert the service history of ``customers`` (no commit) and make sure the text models are trained."""
    h = _History(session, rng, now or utcnow())
    by_id = {c.id: c for c in customers}
    _named(h, by_id)
    _generated(h, customers)
    for model, rows in ((Ticket, h.tickets), (TicketStatusChange, h.changes), (Feedback, h.feedback),
                        (Interaction, h.interactions)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model), rows[start:start + 5000])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                             "COALESCE((SELECT MAX(id) FROM tickets), 1))"))
    # Train (first run) and load the spaCy models now, not on the first customer's request.
    warm_up()
