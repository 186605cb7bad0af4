"""Playbook test helpers: customers built for one audience, real stand-in chat-app APIs, a fixed noon clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.identity.models import ChannelIdentity
from crm_backend.interaction.models import Interaction
from crm_backend.order.models import Order, ShippingEvent
from crm_backend.playbook.channels import Senders
from crm_backend.scoring.models import CustomerScore
from testing.outreach import outreach_settings
from testing.standin_api import StandIn

_phones = count(1)
# 04:00 UTC = 12:00 in Shanghai: outside quiet hours for the default time zone.
NOON = datetime.combine(date.today(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)


@pytest.fixture
def now() -> datetime:
    return NOON


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def senders(standin: StandIn) -> Iterator[Senders]:
    standin.calls.clear()
    built = Senders(outreach_settings(standin.base_url))
    yield built
    built.client.close()


def sender(channel: str, customer_id: int) -> str:
    """The chat-app user id of a test customer (Telegram chat ids are numbers)."""
    return str(700_000 + customer_id) if channel == "telegram" else f"{channel}-user-{customer_id}"


def make_customer(session: Session, now: datetime, *, lang: str = "zh", tier: str = "regular",
                  segment: str = "secondary", stage: str = "retention", churn: float = 0.2,
                  birthday: date | None = None, joined_days_ago: int = 400, channel: str | None = None,
                  spend: Decimal | None = None, contact_days_ago: float | None = None) -> Customer:
    n = next(_phones)
    customer = Customer(name_zh=f"测试{n}", name_en=f"Tester {n}", phone=f"139{n:08d}", preferred_language=lang,
                        tier=tier, birthday=birthday, created_at=now - timedelta(days=joined_days_ago))
    session.add(customer)
    session.flush()
    session.add(CustomerScore(customer_id=customer.id, r=3, f=3, m=3, clv=100.0, current_value=0.3,
                              potential_value=0.3, value_segment=segment, lifecycle_stage=stage, satisfaction=70.0,
                              churn_risk=churn, churn_reasons=[], explanation={}, computed_at=now))
    if channel is not None:
        session.add(ChannelIdentity(channel=channel, sender_id=sender(channel, customer.id),
                                    customer_id=customer.id, verified_at=now - timedelta(days=30)))
    if contact_days_ago is not None:
        session.add(Interaction(conversation_id=f"pb-conv-{customer.id}-{n}", channel=channel or "socketio",
                                customer_id=customer.id, intents=[], created_at=now - timedelta(days=contact_days_ago),
                                updated_at=now - timedelta(days=contact_days_ago)))
    if spend is not None:
        add_order(session, customer, placed_at=now - timedelta(days=60), total=spend)
    session.flush()
    return customer


def add_order(session: Session, customer: Customer, *, placed_at: datetime, total: Decimal = Decimal("100"),
              delivered_at: datetime | None = None) -> Order:
    order = Order(order_no=f"KF{9_000_0000 + next(_phones):08d}"[:10], customer_id=customer.id, status="delivered"
                  if delivered_at else "paid", shipping_status="delivered" if delivered_at else "not_shipped",
                  total=total, placed_at=placed_at, created_at=placed_at)
    session.add(order)
    session.flush()
    if delivered_at is not None:
        session.add(ShippingEvent(order_id=order.id, at=delivered_at, status="delivered", location="上海",
                                  description_zh="已签收", description_en="Delivered"))
        session.flush()
    return order
