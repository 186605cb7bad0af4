"""Compute and store customer scores from the database (formulas in :mod:`crm_backend.scoring.formulas`).

``rescore_customer`` runs after every relevant event (order, feedback, ticket); ``rescore_all`` after the
demo seed and on demand. RFM quintiles are always ranked against the whole customer base, so a single
rescore reads one aggregate over all orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import CustomerNotFound
from crm_backend.core.events import CustomerChanged
from crm_backend.customer.models import Customer, Referral
from crm_backend.feedback.models import Feedback
from crm_backend.interaction.models import Interaction
from crm_backend.order.models import Order
from crm_backend.scoring import formulas as f
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket

# Orders that count as purchases (cancelled / refunded / unpaid ones do not).
COUNTED_STATUSES = ("paid", "shipped", "delivered")
WINDOW_DAYS = 730  # RFM, CLV and trends look at the last 24 months
DAY = timedelta(days=1)
STALE_AFTER = timedelta(hours=24)


@dataclass
class Facts:
    """Everything scoring needs about one customer."""

    customer_id: int
    created_at: datetime
    tier: str
    orders: list[tuple[datetime, float]] = field(default_factory=list)
    referrals: int = 0
    surveys: list[tuple[str, int, datetime]] = field(default_factory=list)  # (csat|nps, score, at)
    sentiments: list[tuple[str, float, datetime]] = field(default_factory=list)  # (source, score, at)
    complaints: list[tuple[str, datetime]] = field(default_factory=list)  # (severity, at)
    interactions: list[datetime] = field(default_factory=list)


def _where_ids(column: Any, ids: list[int] | None) -> Any:
    return column.in_(ids) if ids is not None else column.is_not(None)


def gather(session: Session, *, customer_ids: list[int] | None, now: datetime) -> dict[int, Facts]:
    """Load the facts of ``customer_ids`` (all customers when None) with one query per table."""
    since = now - timedelta(days=WINDOW_DAYS)
    facts = {
        cid: Facts(cid, created, tier)
        for cid, created, tier in session.execute(
            select(Customer.id, Customer.created_at, Customer.tier).where(_where_ids(Customer.id, customer_ids)))
    }
    for cid, placed, total in session.execute(
            select(Order.customer_id, Order.placed_at, Order.total)
            .where(_where_ids(Order.customer_id, customer_ids), Order.status.in_(COUNTED_STATUSES),
                   Order.placed_at >= since, Order.placed_at <= now)):
        if cid in facts:
            facts[cid].orders.append((placed, float(total)))
    for cid, count in session.execute(
            select(Referral.referrer_id, func.count()).where(_where_ids(Referral.referrer_id, customer_ids))
            .group_by(Referral.referrer_id)):
        if cid in facts:
            facts[cid].referrals = int(count)
    for fb_cid, kind, score, sentiment, at in session.execute(
            select(Feedback.customer_id, Feedback.kind, Feedback.score, Feedback.sentiment, Feedback.created_at)
            .where(_where_ids(Feedback.customer_id, customer_ids), Feedback.created_at >= since)):
        if fb_cid not in facts:
            continue
        if kind in ("csat", "nps") and score is not None:
            facts[fb_cid].surveys.append((kind, int(score), at))
        if sentiment is not None:
            facts[fb_cid].sentiments.append(("feedback", float(sentiment), at))
    for t_cid, kind, severity, sentiment, at in session.execute(
            select(Ticket.customer_id, Ticket.kind, Ticket.severity, Ticket.sentiment, Ticket.created_at)
            .where(_where_ids(Ticket.customer_id, customer_ids), Ticket.created_at >= since)):
        if t_cid not in facts:
            continue
        if kind == "complaint":
            facts[t_cid].complaints.append((severity, at))
        if sentiment is not None:
            facts[t_cid].sentiments.append(("ticket", float(sentiment), at))
    for i_cid, sentiment, at in session.execute(
            select(Interaction.customer_id, Interaction.sentiment, Interaction.created_at)
            .where(_where_ids(Interaction.customer_id, customer_ids), Interaction.created_at >= since)):
        if i_cid not in facts:
            continue
        facts[i_cid].interactions.append(at)
        if sentiment is not None:
            facts[i_cid].sentiments.append(("interaction", float(sentiment), at))
    return facts


def rfm_base(session: Session, *, now: datetime) -> dict[int, tuple[float | None, int, float]]:
    """``{customer id: (days since last order, orders, spend)}`` over the whole base (24-month window)."""
    since = now - timedelta(days=WINDOW_DAYS)
    base: dict[int, tuple[float | None, int, float]] = {cid: (None, 0, 0.0)
                                                        for cid in session.scalars(select(Customer.id))}
    for cid, last, count, spend in session.execute(
            select(Order.customer_id, func.max(Order.placed_at), func.count(), func.sum(Order.total))
            .where(Order.status.in_(COUNTED_STATUSES), Order.placed_at >= since, Order.placed_at <= now)
            .group_by(Order.customer_id)):
        last_at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=now.tzinfo)
        base[cid] = ((now - last_at) / DAY, int(count), float(spend or 0))
    return base


def _age(now: datetime, at: datetime) -> float:
    return max(0.0, (now - at) / DAY)


def score_card(facts: Facts, rfm: f.Rfm, *, now: datetime) -> dict[str, Any]:
    """All scores of one customer plus the explanation (inputs, formula, reasons) shown by the API."""
    signals: list[f.Signal] = []
    for kind, score, at in facts.surveys:
        signals.append(f.csat_signal(score, _age(now, at)) if kind == "csat" else f.nps_signal(score, _age(now, at)))
    signals += [f.sentiment_signal(score, _age(now, at)) for _, score, at in facts.sentiments]
    signals += [f.complaint_signal(severity, _age(now, at)) for severity, at in facts.complaints]
    satisfaction = f.satisfaction_score(signals)

    order_dates = sorted(at for at, _ in facts.orders)
    nps_answers = sorted((at, score) for kind, score, at in facts.surveys if kind == "nps")
    latest_nps = nps_answers[-1][1] if nps_answers else None
    complaints_30d = sum(1 for _, at in facts.complaints if _age(now, at) <= 30)
    interactions_90d = sum(1 for at in facts.interactions if _age(now, at) <= 90)
    interactions_prev = sum(1 for at in facts.interactions if 90 < _age(now, at) <= 180)
    churn = f.churn_risk(f.ChurnInputs(order_dates=order_dates, now=now, complaints_30d=complaints_30d,
                                       satisfaction=satisfaction, latest_nps=latest_nps,
                                       interactions_90d=interactions_90d, interactions_prev_90d=interactions_prev))

    orders = len(facts.orders)
    spend = sum(amount for _, amount in facts.orders)
    tenure = _age(now, facts.created_at)
    clv = f.clv_estimate(orders=orders, spend=spend, tenure_days=tenure, churn_risk=churn.risk)
    last_12 = sum(amount for at, amount in facts.orders if _age(now, at) <= 365)
    prev_12 = sum(amount for at, amount in facts.orders if 365 < _age(now, at) <= 730)
    trend = f.spend_trend(last_12, prev_12, tenure_days=tenure)
    potential = f.potential_value(orders=orders, referrals=facts.referrals, nps=latest_nps, trend=trend)
    segment = f.value_segment(rfm.current_value, potential)
    interval = f.median_interval_days(order_dates)
    stage = f.lifecycle_stage(orders=orders, tenure_days=tenure, recency_days=rfm.recency_days,
                              median_interval=interval, trend=trend)
    reasons = [{"code": r.code, "weight": r.weight, "en": r.en, "zh": r.zh} for r in churn.reasons]
    level = "high" if churn.risk >= 0.6 else "medium" if churn.risk >= 0.3 else "low"
    explanation = {
        "rfm": {
            "r": rfm.r, "f": rfm.f, "m": rfm.m, "total": rfm.total,
            "inputs": {"recency_days": None if rfm.recency_days is None else round(rfm.recency_days, 1),
                       "orders_24m": rfm.frequency, "spend_24m": round(rfm.monetary, 2)},
            "formula": "quintile 1–5 of each of recency (inverted), order count and spend over the customer base "
                       "(24 months); customers without orders score 1/1/1",
        },
        "clv": {
            "value": clv,
            "inputs": {"orders": orders, "spend": round(spend, 2), "tenure_days": round(tenure, 1),
                       "churn_risk": churn.risk, "gross_margin": f.GROSS_MARGIN, "horizon_years": f.CLV_HORIZON_YEARS},
            "formula": "AOV × orders per year × gross margin 0.30 × 3 years × (1 − churn risk)",
        },
        "value_segment": {
            "segment": segment, "name_en": f.SEGMENT_NAMES[segment][0], "name_zh": f.SEGMENT_NAMES[segment][1],
            "current_value": round(rfm.current_value, 4), "potential_value": potential,
            "inputs": {"orders": orders, "referrals": facts.referrals, "latest_nps": latest_nps,
                       "spend_last_12m": round(last_12, 2), "spend_previous_12m": round(prev_12, 2),
                       "trend": round(trend, 4)},
            "formula": "current = (R+F+M−3)/12; potential = 0.35·repeat + 0.20·referrals + 0.25·NPS/10 + 0.20·trend; "
                       f"value if current ≥ {f.CURRENT_HIGH} and potential ≥ {f.POTENTIAL_HIGH}, potential if only "
                       "potential is high, secondary if only current is high, else low",
        },
        "lifecycle": {
            "stage": stage, "name_en": f.LIFECYCLE_NAMES[stage][0], "name_zh": f.LIFECYCLE_NAMES[stage][1],
            "inputs": {"orders": orders, "tenure_days": round(tenure, 1),
                       "median_interval_days": None if interval is None else round(interval, 1),
                       "trend": round(trend, 4)},
            "formula": "no orders → acquisition; 1 order or < 60 days → conversion; no order for > max(90, 2 × "
                       "median interval) days or trend < 0.25 → decline; trend ≥ 0.65 → upgrade; else retention",
        },
        "satisfaction": {
            "score": satisfaction,
            "signals": [{"kind": s.kind, "value": round(s.value, 1), "age_days": round(s.age_days, 1),
                         "weight": round(s.weight * f.recency_weight(s.age_days), 4)} for s in signals],
            "formula": "(70·1 + Σ wᵢ·vᵢ) / (1 + Σ wᵢ); CSAT→(s−1)/4·100, NPS→n·10, sentiment→(x+1)/2·100 "
                       "(weight 0.5), complaint→0 (weight by severity); wᵢ halves every 90 days",
        },
        "churn": {
            "risk": churn.risk, "level": level, "reasons": reasons,
            "inputs": {"complaints_30d": complaints_30d, "satisfaction": satisfaction, "latest_nps": latest_nps,
                       "interactions_90d": interactions_90d, "interactions_previous_90d": interactions_prev},
            "formula": "sum of factor weights, capped at 1 (see docs/notes/crm-analytics.md)",
        },
    }
    return {
        "customer_id": facts.customer_id, "r": rfm.r, "f": rfm.f, "m": rfm.m, "clv": clv,
        "current_value": round(rfm.current_value, 4), "potential_value": potential, "value_segment": segment,
        "lifecycle_stage": stage, "satisfaction": satisfaction, "churn_risk": churn.risk, "churn_reasons": reasons,
        "explanation": explanation, "computed_at": now,
    }


def _cards(session: Session, *, customer_ids: list[int] | None, now: datetime) -> Iterable[dict[str, Any]]:
    rfm = f.rfm_scores(rfm_base(session, now=now))
    for cid, facts in gather(session, customer_ids=customer_ids, now=now).items():
        yield score_card(facts, rfm[cid], now=now)


def rescore_customer(session: Session, *, customer_id: int, now: datetime | None = None) -> CustomerScore | None:
    """Recompute and store one customer's scores (no commit); None for an unknown customer."""
    now = now or utcnow()
    cards = list(_cards(session, customer_ids=[customer_id], now=now))
    if not cards:
        return None
    card = cards[0]
    row = session.get(CustomerScore, customer_id)
    if row is None:
        try:
            # A concurrent event may insert the first row for this customer at the same moment.
            with session.begin_nested():
                row = CustomerScore(**card)
                session.add(row)
            return row
        except IntegrityError:
            row = session.get(CustomerScore, customer_id, populate_existing=True)
            if row is None:
                raise
    for key, value in card.items():
        setattr(row, key, value)
    session.flush()
    return row


