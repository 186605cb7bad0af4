"""Which domain reacts to which after-commit event (core/events.py); wired once by main.create_app."""

from __future__ import annotations

from crm_backend.campaign.service import on_handoff_abandoned
from crm_backend.core import events
from crm_backend.scoring.service import on_customer_changed


def subscribe_all() -> None:
    """Register every subscription (idempotent)."""
    events.subscribe(events.CustomerChanged, on_customer_changed)
    events.subscribe(events.HandoffAbandoned, on_handoff_abandoned)
