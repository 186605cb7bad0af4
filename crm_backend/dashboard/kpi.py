"""KPI formulas of the supervisor dashboard, as pure functions over plain values (hand-checkable)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime


def average(values: Iterable[float]) -> float | None:
    """Arithmetic mean rounded to 2 places; None when there is nothing to average."""
    items = list(values)
    return round(sum(items) / len(items), 2) if items else None


def percent(part: int, whole: int) -> float | None:
    """part / whole × 100, rounded to 1 place; None for an empty whole."""
    return round(100.0 * part / whole, 1) if whole else None


def nps(scores: Sequence[int]) -> float | None:
    """Net Promoter Score: % promoters (9–10) − % detractors (0–6), rounded to 1 place."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100.0 * (promoters - detractors) / len(scores), 1)


def complaint_rate(customers_with_complaints: int, all_customers: int) -> float | None:
    """Service complaint rate = customers with complaints / all customers × 100%."""
    return percent(customers_with_complaints, all_customers)


def escalation_rate(escalated: int, conversations: int) -> float | None:
    """Share of bot conversations handed to a human, in %."""
    return percent(escalated, conversations)


def containment_rate(resolved_by_bot: int, conversations: int) -> float | None:
    """Share of conversations the bot resolved without a human, in %."""
    return percent(resolved_by_bot, conversations)


def first_response_seconds(pairs: Iterable[tuple[datetime, datetime | None]]) -> float | None:
    """Mean seconds from escalation to the agent's first reply, over handoffs that got one."""
    return average((answered - created).total_seconds() for created, answered in pairs if answered is not None)


def sla_breached(due: datetime | None, resolved: datetime | None, now: datetime) -> bool:
    """A ticket breaches its SLA when it was resolved after its due time, or is still open past it."""
    if due is None:
        return False
    return (resolved or now) > due


# Suggested retention action per churn-reason code (codes from crm_backend.scoring.formulas.churn_risk).
RETENTION_ACTIONS = {
    "recent_complaints": ("先解决未结投诉并回访致歉", "Resolve the open complaints first and call to apologise"),
    "low_satisfaction": ("安排专属客服回访", "Have a dedicated agent call back"),
    "nps_detractor": ("安排专属客服回访", "Have a dedicated agent call back"),
    "interval_doubled": ("发放限时回购优惠券", "Send a time-limited come-back coupon"),
    "frequency_halved": ("发放限时回购优惠券", "Send a time-limited come-back coupon"),
    "no_recent_order": ("发送专属召回礼遇（双倍积分）", "Send a win-back offer (double points)"),
    "fewer_interactions": ("推送会员权益提醒", "Remind them of their member benefits"),
}
DEFAULT_ACTION = ("专属客服回访并赠送积分", "Personal call from an agent with bonus points")


def retention_action(reason_codes: Iterable[str], language: str = "en") -> str:
    """The suggested action for the strongest churn reason that has one (reasons come strongest first)."""
    index = 0 if language == "zh" else 1
    for code in reason_codes:
        if code in RETENTION_ACTIONS:
            return RETENTION_ACTIONS[code][index]
    return DEFAULT_ACTION[index]
