"""Supervisor dashboard figures over a period, computed from the CRM tables with the formulas in kpi.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import as_utc
from crm_backend.customer.models import Customer
from crm_backend.dashboard import kpi
from crm_backend.feedback.models import Feedback
from crm_backend.handoff import present, timers
from crm_backend.handoff import repository as handoff_repository
from crm_backend.handoff.assignment import online_agent_ids
from crm_backend.handoff.models import AuditLog, Handoff, HandoffStatus
from crm_backend.interaction.models import Interaction
from crm_backend.scoring.formulas import SEGMENT_NAMES
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket

CHURN_LIST_THRESHOLD = 0.5


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=29), today


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in UTC."""
    return (datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC))


def _scores(values: Any) -> list[int]:
    return [int(v) for v in values if v is not None]


def kpis(session: Session, *, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """Every KPI of the period; each is None when the period has no data for it."""
    now = now or datetime.now(UTC)
    lo, hi = bounds(start, end)
    csat = _scores(session.scalars(select(Feedback.score).where(
        Feedback.kind == "csat", Feedback.score.is_not(None), Feedback.created_at >= lo, Feedback.created_at < hi)))
    nps_scores = _scores(session.scalars(select(Feedback.score).where(
        Feedback.kind == "nps", Feedback.score.is_not(None), Feedback.created_at >= lo, Feedback.created_at < hi)))
    complainers = session.scalar(select(func.count(func.distinct(Ticket.customer_id))).where(
        Ticket.kind == "complaint", Ticket.customer_id.is_not(None), Ticket.created_at >= lo, Ticket.created_at < hi))
    customers = session.scalar(select(func.count()).select_from(Customer).where(Customer.created_at < hi))
    interactions = list(session.execute(select(Interaction.escalated, Interaction.resolved_by_bot).where(
        Interaction.created_at >= lo, Interaction.created_at < hi)))
    escalated = sum(1 for e, _ in interactions if e)
    contained = sum(1 for e, r in interactions if r and not e)
    handoffs = list(session.execute(select(Handoff.created_at, Handoff.first_response_at).where(
        Handoff.created_at >= lo, Handoff.created_at < hi)))
    tickets = list(session.execute(select(Ticket.sla_due_at, Ticket.resolved_at).where(
        Ticket.created_at >= lo, Ticket.created_at < hi)))
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "avg_csat": kpi.average(csat), "csat_responses": len(csat),
        "nps": kpi.nps(nps_scores), "nps_responses": len(nps_scores),
        "complaint_rate": kpi.complaint_rate(int(complainers or 0), int(customers or 0)),
        "customers_with_complaints": int(complainers or 0), "customers": int(customers or 0),
        "escalation_rate": kpi.escalation_rate(escalated, len(interactions)),
        "containment_rate": kpi.containment_rate(contained, len(interactions)),
        "conversations": len(interactions), "escalations": escalated,
        "first_response_seconds": kpi.first_response_seconds(
            (as_utc(c) or now, as_utc(f)) for c, f in handoffs),
        "handoffs": len(handoffs),
        "sla_breaches": sum(1 for due, resolved in tickets
                            if kpi.sla_breached(as_utc(due), as_utc(resolved), now)),
        "tickets": len(tickets),
        **{f"{kind}_response_breaches": n for kind, n in timers.count(session, start=lo, end=hi).items()},
    }



