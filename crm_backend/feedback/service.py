"""Record feedback (idempotent, text redacted); a low score opens a follow-up ticket (closed loop)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core import events
from crm_backend.core.db import utcnow
from crm_backend.customer import service as customer_service
from crm_backend.feedback.errors import AgentNotFound, FeedbackNotFound
from crm_backend.feedback.models import Feedback
from crm_backend.feedback.schemas import CommentCreate, FeedbackCreate, is_low_score
from crm_backend.text.analyzer import analyze
from crm_backend.ticket import repository as ticket_repository
from crm_backend.ticket.errors import TicketNotFound
from crm_backend.ticket.models import Ticket
from crm_backend.ticket.schemas import TicketCreate
from crm_backend.ticket.service import open_ticket


def _follow_up_text(data: FeedbackCreate, text: str | None) -> str:
    label = "CSAT" if data.kind == "csat" else "NPS"
    head = f"回访 Follow-up: {label} {data.score}"
    if data.ticket_no:
        head += f" (ticket {data.ticket_no})"
    return f"{head}. {text}" if text else head


@dataclass
class Submitted:
    feedback: Feedback
    follow_up_ticket_no: str | None


def submit_feedback(session: Session, *, data: FeedbackCreate, handled_by: int | None = None) -> Submitted:
    """Store the feedback (text redacted); a low score opens a follow-up ticket (closed loop).

    `handled_by`: the agent who handled the conversation, credited when the body names none.
    """
    now = utcnow()
    customer_id = data.customer_id
    if customer_id is not None:
        customer_service.get_customer(session, customer_id=customer_id)
    ticket_id = None
    if data.ticket_no is not None:
        ticket = ticket_repository.by_no(session, data.ticket_no)
        if ticket is None:
            raise TicketNotFound(data.ticket_no)
        ticket_id = ticket.id
        customer_id = customer_id if customer_id is not None else ticket.customer_id
    if data.agent_id is not None and session.get(Agent, data.agent_id) is None:
        raise AgentNotFound(data.agent_id)
    text, sentiment = None, None
    if data.text and data.text.strip():
        analysis = analyze(data.text)
        text, sentiment = analysis.redacted, analysis.sentiment.score
    agent_id = data.agent_id if data.agent_id is not None else handled_by
    feedback = Feedback(customer_id=customer_id, kind=data.kind, score=data.score, text=text,
                        sentiment=sentiment, ticket_id=ticket_id, conversation_id=data.conversation_id,
                        agent_id=agent_id, channel=data.channel, created_at=now)
    session.add(feedback)
    session.flush()
    follow_up_no = None
    if is_low_score(data.kind, data.score):
        worst = (data.kind == "csat" and data.score == 1) or (data.kind == "nps" and (data.score or 0) <= 3)
        severity = "high" if worst else "medium"
        ticket = open_ticket(session, now=now, actor="system:feedback", data=TicketCreate(
            customer_id=customer_id, severity=severity, channel=data.channel, kind="callback",
            description=_follow_up_text(data, text), conversation_id=data.conversation_id))
        feedback.follow_up_ticket_id = ticket.id
        follow_up_no = ticket.ticket_no
    if customer_id is not None:
        events.emit(session, events.CustomerChanged(customer_id))
    return Submitted(feedback, follow_up_no)


def add_comment(session: Session, *, feedback_id: int, data: CommentCreate) -> Submitted:
    """Attach the customer's comment (redacted) to a survey answer of the same conversation.

    A detractor's comment is also appended to the follow-up ticket: it is the reason the agent calls back.
    """
    feedback = session.get(Feedback, feedback_id)
    if feedback is None or feedback.conversation_id != data.conversation_id:
        raise FeedbackNotFound(feedback_id)
    analysis = analyze(data.text)
    feedback.text = f"{feedback.text}\n{analysis.redacted}" if feedback.text else analysis.redacted
    feedback.sentiment = analysis.sentiment.score
    follow_up_no = None
    if feedback.follow_up_ticket_id is not None:
        ticket = session.get(Ticket, feedback.follow_up_ticket_id)
        if ticket is not None:
            ticket.description = f"{ticket.description}\n客户留言 Comment: {analysis.redacted}"
            ticket.updated_at = utcnow()
            follow_up_no = ticket.ticket_no
    session.flush()
    if feedback.customer_id is not None:
        events.emit(session, events.CustomerChanged(feedback.customer_id))
    return Submitted(feedback, follow_up_no)
