"""After-commit events: a domain says what happened; other domains react once the write is committed.

A writer calls `emit(session, CustomerChanged(42))`; the request's write unit (`core.db.unit_of_work`)
commits and then hands each event, once, to the handlers subscribed to its type, in a transaction of
their own. So the writer needs no import of the reacting package (scoring subscribes to customer
changes instead of every writer calling it), and a failing handler never undoes the write that
caused it: it is logged and rolled back alone.

`notify(session, make_coroutine)` is the async counterpart for announcements (the console bus); they
run after the commit too, so a console that refetches on an announcement sees the committed state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PENDING = "kefu_pending_events"
ANNOUNCE = "kefu_pending_announcements"

Handler = Callable[[Session, Any], None]
_handlers: dict[type, list[Handler]] = {}


@dataclass(frozen=True)
class CustomerChanged:
    """Orders, tickets, feedback or interactions of this customer changed (their scores are stale)."""

    customer_id: int


@dataclass(frozen=True)
class HandoffAbandoned:
    """A waiting handoff was closed because its customer went silent: the bot must take the conversation back."""

    conversation_id: str


def subscribe(event_type: type, handler: Handler) -> None:
    """Call `handler(session, event)` after every commit that emitted an `event_type`; idempotent."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def emit(session: Session, event: Any) -> None:
    """Queue `event` on the session; duplicates within one unit are delivered once."""
    pending: list[Any] = session.info.setdefault(PENDING, [])
    if event not in pending:
        pending.append(event)


def notify(session: Session, announce: Callable[[], Awaitable[None]]) -> None:
    """Run `announce()` (a coroutine factory) after the session's unit commits."""
    session.info.setdefault(ANNOUNCE, []).append(announce)


def discard(session: Session) -> None:
    """Forget queued events and announcements (their transaction was rolled back)."""
    session.info.pop(PENDING, None)
    session.info.pop(ANNOUNCE, None)


def dispatch(session: Session) -> None:
    """Deliver the queued events (call right after a commit); each handler commits or rolls back alone."""
    while pending := session.info.pop(PENDING, None):
        for event in pending:
            for handler in _handlers.get(type(event), []):
                try:
                    handler(session, event)
                    session.commit()
                except Exception:  # the committed write stands; the reaction is retried by the next change
                    session.rollback()
                    log.exception("after-commit handler %s failed for %s", getattr(handler, "__name__", handler),
                                  event)


async def announce(session: Session) -> None:
    """Run the queued announcements (after the commit); a failing one is logged, never raised."""
    for make in session.info.pop(ANNOUNCE, []):
        try:
            await make()
        except Exception:
            log.exception("after-commit announcement failed")
