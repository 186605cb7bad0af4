"""Playbooks: save (validated), ship the defaults, start a run (audience + holdout), measure, opt out.

A run is keyed by (playbook, occurrence) and each recipient by (playbook, customer, occurrence key), so
starting the same run twice — a retried job, a restarted scheduler — adds nobody twice; the run's pending
deliveries are queued again and the delivery step itself is idempotent (see `delivery`).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import CustomerNotFound, NotFoundError, ValidationFailed
from crm_backend.customer.models import Customer
from crm_backend.identity.models import ChannelIdentity
from crm_backend.order.models import Order, ShippingEvent
from crm_backend.playbook import audience, repository, templates
from crm_backend.playbook.defaults import DEFAULTS
from crm_backend.playbook.models import Delivery, DeliveryStatus, MessagingPreference, Playbook, PlaybookRun
from crm_backend.playbook.schemas import AudienceRule, GroupStats, Measurement, PlaybookIn, PreferencesIn
from crm_backend.points.models import Redemption
from crm_backend.scoring.service import COUNTED_STATUSES

Z95 = 1.96
OPT_OUT_REPLY = {
    "zh": "已为您退订营销消息，之后不会再收到推广信息。服务通知（如订单回访）不受影响。",
    "en": "You are unsubscribed from marketing messages and will get no more promotions. "
          "Service messages (such as order follow-ups) are not affected.",
}
OPT_OUT_ALL_REPLY = {
    "zh": "已为您退订全部主动消息，包括营销和服务回访。",
    "en": "You are unsubscribed from all messages we send first, marketing and service alike.",
}


class PlaybookNotFound(NotFoundError):
    def __init__(self, playbook_id: int) -> None:
        super().__init__(f"Playbook {playbook_id} not found", f"未找到营销剧本 {playbook_id}", code="not_found")


def check(data: PlaybookIn) -> None:
    """Everything a sender will need must be valid now: templates only use known fields."""
    templates.validate(data.template_zh)
    templates.validate(data.template_en)
    if data.offer_kind == "none":
        used = set(templates.placeholders(data.template_zh)) | set(templates.placeholders(data.template_en))
        offer_fields = used & {"offer_points", "coupon_code", "coupon_value"}
        if offer_fields:
            raise ValidationFailed(f"Template uses {', '.join(sorted(offer_fields))} but the playbook has no offer",
                                   f"模板使用了 {'、'.join(sorted(offer_fields))}，但该剧本没有优惠")


def _apply(playbook: Playbook, data: PlaybookIn) -> None:
    for name, value in data.model_dump(exclude={"audience", "event"}).items():
        setattr(playbook, name, value)
    playbook.audience = data.audience.model_dump(exclude_defaults=True)
    playbook.event = data.event.model_dump() if data.event else {}


def get(session: Session, *, playbook_id: int) -> Playbook:
    found = session.get(Playbook, playbook_id)
    if found is None:
        raise PlaybookNotFound(playbook_id)
    return found


def create(session: Session, *, data: PlaybookIn, key: str, by: Agent | None) -> Playbook:
    check(data)
    now = utcnow()
    playbook = Playbook(key=key, created_at=now, updated_at=now, updated_by=by.username if by else "system")
    _apply(playbook, data)
    session.add(playbook)
    session.flush()
    return playbook


def update(session: Session, *, playbook_id: int, data: PlaybookIn, by: Agent) -> Playbook:
    check(data)
    playbook = get(session, playbook_id=playbook_id)
    _apply(playbook, data)
    playbook.updated_at, playbook.updated_by = utcnow(), by.username
    session.flush()
    return playbook


def ensure_defaults(session: Session) -> int:
    """Create the shipped playbooks that are missing (an edited one is left as the supervisor left it)."""
    created = 0
    for key, spec in DEFAULTS.items():
        if repository.by_key(session, key) is None:
            create(session, data=PlaybookIn.model_validate(spec), key=key, by=None)
            created += 1
    return created


def occurrence_of(playbook: Playbook, now: datetime) -> str:
    return "once" if playbook.schedule == "once" else now.date().isoformat()


def in_holdout(playbook_id: int, occurrence_key: str, customer_id: int, share: float) -> bool:
    """Random but reproducible assignment: a rerun puts everybody in the same group again."""
    digest = hashlib.sha256(f"{playbook_id}:{occurrence_key}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _event_targets(session: Session, playbook: Playbook, now: datetime,
                   catchup_days: int) -> list[tuple[int, str, dict[str, Any]]]:
    """(customer, occurrence key, extra template values) of orders delivered `days` ago (that calendar day).

    `catchup_days` widens the window backwards so days the scheduler missed (CRM down) are still picked up;
    an order already reached has its delivery row and is not added again.
    """
    days = int(playbook.event.get("days", 7))
    day_start = datetime.combine((now - timedelta(days=days)).date(), datetime.min.time(), tzinfo=now.tzinfo)
    rows = session.execute(
        select(Order.customer_id, Order.id, Order.order_no).join(ShippingEvent, ShippingEvent.order_id == Order.id)
        .where(ShippingEvent.status == "delivered", ShippingEvent.at >= day_start - timedelta(days=catchup_days),
               ShippingEvent.at < day_start + timedelta(days=1)).distinct())
    return [(cid, f"order:{oid}", {"order_no": no}) for cid, oid, no in rows]


@dataclass
class Started:
    run: PlaybookRun
    to_send: list[int]  # delivery ids still pending (new ones and those a killed worker left behind)


def start_run(session: Session, *, playbook_id: int, now: datetime | None = None,
              event_catchup_days: int = 0) -> Started:
    """Pick the audience, split it treated/holdout and record one delivery each (no message is sent here)."""
    now = now or utcnow()
    begin_write(session)
    playbook = get(session, playbook_id=playbook_id)
    if not playbook.enabled:
        raise ValidationFailed("Playbook is disabled", "该剧本已停用")
    occurrence = occurrence_of(playbook, now)
    run = repository.run_for(session, playbook.id, occurrence)
    if run is None:
        run = PlaybookRun(playbook_id=playbook.id, occurrence=occurrence, started_at=now, treated=0, holdout=0)
        session.add(run)
        session.flush()
    rule = AudienceRule.model_validate(playbook.audience)
    if playbook.schedule == "event":
        targets = _event_targets(session, playbook, now, event_catchup_days)
        found = audience.profiles(session, now=now, customer_ids=sorted({t[0] for t in targets}))
    else:
        found = audience.profiles(session, now=now)
        targets = [(cid, "once" if playbook.schedule == "once" else occurrence, {}) for cid in sorted(found)]
    done = repository.existing_keys(session, playbook.id, {key for _c, key, _x in targets})
    for cid, key, extra in targets:
        profile = found.get(cid)
        if (cid, key) in done or profile is None or not audience.matches(rule, profile, now=now):
            continue
        held = in_holdout(playbook.id, key, cid, playbook.holdout_pct)
        session.add(Delivery(run_id=run.id, playbook_id=playbook.id, customer_id=cid, occurrence_key=key,
                             treated=not held, status=DeliveryStatus.HOLDOUT if held else DeliveryStatus.PENDING,
                             context=extra, created_at=now))
        if held:
            run.holdout += 1
        else:
            run.treated += 1
        done.add((cid, key))
    session.flush()
    pending = list(session.scalars(select(Delivery.id).where(Delivery.run_id == run.id,
                                                             Delivery.status == DeliveryStatus.PENDING)
                                   .order_by(Delivery.id)))
    return Started(run=run, to_send=pending)


def due_playbooks(session: Session, *, now: datetime | None = None) -> list[Playbook]:
    """Enabled playbooks whose occurrence for `now` has not started yet."""
    now = now or utcnow()
    return [p for p in repository.playbooks(session)
            if p.enabled and repository.run_for(session, p.id, occurrence_of(p, now)) is None]


# --------------------------------------------------------------------------------------------- measurement
def _converted(session: Session, groups: list[tuple[int, datetime, datetime]]) -> set[tuple[int, datetime]]:
    """(customer, window start) of those with a counted order or a redemption inside their window."""
    if not groups:
        return set()
    ids = sorted({cid for cid, _s, _e in groups})
    start, end = min(s for _c, s, _e in groups), max(e for _c, _s, e in groups)
    events: dict[int, list[datetime]] = {}
    for cid, at in session.execute(select(Order.customer_id, Order.placed_at).where(
            Order.customer_id.in_(ids), Order.status.in_(COUNTED_STATUSES), Order.placed_at >= start,
            Order.placed_at <= end)):
        events.setdefault(cid, []).append(at)
    for cid, at in session.execute(select(Redemption.customer_id, Redemption.created_at).where(
            Redemption.customer_id.in_(ids), Redemption.created_at >= start, Redemption.created_at <= end)):
        events.setdefault(cid, []).append(at)
    return {(cid, s) for cid, s, e in groups if any(s <= at <= e for at in events.get(cid, ()))}


def _stats(customers: int, converted: int) -> GroupStats:
    rate = round(converted / customers, 4) if customers else 0.0
    return GroupStats(customers=customers, converted=converted, rate=rate)


def measure(session: Session, *, playbook_id: int, run_id: int | None = None) -> Measurement:
    """Treated vs holdout conversion, uplift with a 95 % CI (normal approximation), offer cost."""
    playbook = get(session, playbook_id=playbook_id)
    query = (select(Delivery.customer_id, Delivery.treated, Delivery.status, Delivery.reason, Delivery.offer_points,
                    Delivery.coupon_code, PlaybookRun.started_at)
             .join(PlaybookRun, PlaybookRun.id == Delivery.run_id).where(Delivery.playbook_id == playbook_id))
    if run_id is not None:
        query = query.where(Delivery.run_id == run_id)
    rows = session.execute(query).all()
    window = timedelta(days=playbook.window_days)
    converted = _converted(session, [(r.customer_id, r.started_at, r.started_at + window) for r in rows])
    counts = {True: [0, 0], False: [0, 0]}
    skipped: Counter[str] = Counter()
    for r in rows:
        counts[r.treated][0] += 1
        counts[r.treated][1] += (r.customer_id, r.started_at) in converted
        if r.status in (DeliveryStatus.SKIPPED, DeliveryStatus.FAILED):
            skipped[r.reason or r.status] += 1
    treated, holdout = _stats(*counts[True]), _stats(*counts[False])
    uplift = treated.rate - holdout.rate
    se = math.sqrt((treated.rate * (1 - treated.rate) / treated.customers if treated.customers else 0)
                   + (holdout.rate * (1 - holdout.rate) / holdout.customers if holdout.customers else 0))
    delivered = [r for r in rows if r.status in (DeliveryStatus.SENT, DeliveryStatus.WAITING_VISIT)]
    return Measurement(
        playbook_id=playbook_id, run_id=run_id, treated=treated, holdout=holdout, uplift=round(uplift, 4),
        ci95_low=round(uplift - Z95 * se, 4), ci95_high=round(uplift + Z95 * se, 4),
        offer_points=sum(r.offer_points for r in delivered),
        coupon_value=playbook.coupon_value * sum(1 for r in delivered if r.coupon_code),
        sent=len(delivered), skipped=dict(skipped))


def runs(session: Session, *, playbook_id: int) -> list[PlaybookRun]:
    return list(session.scalars(select(PlaybookRun).where(PlaybookRun.playbook_id == playbook_id)
                                .order_by(PlaybookRun.started_at.desc())))


# ------------------------------------------------------------------------------------------------ consent
def opt_out(session: Session, *, channel: str, sender_id: str | None, customer_id: int | None, kind: str,
            language: str, now: datetime | None = None) -> tuple[int | None, str]:
    """Opt a customer out at once (found by id, or by a verified channel identity); returns the confirmation.

    An unknown sender gets the same confirmation: nothing is ever sent to an unverified identity.
    """
    now = now or utcnow()
    begin_write(session)
    if customer_id is None and sender_id:
        customer_id = session.scalar(select(ChannelIdentity.customer_id).where(
            ChannelIdentity.channel == channel, ChannelIdentity.sender_id == sender_id))
    elif customer_id is not None and session.get(Customer, customer_id) is None:
        raise CustomerNotFound(customer_id)
    if customer_id is not None:
        prefs = repository.preference(session, customer_id, lock=True, create=True)
        assert prefs is not None  # created above, or by a concurrent request
        prefs.marketing_opt_out = True
        if kind in ("service", "all"):
            prefs.service_opt_out = True
        prefs.opted_out_at, prefs.opt_out_channel = now, channel[:16]
        session.flush()
    replies = OPT_OUT_ALL_REPLY if kind in ("service", "all") else OPT_OUT_REPLY
    return customer_id, replies["zh" if language == "zh" else "en"]


def preferences(session: Session, *, customer_id: int, default_timezone: str) -> MessagingPreference:
    """The customer's messaging preferences (the defaults until something was set; nothing is written)."""
    if session.get(Customer, customer_id) is None:
        raise CustomerNotFound(customer_id)
    found = repository.preference(session, customer_id)
    return found or MessagingPreference(customer_id=customer_id, marketing_opt_out=False, service_opt_out=False,
                                        opt_out_channel="", timezone=default_timezone)


