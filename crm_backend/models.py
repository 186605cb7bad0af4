"""Import every core model so that relationships resolve and Base.metadata is complete."""

from crm_backend.agent.models import Agent
from crm_backend.core.idempotency import IdempotencyKey
from crm_backend.customer.models import Customer, Referral
from crm_backend.identity.models import ChannelIdentity, OtpChallenge, OutboxMessage
from crm_backend.order.models import Order, OrderItem, ShippingEvent
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward

__all__ = [
    "Agent", "ChannelIdentity", "Customer", "IdempotencyKey", "Order", "OrderItem", "OtpChallenge", "OutboxMessage",
    "PointsAccount", "PointsEntry", "Redemption", "Referral", "Reward", "ShippingEvent",
]
