"""Console settings (stored per key, defaults filled in) and who may change them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.handoff import errors, repository
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import ConsoleSetting
from crm_backend.handoff.timers import DEFAULT_TARGETS

# Goodwill points an agent may grant at once, by role and by the customer's tier (the grant must fit both).
DEFAULT_GESTURE_LIMITS: dict[str, Any] = {
    "role": {"agent": 500, "supervisor": 5000, "admin": 5000},
    "tier": {"regular": 200, "silver": 300, "gold": 800, "diamond": 2000},
}

SUPERVISOR_ROLES = ("supervisor", "admin")
DEFAULTS: dict[str, Any] = {
    "auto_assign": False,
    "agent_timeout_seconds": 120,  # no heartbeat for this long → conversation goes back to the queue
    "callback_wait_minutes": 10,  # expected wait above this → the bot offers a callback ticket
    "minutes_per_conversation": 4,  # expected-wait estimate
    # A waiting customer silent this long (minutes) has left: the handoff is closed and the bot takes over.
    "abandon_after_minutes": {"web": 60, "chat_app": 1440},
    # First- and next-response targets in seconds by priority, and the share of them value customers get.
    "response_targets": DEFAULT_TARGETS,
    "gesture_limits": DEFAULT_GESTURE_LIMITS,
}


def is_supervisor(agent: Agent) -> bool:
    return agent.role in SUPERVISOR_ROLES


def console_settings(session: Session) -> dict[str, Any]:
    """Console settings with defaults filled in."""
    values = dict(DEFAULTS)
    for row in repository.settings_rows(session):
        try:
            values[row.key] = json.loads(row.value)
        except ValueError:
            continue
    return values


def update_settings(session: Session, *, actor: Agent, changes: dict[str, Any]) -> dict[str, Any]:
    """Change console settings (supervisors only)."""
    if not is_supervisor(actor):
        raise errors.Forbidden()
    for key, value in changes.items():
        if key not in DEFAULTS or value is None:
            continue
        row = session.get(ConsoleSetting, key)
        if row is None:
            session.add(ConsoleSetting(key=key, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)
    audit(session, agent=actor, action="settings_update", details=changes)
    session.flush()
    return console_settings(session)
