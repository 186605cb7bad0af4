"""Phone + one-time-code verification and verified channel identities.

Rules: 6-digit code, valid 5 minutes; 3 wrong attempts lock the phone for 15 minutes
(423 `otp_locked`); the send answer is identical whether or not the phone belongs to a
customer; a channel identity is linked only after a successful verification.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import DomainError, NotFoundError, RateLimited, ValidationFailed
from crm_backend.customer import repository as customers
from crm_backend.identity.models import ChannelIdentity, OtpChallenge, OutboxMessage

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 3
LOCKOUT = timedelta(minutes=15)
MAX_SENDS_PER_HOUR = 10
_PHONE = re.compile(r"^1[3-9]\d{9}$")


class OtpInvalid(DomainError):
    keep_writes = True  # the request's unit commits the failed attempt despite the 400

    def __init__(self, attempts_left: int, reason: str = "wrong_code") -> None:
        super().__init__("otp_invalid", 400, "The code is wrong or has expired", "验证码错误或已过期",
                         {"attempts_left": attempts_left, "reason": reason})


class OtpLocked(DomainError):
    keep_writes = True  # the request's unit commits the lock-out despite the 423

    def __init__(self, locked_until: datetime) -> None:
        minutes = max(1, int((locked_until - utcnow()).total_seconds() // 60) + 1)
        super().__init__("otp_locked", 423, f"Too many wrong codes; try again in {minutes} minutes",
                         f"验证码错误次数过多，请 {minutes} 分钟后再试", {"locked_until": locked_until.isoformat()})


def normalize_phone(raw: str) -> str:
    """Mainland mobile numbers: strip spaces, dashes and a +86/0086 prefix; 422 otherwise."""
    phone = re.sub(r"[\s\-()]", "", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix):]
    if not _PHONE.match(phone):
        raise ValidationFailed("Phone must be an 11-digit mainland mobile number", "手机号须为 11 位中国大陆手机号码",
                               {"field": "phone"})
    return phone


def _code_hash(settings: Settings, phone: str, code: str) -> str:
    return hmac.new(settings.crm_secret_key.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _active_lock(session: Session, phone: str, now: datetime) -> datetime | None:
    return session.scalar(select(func.max(OtpChallenge.locked_until)).where(
        OtpChallenge.phone == phone, OtpChallenge.locked_until > now))


def send_code(session: Session, *, settings: Settings, phone: str, channel: str, sender_id: str,
              now: datetime | None = None) -> int:
    """Create a challenge and deliver the code (outbox) if the phone is a customer's; return seconds valid."""
    now = now or utcnow()
    phone = normalize_phone(phone)
    # Writer from the first read: parallel sends queue on the lock instead of failing on a stale snapshot.
    begin_write(session)
    locked_until = _active_lock(session, phone, now)
    if locked_until:
        raise OtpLocked(locked_until)
    _check_send_caps(session, settings=settings, phone=phone, channel=channel, sender_id=sender_id, now=now)
    customer = customers.by_phone(session, phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(OtpChallenge(phone=phone, channel=channel, sender_id=sender_id,
                             customer_id=customer.id if customer else None, code_hash=_code_hash(settings, phone, code),
                             attempts=0, expires_at=now + CODE_TTL, created_at=now))
    if customer is not None:
        deliver(session, settings=settings, phone=phone, code=code)
    session.flush()
    return int(CODE_TTL.total_seconds())


def _sends_since(session: Session, since: datetime, *conditions: Any) -> int:
    return session.scalar(select(func.count()).select_from(OtpChallenge).where(
        OtpChallenge.created_at > since, *conditions)) or 0


def _check_send_caps(session: Session, *, settings: Settings, phone: str, channel: str, sender_id: str,
                     now: datetime) -> None:
    """429 when the phone, the conversation or the whole CRM sent too many codes (SMS pumping)."""
    hour_ago = now - timedelta(hours=1)
    if _sends_since(session, hour_ago, OtpChallenge.phone == phone) >= MAX_SENDS_PER_HOUR:
        raise RateLimited(retry_after=3600)
    if _sends_since(session, hour_ago, OtpChallenge.channel == channel,
                    OtpChallenge.sender_id == sender_id) >= settings.otp_sends_per_conversation_per_hour:
        raise RateLimited(retry_after=3600)
    if _sends_since(session, now - timedelta(minutes=1)) >= settings.otp_sends_per_minute:
        raise RateLimited(retry_after=60)


def deliver(session: Session, *, settings: Settings, phone: str, code: str) -> None:
    """Hand the code to the configured sender. Only `outbox` exists; real SMS gateways plug in here."""
    if settings.otp_sender != "outbox":
        raise DomainError("otp_sender_unavailable", 503, f"OTP sender {settings.otp_sender!r} is not configured",
                          "验证码发送渠道未配置")
    session.add(OutboxMessage(channel="sms", recipient=phone,
                              body=f"【Kefu】验证码 {code}，5分钟内有效。Your Kefu code is {code} (valid 5 minutes)."))


def verify_code(session: Session, *, settings: Settings, phone: str, code: str, channel: str, sender_id: str,
                now: datetime | None = None) -> int:
    """Check the latest code for this phone + sender; link the channel identity; return the customer id."""
    now = now or utcnow()
    phone = normalize_phone(phone)
    begin_write(session)
    locked_until = _active_lock(session, phone, now)
    if locked_until:
        raise OtpLocked(locked_until)
    challenge = session.scalars(
        select(OtpChallenge)
        .where(OtpChallenge.phone == phone, OtpChallenge.channel == channel, OtpChallenge.sender_id == sender_id,
               OtpChallenge.consumed_at.is_(None))
        .order_by(OtpChallenge.created_at.desc(), OtpChallenge.id.desc())
    ).first()
    if challenge is None or challenge.expires_at <= now:
        raise OtpInvalid(0, "expired" if challenge else "no_code")
    good = challenge.customer_id is not None and hmac.compare_digest(
        challenge.code_hash, _code_hash(settings, phone, code.strip()))
    if not good:
        challenge.attempts += 1
        session.flush()
        # Count failures across fresh codes too, so requesting a new code does not reset the budget.
        failures = session.scalar(select(func.coalesce(func.sum(OtpChallenge.attempts), 0)).where(
            OtpChallenge.phone == phone, OtpChallenge.created_at > now - LOCKOUT)) or 0
        if failures >= MAX_ATTEMPTS:
            challenge.locked_until = now + LOCKOUT
            session.flush()
            raise OtpLocked(challenge.locked_until)
        raise OtpInvalid(MAX_ATTEMPTS - failures)
    assert challenge.customer_id is not None
    challenge.consumed_at = now
    link_identity(session, channel=channel, sender_id=sender_id, customer_id=challenge.customer_id, now=now)
    session.flush()
    return challenge.customer_id


def link_identity(session: Session, *, channel: str, sender_id: str, customer_id: int, now: datetime) -> None:
    """Point channel + sender at a customer (a later verification re-points it)."""
    identity = session.scalars(select(ChannelIdentity).where(ChannelIdentity.channel == channel,
                                                             ChannelIdentity.sender_id == sender_id)).first()
    if identity is None:
        session.add(ChannelIdentity(channel=channel, sender_id=sender_id, customer_id=customer_id, verified_at=now,
                                    created_at=now))
    else:
        identity.customer_id = customer_id
        identity.verified_at = now


def customer_for_channel(session: Session, *, channel: str, sender_id: str) -> int:
    """Customer id of a verified channel identity; 404 `not_found` otherwise."""
    customer_id = session.scalar(select(ChannelIdentity.customer_id).where(
        ChannelIdentity.channel == channel, ChannelIdentity.sender_id == sender_id))
    if customer_id is None:
        raise NotFoundError("No verified customer for this channel user", "该渠道用户尚未验证身份")
    return customer_id


def outbox(session: Session, *, recipient: str | None, limit: int, offset: int) -> tuple[list[OutboxMessage], int]:
    query = select(OutboxMessage)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)))
    return rows, total