def rescore_all(session: Session, *, now: datetime | None = None, batch: int = 1000) -> int:
    """Recompute every customer's scores (no commit); returns how many were scored."""
    now = now or utcnow()
    cards = list(_cards(session, customer_ids=None, now=now))
    session.execute(delete(CustomerScore))
    for start in range(0, len(cards), batch):
        session.execute(insert(CustomerScore), cards[start:start + batch])
    session.flush()
    return len(cards)


def get_scores(session: Session, *, customer_id: int, now: datetime | None = None) -> CustomerScore:
    """The stored scores, recomputed (and stored) first when missing or older than STALE_AFTER
    (recency-based scores drift even without events); 404 for an unknown customer."""
    now = now or utcnow()
    row = session.get(CustomerScore, customer_id)
    if row is None or now - row.computed_at > STALE_AFTER:
        row = rescore_customer(session, customer_id=customer_id, now=now)
        if row is None:
            raise CustomerNotFound(customer_id)
    return row


def on_customer_changed(session: Session, event: CustomerChanged) -> None:
    """After-commit subscriber: scores follow the customer's orders, tickets, feedback and interactions."""
    begin_write(session)
    rescore_customer(session, customer_id=event.customer_id)


def segment_counts(session: Session) -> dict[str, int]:
    """How many customers are in each value segment (for reports and benchmarks)."""
    counts: dict[str, int] = defaultdict(int)
    for segment, n in session.execute(select(CustomerScore.value_segment, func.count())
                                      .group_by(CustomerScore.value_segment)):
        counts[segment] = int(n)
    return dict(counts)
