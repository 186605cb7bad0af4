"""Agent queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent


def by_username(session: Session, username: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.username == username)).first()
