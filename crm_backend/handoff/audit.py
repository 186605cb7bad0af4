"""The audit log: who did what to which conversation (agents, the bot, the CRM's own jobs)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import utcnow
from crm_backend.handoff.models import AuditLog


def audit(session: Session, *, agent: Agent | None, action: str, handoff_id: int | None = None,
          details: dict[str, Any] | None = None, ip: str | None = None) -> None:
    """Append one audit-log row (written with the caller's unit)."""
    session.add(AuditLog(agent_id=agent.id if agent else None, action=action, handoff_id=handoff_id,
                         details=json.dumps(details or {}, ensure_ascii=False, default=str), ip=ip,
                         created_at=utcnow()))
