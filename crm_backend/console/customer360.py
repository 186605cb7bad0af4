"""The customer 360 panel: what the CRM knows about the customer beside a live conversation.

Profile, points and recent orders are always there; scores are listed in `missing` until the customer
has been scored: the agent must be able to talk to the customer whatever the CRM can or cannot show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.dashboard.kpi import retention_action
from crm_backend.order import repository as orders
from crm_backend.points import repository as points
from crm_backend.scoring.formulas import SEGMENT_NAMES
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket import repository as tickets


def _churn(score: CustomerScore, language: str) -> dict[str, Any] | None:
    risk = score.churn_risk
    if risk is None:
        return None
    raw = score.churn_reasons or []
    reasons = [str(r.get(language) or r.get("en") or r.get("code")) if isinstance(r, dict) else str(r) for r in raw]
    codes = [str(r.get("code")) for r in raw if isinstance(r, dict)]
    value = float(risk)
    level = "high" if value >= 0.6 else "medium" if value >= 0.3 else "low"
    return {"score": round(value, 2), "level": level, "reasons": reasons,
            "action": retention_action(codes, language)}


def segment_label(code: str | None, language: str) -> str | None:
    if code is None:
        return None
    names = SEGMENT_NAMES.get(code)
    return (names[1] if language == "zh" else names[0]) if names else code


def build(session: Session, *, customer_id: int, language: str = "zh") -> dict[str, Any] | None:
    """The 360 view of one customer; None when the customer does not exist."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    missing: list[str] = []
    account = points.account(session, customer_id)
    view: dict[str, Any] = {
        "id": customer.id,
        "name": (customer.name_zh or customer.name_en) if language == "zh" else (customer.name_en or customer.name_zh),
        "name_zh": customer.name_zh, "name_en": customer.name_en,
        "language": customer.preferred_language, "tier": customer.tier,
        "points": account.balance if account else 0,
        "recent_orders": [{"order_no": o.order_no, "status": o.status, "shipping_status": o.shipping_status,
                           "total": str(o.total), "currency": o.currency, "placed_at": o.placed_at.isoformat()}
                          for o in orders.recent(session, customer_id, limit=5)],
        "segment": None, "satisfaction": None, "churn_risk": None, "clv": None,
        "open_tickets": [{"ticket_no": t.ticket_no, "category": t.category, "severity": t.severity,
                          "status": t.status, "sla_due_at": t.sla_due_at.isoformat(),
                          "created_at": t.created_at.isoformat(), "summary": t.summary}
                         for t in tickets.open_for_customer(session, customer_id)],
    }
    score = session.get(CustomerScore, customer_id)
    if score is None:
        missing.append("scores")
    else:
        view["segment"] = segment_label(score.value_segment, language)
        view["satisfaction"] = score.satisfaction
        view["clv"] = score.clv
        view["lifecycle"] = score.lifecycle_stage
        view["churn_risk"] = _churn(score, language)
    view["missing"] = missing
    return view
