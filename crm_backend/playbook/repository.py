"""Queries of the playbook tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.playbook.models import Delivery, MessagingPreference, Playbook, PlaybookRun


def playbooks(session: Session) -> Sequence[Playbook]:
    return session.scalars(select(Playbook).order_by(Playbook.id)).all()


def by_key(session: Session, key: str) -> Playbook | None:
    return session.scalar(select(Playbook).where(Playbook.key == key))


def claim(session: Session, playbook_id: int) -> Playbook | None:
    """Lock the playbook row for this transaction; None while another process holds it (PostgreSQL)."""
    return session.scalar(select(Playbook).where(Playbook.id == playbook_id)
                          .with_for_update(skip_locked=True).execution_options(populate_existing=True))


def run_for(session: Session, playbook_id: int, occurrence: str) -> PlaybookRun | None:
    return session.scalar(select(PlaybookRun).where(PlaybookRun.playbook_id == playbook_id,
                                                    PlaybookRun.occurrence == occurrence))


def existing_keys(session: Session, playbook_id: int, occurrence_keys: set[str]) -> set[tuple[int, str]]:
    rows = session.execute(select(Delivery.customer_id, Delivery.occurrence_key).where(
        Delivery.playbook_id == playbook_id, Delivery.occurrence_key.in_(occurrence_keys)))
    return {(cid, key) for cid, key in rows}


def preference(session: Session, customer_id: int, *, lock: bool = False, create: bool = False,
               timezone: str = "Asia/Shanghai") -> MessagingPreference | None:
    """The customer's preferences row, created on demand (a race to create it is settled by the primary key)."""
    query = select(MessagingPreference).where(MessagingPreference.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is not None or not create:
        return found
    try:
        with session.begin_nested():
            session.add(MessagingPreference(customer_id=customer_id, timezone=timezone))
    except IntegrityError:
        pass
    return session.scalar(query)
