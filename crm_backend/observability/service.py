"""Business gauges read from the database when Prometheus scrapes `/metrics`.

They describe the shared database, so every CRM process reports the same values: aggregate them with
`max`, not `sum` (deploy/prometheus/alerts.yml, deploy/grafana/kefu.json).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.campaign.models import BotTrigger, TriggerStatus
from crm_backend.handoff.models import Handoff, HandoffMessage, HandoffStatus
from crm_backend.handoff.service import online_agent_ids
from crm_backend.ticket.models import Ticket

PRIORITIES = ("urgent", "high", "normal", "low")
SEVERITIES = ("critical", "high", "medium", "low")
OPEN_TICKET = ("open", "in_progress")

QUEUE_LENGTH = Gauge("kefu_handoff_queue_length", "Conversations waiting for an agent, by priority.", ["priority"])
QUEUE_OLDEST = Gauge("kefu_handoff_queue_oldest_wait_seconds", "How long the longest-waiting customer has waited.")
ASSIGNED = Gauge("kefu_handoffs_assigned", "Conversations an agent is handling now.")
AGENTS_ONLINE = Gauge("kefu_agents_online", "Agents with a live console who take new conversations.")
SLA_BREACHED = Gauge("kefu_tickets_sla_breached", "Unresolved tickets past their SLA due time, by severity.",
                     ["severity"])
TICKETS_OPEN = Gauge("kefu_tickets_open", "Unresolved tickets, by severity.", ["severity"])
TRIGGERS_KEPT = Gauge("kefu_bot_triggers_kept", "Surveys and hand-backs kept for Rasa to retry (Rasa was down).")
REPLIES_UNDELIVERED = Gauge("kefu_agent_replies_undelivered", "Agent replies waiting for Rasa to deliver them.")


def refresh(session: Session, *, now: datetime | None = None) -> None:
    """Set every business gauge from the database (read only)."""
    now = now or datetime.now(UTC)
    waiting = dict(session.execute(
        select(Handoff.priority, func.count()).where(Handoff.status == HandoffStatus.WAITING)
        .group_by(Handoff.priority)).tuples().all())
    for priority in {*PRIORITIES, *waiting}:
        QUEUE_LENGTH.labels(priority).set(waiting.get(priority, 0))
    oldest = session.scalar(select(func.min(Handoff.created_at)).where(Handoff.status == HandoffStatus.WAITING))
    QUEUE_OLDEST.set(max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0)
    ASSIGNED.set(session.scalar(select(func.count()).where(Handoff.status == HandoffStatus.ASSIGNED)) or 0)
    AGENTS_ONLINE.set(len(online_agent_ids(session, now=now)))
    unresolved = Ticket.status.in_(OPEN_TICKET)
    breached = dict(session.execute(select(Ticket.severity, func.count())
                                    .where(unresolved, Ticket.sla_due_at < now).group_by(Ticket.severity))
                    .tuples().all())
    open_ = dict(session.execute(select(Ticket.severity, func.count()).where(unresolved).group_by(Ticket.severity))
                 .tuples().all())
    for severity in {*SEVERITIES, *open_}:
        SLA_BREACHED.labels(severity).set(breached.get(severity, 0))
        TICKETS_OPEN.labels(severity).set(open_.get(severity, 0))
    TRIGGERS_KEPT.set(session.scalar(select(func.count()).where(BotTrigger.status == TriggerStatus.PENDING)) or 0)
    REPLIES_UNDELIVERED.set(session.scalar(
        select(func.count()).where(HandoffMessage.delivery.in_(("pending", "sending")))) or 0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
