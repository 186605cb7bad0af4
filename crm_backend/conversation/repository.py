"""Reading the conversation store: the console's list and transcript, the dashboard figures, deletions."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.conversation.models import Conversation, ConversationEvent, Outcome
from crm_backend.handoff.models import Handoff, HandoffStatus

TRANSCRIPT_KINDS = ("user", "bot", "action", "slot", "active_loop", "pause", "resume", "session_started")
HIDDEN_ACTIONS = {"action_listen", "action_session_start"}


@dataclass
class Filters:
    start: date | None = None
    end: date | None = None
    channel: str | None = None
    language: str | None = None
    outcome: str | None = None
    intent: str | None = None
    has_handoff: bool | None = None
    low_csat: bool = False  # CSAT ≤ 2
    q: str | None = None


def _day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    low = datetime.combine(start, time.min, UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None
    return low, high


def _filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    low, high = _day_bounds(filters.start, filters.end)
    if low is not None:
        query = query.where(Conversation.started_at >= low)
    if high is not None:
        query = query.where(Conversation.started_at < high)
    for column, value in ((Conversation.channel, filters.channel), (Conversation.language, filters.language),
                          (Conversation.outcome, filters.outcome)):
        if value:
            query = query.where(column == value)
    if filters.has_handoff is not None:
        query = query.where(Conversation.has_handoff.is_(filters.has_handoff))
    if filters.low_csat:
        query = query.where(Conversation.csat <= 2)
    if filters.intent:
        query = query.where(Conversation.id.in_(select(ConversationEvent.conversation_id)
                                                .where(ConversationEvent.intent == filters.intent)))
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(Conversation.id.in_(select(ConversationEvent.conversation_id)
                                                .where(ConversationEvent.text.ilike(pattern, escape="\\"))))
    return query


def _visible_to_agent(query: Select[Any], agent_id: int) -> Select[Any]:
    """An agent's own handed-off conversations and the queue (waiting, unassigned)."""
    mine = select(Handoff.conversation_id).where(or_(
        Handoff.assigned_agent_id == agent_id, Handoff.resolved_by_agent_id == agent_id,
        (Handoff.status == HandoffStatus.WAITING) & Handoff.assigned_agent_id.is_(None)))
    return query.where(Conversation.sender_id.in_(mine))


def conversations(session: Session, *, filters: Filters, agent_id: int | None, limit: int = 50, offset: int = 0,
                  ) -> tuple[list[Conversation], int]:
    """A page of conversations, newest activity first; `agent_id` limits to what an agent may see."""
    query = _filtered(select(Conversation), filters)
    if agent_id is not None:
        query = _visible_to_agent(query, agent_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), total


def get(session: Session, *, conversation_id: int, agent_id: int | None) -> Conversation | None:
    query = select(Conversation).where(Conversation.id == conversation_id)
    if agent_id is not None:
        query = _visible_to_agent(query, agent_id)
    return session.scalar(query)


def transcript(session: Session, *, conversation_id: int) -> list[ConversationEvent]:
    rows = session.scalars(select(ConversationEvent)
                           .where(ConversationEvent.conversation_id == conversation_id,
                                  ConversationEvent.kind.in_(TRANSCRIPT_KINDS))
                           .order_by(ConversationEvent.rasa_ts, ConversationEvent.id))
    return [row for row in rows if not (row.kind == "action" and row.name in HIDDEN_ACTIONS)]


# --------------------------------------------------------------------------- figures


