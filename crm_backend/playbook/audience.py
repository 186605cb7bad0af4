"""Evaluate an audience rule over every customer with a handful of bulk queries (no per-customer query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.identity.models import ChannelIdentity
from crm_backend.interaction.models import Interaction
from crm_backend.order.models import Order
from crm_backend.playbook.schemas import AudienceRule
from crm_backend.scoring.models import CustomerScore
from crm_backend.scoring.service import COUNTED_STATUSES
from crm_backend.tier import rules as tier_rules

CHAT_APPS = ("telegram", "slack", "wechat")


@dataclass
class Profile:
    """What the rules and the templates need about one customer."""

    customer: Customer
    segment: str | None = None
    stage: str | None = None
    churn_risk: float | None = None
    last_order_at: datetime | None = None
    last_contact_at: datetime | None = None
    spend_12m: Decimal = Decimal(0)
    identities: dict[str, str] = field(default_factory=dict)  # channel → sender id (latest verified)

    @property
    def channels(self) -> set[str]:
        # Every customer can be reached in the website widget on their next visit.
        return set(self.identities) | {"widget"}


def profiles(session: Session, *, now: datetime, customer_ids: list[int] | None = None) -> dict[int, Profile]:
    """Profiles of all customers (or of `customer_ids`)."""
    query = select(Customer)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    found = {c.id: Profile(c) for c in session.scalars(query)}

    def scoped(column):  # type: ignore[no-untyped-def]
        return column.in_(customer_ids) if customer_ids is not None else column.is_not(None)

    for cid, segment, stage, risk in session.execute(
            select(CustomerScore.customer_id, CustomerScore.value_segment, CustomerScore.lifecycle_stage,
                   CustomerScore.churn_risk).where(scoped(CustomerScore.customer_id))):
        if cid in found:
            found[cid].segment, found[cid].stage, found[cid].churn_risk = segment, stage, risk
    counted = Order.status.in_(COUNTED_STATUSES)
    for cid, last in session.execute(select(Order.customer_id, func.max(Order.placed_at))
                                     .where(scoped(Order.customer_id), counted).group_by(Order.customer_id)):
        if cid in found:
            found[cid].last_order_at = last
    for cid, spend in session.execute(
            select(Order.customer_id, func.sum(Order.total))
            .where(scoped(Order.customer_id), counted, Order.placed_at >= now - timedelta(days=365))
            .group_by(Order.customer_id)):
        if cid in found:
            found[cid].spend_12m = Decimal(spend or 0)
    for contact_cid, last in session.execute(
            select(Interaction.customer_id, func.max(Interaction.updated_at))
            .where(scoped(Interaction.customer_id)).group_by(Interaction.customer_id)):
        if contact_cid is not None and contact_cid in found:
            found[contact_cid].last_contact_at = last
    for cid, channel, sender in session.execute(
            select(ChannelIdentity.customer_id, ChannelIdentity.channel, ChannelIdentity.sender_id)
            .where(scoped(ChannelIdentity.customer_id), ChannelIdentity.channel.in_(CHAT_APPS))
            .order_by(ChannelIdentity.verified_at, ChannelIdentity.id)):
        if cid in found:
            found[cid].identities[channel] = sender  # later rows win
    return found


def _days_since(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else (now - at).total_seconds() / 86400


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        # "No order yet" counts as long ago for a minimum, and fails a maximum.
        return high is None
    return (low is None or value >= low) and (high is None or value <= high)


def matches(rule: AudienceRule, profile: Profile, *, now: datetime) -> bool:
    c = profile.customer
    if rule.value_segments is not None and profile.segment not in rule.value_segments:
        return False
    if rule.lifecycle_stages is not None and profile.stage not in rule.lifecycle_stages:
        return False
    if rule.churn_risk_min is not None and (profile.churn_risk is None or profile.churn_risk < rule.churn_risk_min):
        return False
    if rule.churn_risk_max is not None and (profile.churn_risk is None or profile.churn_risk > rule.churn_risk_max):
        return False
    if rule.tiers is not None and c.tier not in rule.tiers:
        return False
    if rule.birthday_this_month and (c.birthday is None or c.birthday.month != now.month):
        return False
    if rule.within_pct_of_next_tier is not None:
        upcoming, _pct, missing = tier_rules.progress(c.tier, profile.spend_12m)
        if upcoming is None:
            return False
        gap = tier_rules.THRESHOLDS[upcoming] - tier_rules.THRESHOLDS[c.tier]
        if missing <= 0 or missing > gap * Decimal(rule.within_pct_of_next_tier) / 100:
            return False
    if rule.joined_within_days is not None and c.created_at < now - timedelta(days=rule.joined_within_days):
        return False
    if not _within(_days_since(profile.last_order_at, now), rule.days_since_last_order_min,
                   rule.days_since_last_order_max):
        return False
    if not _within(_days_since(profile.last_contact_at, now), rule.days_since_last_contact_min,
                   rule.days_since_last_contact_max):
        return False
    if rule.languages is not None and c.preferred_language not in rule.languages:
        return False
    return rule.channels is None or bool(profile.channels & set(rule.channels))
