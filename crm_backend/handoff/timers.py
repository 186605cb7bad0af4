"""Service timers of handed-off conversations: first response and next response, with breach alerts.

The first-response timer runs from the handoff until an agent's first reply; the next-response timer from
each customer turn that came after the agent's latest reply. Targets are per priority, set by a supervisor
(console setting `response_targets`), and value customers get `value_customer_factor` of them (0.5: half
the time). A timer that runs out is recorded once (`ResponseBreach`) by the handoff timer's rounds, and
announced so supervisors' consoles show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core.db import as_utc, utcnow
from crm_backend.handoff import repository
from crm_backend.handoff.models import Handoff, HandoffStatus, ResponseBreach

LOOKUP_CHUNK = 500  # ids per IN (...) list, well under every driver's bound-parameter limit
DEFAULT_TARGETS: dict[str, Any] = {
    "first": {"urgent": 60, "high": 120, "normal": 300, "low": 600},
    "next": {"urgent": 120, "high": 180, "normal": 300, "low": 600},
    "value_customer_factor": 0.5,
}


@dataclass(frozen=True)
class Timer:
    kind: str  # first | next
    started_at: datetime
    due_at: datetime
    target_seconds: int


def merged_targets(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored targets over the defaults (a partial setting keeps the other values)."""
    stored = stored or {}
    return {"first": {**DEFAULT_TARGETS["first"], **(stored.get("first") or {})},
            "next": {**DEFAULT_TARGETS["next"], **(stored.get("next") or {})},
            "value_customer_factor": float(stored.get("value_customer_factor",
                                                      DEFAULT_TARGETS["value_customer_factor"]))}


def timers(handoffs: Sequence[Handoff], targets: dict[str, Any],
           turns: dict[int, tuple[datetime | None, datetime | None]]) -> dict[int, Timer]:
    """The running timer of each open handoff (none when it is the customer's turn, or resolved)."""
    out = {}
    for h in handoffs:
        if h.status not in HandoffStatus.ACTIVE:
            continue
        last_user, last_agent = (as_utc(t) for t in turns.get(h.id, (None, None)))
        if h.first_response_at is None:
            kind, started = "first", as_utc(h.created_at)
        elif last_user is not None and (last_agent is None or last_user > last_agent):
            kind, started = "next", last_user
        else:
            continue
        if started is None:
            continue
        seconds = float(targets[kind].get(h.priority, targets[kind]["normal"]))
        if h.value_customer:
            seconds *= targets["value_customer_factor"]
        seconds = max(1, round(seconds))
        out[h.id] = Timer(kind, started, started + timedelta(seconds=seconds), seconds)
    return out


def for_handoffs(session: Session, handoffs: Sequence[Handoff], stored_targets: dict[str, Any] | None
                 ) -> dict[int, Timer]:
    return timers(handoffs, merged_targets(stored_targets),
                  repository.last_turn_times(session, [h.id for h in handoffs]))


def record_breaches(session: Session, stored_targets: dict[str, Any] | None) -> list[ResponseBreach]:
    """Record each timer that ran out and was not recorded yet (any CRM process may run this). Flushes.

    The recorded ones are looked up in one query per `LOOKUP_CHUNK` handoffs: a queue of thousands of
    long-breached conversations (no agent online) must not cost a query each on every round.
    """
    now = utcnow()
    due = {handoff_id: timer
           for handoff_id, timer in for_handoffs(session, repository.active(session), stored_targets).items()
           if timer.due_at <= now}
    ids = list(due)
    known: set[tuple[int, str, datetime | None]] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        known.update((handoff_id, kind, as_utc(started)) for handoff_id, kind, started in session.execute(
            select(ResponseBreach.handoff_id, ResponseBreach.kind, ResponseBreach.started_at)
            .where(ResponseBreach.handoff_id.in_(ids[start:start + LOOKUP_CHUNK]))))
    new = []
    for handoff_id, timer in due.items():
        if (handoff_id, timer.kind, as_utc(timer.started_at)) in known:
            continue
        breach = ResponseBreach(handoff_id=handoff_id, kind=timer.kind, started_at=timer.started_at,
                                due_at=timer.due_at, breached_at=now)
        try:
            with session.begin_nested():  # another process may record the same breach at the same moment
                session.add(breach)
        except IntegrityError:
            continue
        new.append(breach)
    return new


def recent(session: Session, *, since: datetime, limit: int = 50) -> Sequence[ResponseBreach]:
    return session.scalars(select(ResponseBreach).where(ResponseBreach.breached_at >= since)
                           .order_by(ResponseBreach.breached_at.desc(), ResponseBreach.id.desc())
                           .limit(limit)).all()


def count(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(select(ResponseBreach.kind, func.count()).where(
        ResponseBreach.breached_at >= start, ResponseBreach.breached_at < end).group_by(ResponseBreach.kind)).all()
    found = {kind: int(n) for kind, n in rows}
    return {"first": found.get("first", 0), "next": found.get("next", 0)}