def _rates(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """rows: (has_handoff, user_turns, fallback_turns) of conversations with at least one customer turn."""
    conversations_ = len(rows)
    handoffs = sum(1 for has_handoff, _, _ in rows if has_handoff)
    turns = sum(user_turns for _, user_turns, _ in rows)
    fallbacks = sum(fallback for _, _, fallback in rows)
    return {
        "conversations": conversations_,
        "containment_rate": round(100.0 * (conversations_ - handoffs) / conversations_, 1) if conversations_ else None,
        "handoff_rate": round(100.0 * handoffs / conversations_, 1) if conversations_ else None,
        "fallback_rate": round(100.0 * fallbacks / turns, 1) if turns else None,
        "customer_turns": turns,
    }


def _top(counter: Counter[str], top: int) -> list[dict[str, Any]]:
    return [{"intent": i, "count": c} for i, c in sorted(counter.items(), key=lambda x: (-x[1], x[0]))[:top]]


def figures(session: Session, *, start: date, end: date, top: int = 10) -> dict[str, Any]:
    """Containment, handoff and fallback rates (overall, by language, by channel, per day) and top intents.

    Containment = conversations with no handoff / conversations; handoff rate = the rest; fallback rate =
    customer turns classified `nlu_fallback` / customer turns. Conversations are counted on the day they
    started, only when the customer said something.
    """
    low, high = _day_bounds(start, end)
    rows = session.execute(select(Conversation.id, Conversation.language, Conversation.channel,
                                  Conversation.started_at, Conversation.has_handoff, Conversation.user_turns,
                                  Conversation.fallback_turns)
                           .where(Conversation.started_at >= low, Conversation.started_at < high,
                                  Conversation.user_turns > 0)).all()
    groups: dict[str, dict[str, list[tuple[Any, ...]]]] = {"language": defaultdict(list), "channel": defaultdict(list),
                                                           "day": defaultdict(list)}
    for _id, language, channel, started, has_handoff, user_turns, fallbacks in rows:
        item = (has_handoff, user_turns, fallbacks)
        groups["language"][language].append(item)
        groups["channel"][channel or "unknown"].append(item)
        groups["day"][started.astimezone(UTC).date().isoformat()].append(item)
    intents = session.execute(select(ConversationEvent.intent, Conversation.language, func.count())
                              .join(Conversation, Conversation.id == ConversationEvent.conversation_id)
                              .where(ConversationEvent.kind == "user", ConversationEvent.intent.is_not(None),
                                     Conversation.started_at >= low, Conversation.started_at < high)
                              .group_by(ConversationEvent.intent, Conversation.language)).all()
    overall: Counter[str] = Counter()
    by_language: dict[str, Counter[str]] = defaultdict(Counter)
    for intent, language, count in intents:
        if intent is None:
            continue
        overall[intent] += count
        by_language[language][intent] += count
    days = []
    day = start
    while day <= end:
        key = day.isoformat()
        days.append({"day": key, **_rates(groups["day"].get(key, []))})
        day += timedelta(days=1)
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "overall": _rates([(h, u, f) for _i, _l, _c, _s, h, u, f in rows]),
        "by_language": {key: _rates(value) for key, value in sorted(groups["language"].items())},
        "by_channel": {key: _rates(value) for key, value in sorted(groups["channel"].items())},
        "trend": days,
        "top_intents": _top(overall, top),
        "top_intents_by_language": {lang: _top(counter, top) for lang, counter in sorted(by_language.items())},
        "outcomes": dict(Counter(o for o in session.scalars(
            select(Conversation.outcome).where(Conversation.started_at >= low, Conversation.started_at < high,
                                               Conversation.user_turns > 0)))),
    }


# --------------------------------------------------------------------------- deletion


def _delete(session: Session, ids: list[int]) -> int:
    if not ids:
        return 0
    # Events first: SQLite enforces no ON DELETE CASCADE unless foreign keys are switched on.
    session.execute(delete(ConversationEvent).where(ConversationEvent.conversation_id.in_(ids)))
    session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return len(ids)


def delete_older_than(session: Session, *, cutoff: datetime, batch: int = 500) -> int:
    """Delete conversations whose last activity is before `cutoff`; flushes, the caller commits."""
    total = 0
    while True:
        ids = list(session.scalars(select(Conversation.id).where(Conversation.last_activity_at < cutoff)
                                   .limit(batch)))
        total += _delete(session, ids)
        if len(ids) < batch:
            return total


def delete_customer(session: Session, *, customer_id: int) -> list[str]:
    """Delete a customer's conversations; returns their Rasa sender ids (their trackers go too)."""
    found = session.execute(select(Conversation.id, Conversation.sender_id)
                            .where(Conversation.customer_id == customer_id)).all()
    _delete(session, [row[0] for row in found])
    return [row[1] for row in found]


__all__ = ["Filters", "Outcome", "conversations", "delete_customer", "delete_older_than", "figures", "get",
           "transcript"]
