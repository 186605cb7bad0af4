"""Deliver one recipient's message: consent → frequency cap → quiet hours → channel → offer → send.

Exactly-once toward the customer, even when a job is retried or a worker is killed:
- the row is locked and must still be `pending`; a finished row is left alone (a duplicate job is a no-op);
- the offer is booked in the ledger under the key `playbook:<delivery id>` (unique per customer), in the
  same transaction that marks the row `sending`, so it exists once whatever happens next;
- the chat-app API is called with no transaction open, then the row is marked `sent`. A worker killed
  during the call leaves the row `sending`: nobody can know whether the message went out, so
  `recover_interrupted` marks such rows failed (`interrupted`) instead of sending them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_backend.core.db import begin_write, utcnow
from crm_backend.customer.models import Customer
from crm_backend.identity.models import ChannelIdentity
from crm_backend.interaction.models import Interaction
from crm_backend.playbook import repository, templates
from crm_backend.playbook.audience import CHAT_APPS
from crm_backend.playbook.channels import SendError, Senders
from crm_backend.playbook.config import OutreachSettings
from crm_backend.playbook.models import Delivery, DeliveryStatus, MessagingPreference, Playbook
from crm_backend.points import repository as points_repository
from crm_backend.points import service as points
from crm_backend.tier import service as tier_service
from crm_backend.tier.rules import TIER_NAMES

WECHAT_WINDOW = timedelta(hours=48)  # WeChat's customer-service API only answers within 48 h of the user's message


@dataclass
class Outcome:
    status: str  # a DeliveryStatus, or "deferred" (quiet hours) / "retry" (transient channel failure)
    delay_seconds: float = 0.0


def quiet_delay(now: datetime, tz: str, settings: OutreachSettings) -> float:
    """Seconds until quiet hours end in the customer's local time (0 outside them)."""
    local = now.astimezone(ZoneInfo(tz))
    start, end = settings.quiet_start_hour, settings.quiet_end_hour
    quiet = local.hour >= start or local.hour < end if start > end else start <= local.hour < end
    if not quiet:
        return 0.0
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return (wake - local).total_seconds()


def pick_channel(session: Session, *, customer_id: int, now: datetime) -> tuple[str, str] | str:
    """(channel, address) on the customer's most recently verified chat app, the widget without one,
    or the reason nothing can be sent."""
    identities = session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.sender_id)
        .where(ChannelIdentity.customer_id == customer_id, ChannelIdentity.channel.in_(CHAT_APPS))
        .order_by(ChannelIdentity.verified_at.desc(), ChannelIdentity.id.desc())).all()
    if not identities:
        return "widget", ""
    for channel, sender in identities:
        if channel != "wechat":
            return channel, sender
        last = session.scalar(select(func.max(Interaction.updated_at)).where(
            Interaction.customer_id == customer_id, Interaction.channel == "wechat"))
        if last is not None and now - last <= WECHAT_WINDOW:
            return channel, sender
    return "wechat_window_closed"


def _values(session: Session, *, customer: Customer, delivery: Delivery, playbook: Playbook,
            now: datetime) -> dict[str, object]:
    zh = customer.preferred_language == "zh"
    tier = tier_service.status(session, customer_id=customer.id, now=now)
    account = points_repository.account(session, customer.id)
    names = (customer.name_zh, customer.name_en) if zh else (customer.name_en, customer.name_zh)
    return {
        "name": names[0] or names[1] or "",
        "tier": TIER_NAMES[customer.tier][0 if zh else 1],
        "points_balance": account.balance if account else 0,
        "next_tier": TIER_NAMES[tier.next_tier][0 if zh else 1] if tier.next_tier else "",
        "amount_to_next": f"{tier.amount_to_next:.0f}",
        "offer_points": playbook.offer_points,
        "coupon_code": delivery.coupon_code or "",
        "coupon_value": playbook.coupon_value,
        **delivery.context,
    }


def _finish(session: Session, delivery: Delivery, status: str, reason: str = "", now: datetime | None = None
            ) -> Outcome:
    delivery.status, delivery.reason = status, reason[:64]
    if status in (DeliveryStatus.SENT, DeliveryStatus.WAITING_VISIT):
        delivery.sent_at = now
    session.commit()
    return Outcome(status)