def timeseries(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Per day: conversations, escalations, average CSAT."""
    lo, hi = bounds(start, end)
    days: dict[date, dict[str, Any]] = {}
    day = start
    while day <= end:
        days[day] = {"day": day.isoformat(), "conversations": 0, "escalations": 0, "csat_scores": []}
        day += timedelta(days=1)
    for created, escalated in session.execute(select(Interaction.created_at, Interaction.escalated).where(
            Interaction.created_at >= lo, Interaction.created_at < hi)):
        bucket = days.get((as_utc(created) or lo).date())
        if bucket is not None:
            bucket["conversations"] += 1
            bucket["escalations"] += int(bool(escalated))
    for created, score in session.execute(select(Feedback.created_at, Feedback.score).where(
            Feedback.kind == "csat", Feedback.score.is_not(None), Feedback.created_at >= lo, Feedback.created_at < hi)):
        bucket = days.get((as_utc(created) or lo).date())
        if bucket is not None:
            bucket["csat_scores"].append(score)
    return [{"day": b["day"], "conversations": b["conversations"], "escalations": b["escalations"],
             "csat": kpi.average(b.pop("csat_scores"))} for b in days.values()]


def segments(session: Session, *, language: str = "en") -> list[dict[str, Any]]:
    """Customers per value segment (from the latest scores)."""
    counts = {segment: n for segment, n in session.execute(
        select(CustomerScore.value_segment, func.count()).group_by(CustomerScore.value_segment))}
    index = 1 if language == "zh" else 0
    return [{"segment": code, "segment_label": names[index], "customers": int(counts.get(code, 0))}
            for code, names in SEGMENT_NAMES.items()]


def churn_list(session: Session, *, language: str = "en", limit: int = 50, offset: int = 0
               ) -> tuple[list[dict[str, Any]], int]:
    """One page of the customers at churn risk, riskiest first, with the reasons and a suggested retention
    action; and how many customers are at risk in all."""
    at_risk = CustomerScore.churn_risk >= CHURN_LIST_THRESHOLD
    total = session.scalar(select(func.count()).select_from(CustomerScore).where(at_risk)) or 0
    rows = session.execute(select(CustomerScore, Customer).join(Customer, Customer.id == CustomerScore.customer_id)
                           .where(at_risk).order_by(CustomerScore.churn_risk.desc(), Customer.id)
                           .limit(limit).offset(offset))
    out = []
    for score, customer in rows:
        reasons = [r for r in (score.churn_reasons or []) if isinstance(r, dict)]
        texts = [str(r.get(language) or r.get("en") or r.get("code")) for r in reasons]
        out.append({"customer_id": customer.id, "customer_name": customer.display_name, "tier": customer.tier,
                    "churn_score": round(float(score.churn_risk), 2), "reasons_text": "; ".join(texts),
                    "action": kpi.retention_action([str(r.get("code")) for r in reasons], language)})
    return out, int(total)


def agents(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Each agent: presence, load now, conversations resolved and average CSAT credited in the period."""
    lo, hi = bounds(start, end)
    online = online_agent_ids(session)
    loads = handoff_repository.agent_loads(session)
    resolved = {agent_id: n for agent_id, n in session.execute(
        select(Handoff.resolved_by_agent_id, func.count()).where(Handoff.resolved_at >= lo, Handoff.resolved_at < hi)
        .group_by(Handoff.resolved_by_agent_id))}
    # CSAT credited to an agent: feedback.agent_id, or the agent who resolved the feedback's conversation.
    credited: dict[int, list[int]] = defaultdict(list)
    rows = session.execute(select(Feedback.score, Feedback.agent_id, Handoff.resolved_by_agent_id)
                           .outerjoin(Handoff, Handoff.conversation_id == Feedback.conversation_id)
                           .where(Feedback.kind == "csat", Feedback.score.is_not(None),
                                  Feedback.created_at >= lo, Feedback.created_at < hi,
                                  or_(Feedback.agent_id.is_not(None), Handoff.resolved_by_agent_id.is_not(None))))
    for score, agent_id, resolver in rows:
        who = agent_id or resolver
        if who is not None and score is not None:
            credited[who].append(score)
    return [{"id": a.id, "display_name": a.display_name, "role": a.role, "online": a.id in online,
             "load": loads.get(a.id, 0), "capacity": a.capacity, "resolved": int(resolved.get(a.id, 0)),
             "avg_csat": kpi.average(credited.get(a.id, []))}
            for a in session.scalars(select(Agent).where(Agent.is_active.is_(True)).order_by(Agent.id))]


def live_queue(session: Session, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open handoffs (all agents), value customers first, then priority, then waiting time."""
    now = now or datetime.now(UTC)
    rows = list(session.scalars(select(Handoff).where(Handoff.status.in_(HandoffStatus.ACTIVE)).order_by(
        Handoff.value_customer.desc(), Handoff.priority_rank, Handoff.created_at)))
    return [{"id": h.id, "customer_name": h.customer_name, "priority": h.priority, "status": h.status,
             "assigned_agent_name": h.assigned_agent_name, "channel": h.channel,
             "waiting_minutes": round(h.waiting_seconds / 60, 1), "value_customer": h.value_customer}
            for h in present.handoffs(session, rows)]


def audit_trail(session: Session, *, start: date, end: date, limit: int = 200, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of the console actions of the period, latest first (who did what to which conversation);
    and how many there are in the period."""
    lo, hi = bounds(start, end)
    in_period = (AuditLog.created_at >= lo, AuditLog.created_at < hi)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*in_period)) or 0
    names = {a.id: a.display_name for a in session.scalars(select(Agent))}
    rows = session.scalars(select(AuditLog).where(*in_period).order_by(AuditLog.id.desc()).limit(limit)
                           .offset(offset))
    items = [{"at": (as_utc(r.created_at) or lo).isoformat(timespec="seconds"),
              "agent": names.get(r.agent_id, "system") if r.agent_id is not None else "system",
              "action": r.action, "handoff_id": r.handoff_id, "details": r.details, "ip": r.ip} for r in rows]
    return items, int(total)
