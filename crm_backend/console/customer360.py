"""The customer 360 panel: what the CRM knows about the customer beside a live conversation.

Core data (profile, points, orders) is always there; analytics data (scores, tickets, feedback)
comes from the service tables when they exist. A missing piece is reported in `missing`, never
raised: the agent must be able to talk to the customer whatever the CRM can or cannot show.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.dashboard.kpi import retention_action
from crm_backend.order.models import Order
from crm_backend.points.models import PointsAccount
from crm_backend.scoring.formulas import SEGMENT_NAMES

log = logging.getLogger(__name__)

def _optional(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Rows of an analytics query, or None when its table/columns are not there (savepoint-protected)."""
    try:
        with session.begin_nested():
            return [dict(row._mapping) for row in session.execute(text(sql), params)]
    except SQLAlchemyError as error:
        log.debug("customer 360 piece unavailable: %s", error)
        return None


def scores(session: Session, customer_id: int) -> dict[str, Any] | None:
    rows = _optional(session, "SELECT * FROM customer_scores WHERE customer_id = :c", {"c": customer_id})
    return rows[0] if rows else None


def is_value_customer(session: Session, customer_id: int) -> bool:
    """True for the value segment (high current and potential value), or diamond tier as a fallback."""
    score = scores(session, customer_id)
    if score and score.get("value_segment") == "value":
        return True
    customer = session.get(Customer, customer_id)
    return customer is not None and customer.tier == "diamond"


def _churn(score: dict[str, Any], language: str) -> dict[str, Any] | None:
    risk = score.get("churn_risk")
    if risk is None:
        return None
    raw = score.get("churn_reasons") or []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = []
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
    account = session.get(PointsAccount, customer_id)
    orders = list(session.scalars(select(Order).where(Order.customer_id == customer_id)
                                  .order_by(Order.placed_at.desc()).limit(5)))
    view: dict[str, Any] = {
        "id": customer.id,
        "name": (customer.name_zh or customer.name_en) if language == "zh" else (customer.name_en or customer.name_zh),
        "name_zh": customer.name_zh, "name_en": customer.name_en,
        "language": customer.preferred_language, "tier": customer.tier,
        "points": account.balance if account else 0,
        "recent_orders": [{"order_no": o.order_no, "status": o.status, "shipping_status": o.shipping_status,
                           "total": str(o.total), "currency": o.currency, "placed_at": o.placed_at.isoformat()}
                          for o in orders],
        "segment": None, "satisfaction": None, "churn_risk": None, "clv": None, "open_tickets": [],
    }
    score = scores(session, customer_id)
    if score is None:
        missing.append("scores")
    else:
        view["segment"] = segment_label(score.get("value_segment"), language)
        view["satisfaction"] = score.get("satisfaction")
        view["clv"] = score.get("clv")
        view["lifecycle"] = score.get("lifecycle_stage")
        view["churn_risk"] = _churn(score, language)
    tickets = _optional(session, "SELECT ticket_no, category, severity, status, sla_due_at, created_at, summary "
                                 "FROM tickets WHERE customer_id = :c AND status NOT IN ('resolved', 'closed') "
                                 "ORDER BY created_at DESC", {"c": customer_id})
    if tickets is None:
        missing.append("tickets")
    else:
        view["open_tickets"] = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in t.items()}
                                for t in tickets]
    view["missing"] = missing
    return view