def update_preferences(session: Session, *, customer_id: int, changes: PreferencesIn,
                       default_timezone: str) -> MessagingPreference:
    """Change the time zone (checked against the IANA database) or the switches; a re-subscription clears the
    opt-out record."""
    if changes.timezone is not None:
        try:
            ZoneInfo(changes.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            zone = changes.timezone
            raise ValidationFailed(f"Unknown time zone {zone!r} (use an IANA name such as Asia/Shanghai)",
                                   f"无法识别的时区 {zone!r}（请使用 IANA 名称，例如 Asia/Shanghai）") from error
    begin_write(session)
    if session.get(Customer, customer_id) is None:
        raise CustomerNotFound(customer_id)
    prefs = repository.preference(session, customer_id, lock=True, create=True, timezone=default_timezone)
    assert prefs is not None
    if changes.timezone is not None:
        prefs.timezone = changes.timezone
    if changes.marketing_opt_out is not None:
        prefs.marketing_opt_out = changes.marketing_opt_out
    if changes.service_opt_out is not None:
        prefs.service_opt_out = changes.service_opt_out
    if not prefs.marketing_opt_out and not prefs.service_opt_out:
        prefs.opted_out_at, prefs.opt_out_channel = None, ""
    session.flush()
    return prefs


def opt_in(session: Session, *, customer_id: int, marketing: bool, service: bool) -> None:
    begin_write(session)
    prefs = repository.preference(session, customer_id, lock=True, create=True)
    assert prefs is not None
    prefs.marketing_opt_out, prefs.service_opt_out = not marketing, not service
    session.flush()


def delivery_counts(session: Session, *, run_id: int) -> dict[str, int]:
    return {status: int(n) for status, n in session.execute(
        select(Delivery.status, func.count()).where(Delivery.run_id == run_id).group_by(Delivery.status))}