def deliver(session: Session, *, delivery_id: int, senders: Senders, now: datetime | None = None) -> Outcome:
    """Take one delivery one step further; safe to call any number of times for the same row."""
    now = now or utcnow()
    settings = senders.settings
    begin_write(session)
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        session.rollback()
        return Outcome(delivery.status if delivery else "missing")
    playbook = session.get(Playbook, delivery.playbook_id)
    customer = session.get(Customer, delivery.customer_id)
    assert playbook is not None and customer is not None
    marketing = playbook.purpose == "marketing"
    prefs = repository.preference(session, customer.id, lock=True, create=True, timezone=settings.default_timezone)
    assert prefs is not None
    if marketing and prefs.marketing_opt_out:
        return _finish(session, delivery, DeliveryStatus.SKIPPED, "opted_out")
    if not marketing and prefs.service_opt_out:
        return _finish(session, delivery, DeliveryStatus.SKIPPED, "service_opted_out")
    cap = timedelta(days=settings.frequency_cap_days)
    if (marketing and delivery.attempts == 0 and prefs.last_marketing_at is not None
            and now - prefs.last_marketing_at < cap):
        return _finish(session, delivery, DeliveryStatus.SKIPPED, "frequency_cap")
    wait = quiet_delay(now, prefs.timezone or settings.default_timezone, settings)
    if wait:
        session.rollback()
        return Outcome("deferred", wait)
    route = pick_channel(session, customer_id=customer.id, now=now)
    if isinstance(route, str):
        return _finish(session, delivery, DeliveryStatus.SKIPPED, route)
    channel, address = route
    if playbook.offer_kind == "points" and playbook.offer_points > 0:
        points.award_offer(session, customer_id=customer.id, points=playbook.offer_points,
                           reason=f"{playbook.name_zh} {playbook.name_en}"[:255], key=f"playbook:{delivery.id}",
                           now=now)
        delivery.offer_points = playbook.offer_points
    elif playbook.offer_kind == "coupon" and not delivery.coupon_code:
        delivery.coupon_code = f"KFC{delivery.id:08d}"
    template = playbook.template_zh if customer.preferred_language == "zh" else playbook.template_en
    delivery.text = templates.render(template, _values(session, customer=customer, delivery=delivery,
                                                       playbook=playbook, now=now))
    delivery.channel = channel
    if marketing:
        prefs.last_marketing_at = now
    if channel == "widget":
        return _finish(session, delivery, DeliveryStatus.WAITING_VISIT, now=now)
    delivery.status, delivery.claimed_at = DeliveryStatus.SENDING, now
    delivery.attempts += 1
    attempts, text = delivery.attempts, delivery.text
    session.commit()
    try:
        senders.send(channel, address, text)
    except SendError as error:
        begin_write(session)
        row = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
        assert row is not None
        if error.transient and attempts < settings.max_attempts:
            row.status, row.reason = DeliveryStatus.PENDING, error.reason
            session.commit()
            return Outcome("retry", min(300.0, 2.0 ** attempts))
        if row.offer_points:
            points.award_offer(session, customer_id=row.customer_id, points=-row.offer_points,
                               reason="未送达，撤回优惠 Offer withdrawn: message not delivered",
                               key=f"playbook-withdraw:{row.id}", now=now)
        return _finish(session, row, DeliveryStatus.FAILED, error.reason)
    begin_write(session)
    row = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    assert row is not None
    return _finish(session, row, DeliveryStatus.SENT, now=now)


def recover_interrupted(session: Session, *, older_than: timedelta = timedelta(minutes=5),
                        now: datetime | None = None) -> int:
    """Rows a killed worker left `sending`: possibly delivered, so never resent; marked failed (`interrupted`)."""
    now = now or utcnow()
    begin_write(session)
    result = session.execute(update(Delivery).where(Delivery.status == DeliveryStatus.SENDING,
                                                    Delivery.claimed_at <= now - older_than)
                             .values(status=DeliveryStatus.FAILED, reason="interrupted"))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def widget_messages(session: Session, *, customer_id: int, now: datetime | None = None) -> list[Delivery]:
    """Messages waiting for the customer's next website visit; shown once, then marked seen (caller commits)."""
    now = now or utcnow()
    begin_write(session)
    rows = list(session.scalars(select(Delivery).where(Delivery.customer_id == customer_id,
                                                       Delivery.status == DeliveryStatus.WAITING_VISIT,
                                                       Delivery.seen_at.is_(None))
                                .order_by(Delivery.id).with_for_update()))
    prefs = session.get(MessagingPreference, customer_id)
    shown = []
    for row in rows:
        row.seen_at = now
        marketing = session.get(Playbook, row.playbook_id)
        # An opt-out after the message was queued still wins.
        if prefs is not None and marketing is not None and marketing.purpose == "marketing" and prefs.marketing_opt_out:
            continue
        shown.append(row)
    session.flush()
    return shown
