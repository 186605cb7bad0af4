"""Points expire 12 months after earning, oldest first; expiry is idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_backend.customer.models import Customer
from crm_backend.points import service
from crm_backend.points.errors import InsufficientPoints
from crm_backend.points.models import PointsEntry


def _new_customer(session):
    customer = Customer(name_en="Expiry Test", preferred_language="en", tier="regular")
    session.add(customer)
    session.flush()
    return customer.id


def test_fifo_expiry(session, demo_now):
    cid = _new_customer(session)
    t0 = demo_now - timedelta(days=400)
    service.adjust(session, customer_id=cid, points=1000, reason="old", key="a", now=t0)
    service.adjust(session, customer_id=cid, points=500, reason="newer", key="b", now=demo_now - timedelta(days=340))
    # 600 spent after the first credit: taken from the oldest credit, so 400 of it are left to expire.
    account = service.lock_account(session, customer_id=cid)
    assert account.balance == 1500
    service.adjust(session, customer_id=cid, points=-600, reason="spent", key="c", now=t0 + timedelta(days=10))
    assert service.lock_account(session, customer_id=cid).balance == 900
    # Reading the balance expires the 400 left of the old credit first, so only spendable points show.
    summary = service.summary(session, customer_id=cid, now=demo_now)
    assert summary.balance == 500
    assert [lot.points for lot in summary.expiring_soon] == [500]
    assert summary.expiring_total_30d == 500
    assert all(lot.expires_at > demo_now for lot in summary.expiring_soon)
    assert service.expire_customer(session, customer_id=cid, now=demo_now) == 0  # idempotent
    later = demo_now + timedelta(days=40)
    assert service.expire_customer(session, customer_id=cid, now=later) == 500
    assert service.summary(session, customer_id=cid, now=later).balance == 0
    kinds = session.scalars(select(PointsEntry.kind).where(PointsEntry.customer_id == cid)
                            .order_by(PointsEntry.id)).all()
    assert kinds == ["adjust", "adjust", "adjust", "expire", "expire"]


def test_redemption_cannot_spend_expired_points(session, demo_now):
    cid = _new_customer(session)
    service.adjust(session, customer_id=cid, points=600, reason="old", key="a",
                   now=demo_now - timedelta(days=370))
    with pytest.raises(InsufficientPoints):
        service.redeem(session, customer_id=cid, reward_code="COUPON10", quantity=1, now=demo_now)


def test_expire_all(session, demo_now):
    cid = _new_customer(session)
    service.adjust(session, customer_id=cid, points=300, reason="old", key="a", now=demo_now - timedelta(days=366))
    expired = service.expire_all(session, now=demo_now)
    assert expired >= 300
    assert service.summary(session, customer_id=cid, now=demo_now).balance == 0
    assert service.expire_all(session, now=demo_now) == 0
