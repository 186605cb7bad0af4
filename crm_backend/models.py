"""Model registry: core models by name, and `load_all_models()` for every package's `models.py`."""

from __future__ import annotations

import importlib
import pkgutil

import crm_backend
from crm_backend.agent.models import Agent
from crm_backend.core.idempotency import IdempotencyKey
from crm_backend.customer.models import Customer, Referral
from crm_backend.identity.models import ChannelIdentity, OtpChallenge, OutboxMessage
from crm_backend.order.models import Order, OrderItem, ShippingEvent
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward

__all__ = [
    "Agent", "ChannelIdentity", "Customer", "IdempotencyKey", "Order", "OrderItem", "OtpChallenge", "OutboxMessage",
    "PointsAccount", "PointsEntry", "Redemption", "Referral", "Reward", "ShippingEvent", "load_all_models",
]


def load_all_models() -> list[str]:
    """Import `crm_backend.<package>.models` for every package that has one (fills Base.metadata)."""
    loaded = []
    for info in pkgutil.iter_modules(crm_backend.__path__):
        if not info.ispkg or info.name in {"tests", "alembic"}:
            continue
        name = f"crm_backend.{info.name}.models"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            loaded.append(name)
    return loaded
