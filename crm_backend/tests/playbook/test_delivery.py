"""Each shipped playbook end to end against the stand-in chat-app APIs and the widget; consent and limits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.security import create_customer_token
from crm_backend.playbook import delivery, repository, service
from crm_backend.playbook.channels import Senders
from crm_backend.playbook.models import Delivery, Playbook
from crm_backend.points.models import PointsEntry
from crm_backend.tests.playbook.conftest import add_order, make_customer, outreach_settings, sender
from testing.standin_api import StandIn


def playbook(session: Session, key: str, *, holdout: float = 0.0) -> Playbook:
    service.ensure_defaults(session)
    found = repository.by_key(session, key)
    assert found is not None
    found.holdout_pct = holdout
    session.flush()
    return found


def run_all(session: Session, pb: Playbook, senders: Senders, now: datetime) -> dict[int, Delivery]:
    started = service.start_run(session, playbook_id=pb.id, now=now)
    session.commit()  # as the route does before queueing
    for delivery_id in started.to_send:
        delivery.deliver(session, delivery_id=delivery_id, senders=senders, now=now)
    rows = session.scalars(select(Delivery).where(Delivery.run_id == started.run.id))
    return {d.customer_id: d for d in rows}


def offer_entries(session: Session, customer_id: int) -> list[PointsEntry]:
    return list(session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer_id,
                                                          PointsEntry.idempotency_key.like("playbook%"))))


def test_win_back_sends_on_telegram_and_books_points_once(session: Session, senders: Senders, standin: StandIn,
                                                          now: datetime) -> None:
    target = make_customer(session, now, stage="decline", churn=0.8, channel="telegram")
    bystander = make_customer(session, now, stage="retention", churn=0.1, channel="telegram")
    rows = run_all(session, playbook(session, "win_back"), senders, now)
    assert bystander.id not in rows
    sent = rows[target.id]
    assert (sent.status, sent.channel, sent.offer_points) == ("sent", "telegram", 200)
    calls = [c for c in standin.sent("telegram", "sendMessage") if c.body["chat_id"] == sender("telegram", target.id)]
    assert len(calls) == 1 and "200" in calls[0].body["text"] and target.name_zh in calls[0].body["text"]
    # The job retried (same row again, a duplicate enqueue): no second message, no second booking.
    assert delivery.deliver(session, delivery_id=sent.id, senders=senders, now=now).status == "sent"
    again = service.start_run(session, playbook_id=sent.playbook_id, now=now)
    assert sent.id not in again.to_send
    assert len([c for c in standin.sent("telegram", "sendMessage")
                if c.body["chat_id"] == sender("telegram", target.id)]) == 1
    assert [e.points for e in offer_entries(session, target.id)] == [200]


def test_upgrade_nudge_on_slack_in_english(session: Session, senders: Senders, standin: StandIn,
                                           now: datetime) -> None:
    near = make_customer(session, now, lang="en", channel="slack", spend=Decimal("1700"))
    far = make_customer(session, now, lang="en", channel="slack", spend=Decimal("500"))
    rows = run_all(session, playbook(session, "upgrade_nudge"), senders, now)
    assert far.id not in rows and rows[near.id].status == "sent"
    text = [c.body["text"] for c in standin.sent("slack", "chat.postMessage")
            if c.body["channel"] == f"slack-user-{near.id}"]
    assert text == [f"{near.name_en}, spend 300 CNY more to reach Silver and its exclusive benefits."]


def test_birthday_on_wechat_within_48_hours_else_skipped_with_reason(session: Session, senders: Senders,
                                                                     standin: StandIn, now: datetime) -> None:
    this_month = date(1990, now.month, 1)
    recent = make_customer(session, now, birthday=this_month, channel="wechat", contact_days_ago=1)
    silent = make_customer(session, now, birthday=this_month, channel="wechat", contact_days_ago=3)
    rows = run_all(session, playbook(session, "birthday_double_points"), senders, now)
    assert rows[recent.id].status == "sent" and rows[recent.id].channel == "wechat"
    assert (rows[silent.id].status, rows[silent.id].reason) == ("skipped", "wechat_window_closed")
    sent_to = [c.body["touser"] for c in standin.sent("wechat", "message/custom/send")]
    assert f"wechat-user-{recent.id}" in sent_to and f"wechat-user-{silent.id}" not in sent_to


def test_csat_check_in_seven_days_after_delivery_shows_in_the_widget_once(
        session: Session, senders: Senders, client: TestClient, now: datetime) -> None:
    customer = make_customer(session, now, lang="en")
    order = add_order(session, customer, placed_at=now - timedelta(days=10), delivered_at=now - timedelta(days=7))
    too_early = add_order(session, customer, placed_at=now - timedelta(days=5), delivered_at=now - timedelta(days=3))
    rows = run_all(session, playbook(session, "csat_check_in"), senders, now)
    assert rows[customer.id].status == "waiting_visit" and order.order_no in rows[customer.id].text
    assert too_early.order_no not in rows[customer.id].text
    token = create_customer_token(customer.id, get_settings().customer_token_secret)
    first = client.get("/api/v1/widget/outreach", headers={"X-Customer-Token": token})
    assert first.status_code == 200
    assert [m["text"] for m in first.json()] == [
        f"{customer.name_en}, your order {order.order_no} arrived a week ago. How satisfied are you? Reply 1–5."]
    assert first.headers["access-control-allow-origin"] == "*", "the widget asks from the shop's own origin"
    assert client.get("/api/v1/widget/outreach", headers={"X-Customer-Token": token}).json() == []
    preflight = client.options("/api/v1/widget/outreach", headers={"Origin": "https://shop.example",
                                                                  "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204 and "X-Customer-Token" in preflight.headers["access-control-allow-headers"]
    assert client.get("/api/v1/widget/outreach").status_code == 401


def test_welcome_coupon_for_new_customers(session: Session, senders: Senders, now: datetime) -> None:
    new = make_customer(session, now, joined_days_ago=2)
    old = make_customer(session, now, joined_days_ago=60)
    rows = run_all(session, playbook(session, "welcome"), senders, now)
    assert old.id not in rows
    row = rows[new.id]
    assert row.status == "waiting_visit" and row.coupon_code and row.coupon_code in row.text and "20 元" in row.text
    assert service.measure(session, playbook_id=row.playbook_id, run_id=row.run_id).coupon_value >= 20


@pytest.mark.parametrize("channel", ["telegram", "slack", "wechat", "widget"])
def test_opt_out_on_every_channel_stops_marketing_but_not_service(
        session: Session, senders: Senders, standin: StandIn, client: TestClient,
        service_headers: dict[str, str], now: datetime, channel: str) -> None:
    chat_app = None if channel == "widget" else channel
    customer = make_customer(session, now, stage="decline", churn=0.9, channel=chat_app, contact_days_ago=0.5)
    add_order(session, customer, placed_at=now - timedelta(days=12), delivered_at=now - timedelta(days=7))
    body = ({"channel": channel, "customer_id": customer.id} if channel == "widget"
            else {"channel": channel, "sender_id": sender(channel, customer.id)})
    answer = client.post("/api/v1/messaging/opt-out", json=body, headers={**service_headers, "Accept-Language": "zh"})
    assert answer.status_code == 200 and answer.json()["customer_id"] == customer.id
    assert answer.json()["message"].startswith("已为您退订营销消息")
    english = client.post("/api/v1/messaging/opt-out", json=body, headers=service_headers).json()
    assert english["message"].startswith("You are unsubscribed from marketing")
    assert client.post("/api/v1/messaging/opt-out", json=body).status_code == 401
    before = len(standin.calls)
    rows = run_all(session, playbook(session, "win_back"), senders, now)
    assert (rows[customer.id].status, rows[customer.id].reason) == ("skipped", "opted_out")
    assert not offer_entries(session, customer.id)
    service_rows = run_all(session, playbook(session, "csat_check_in"), senders, now)
    assert service_rows[customer.id].status in ("sent", "waiting_visit")
    new_calls = standin.calls[before:]
    assert all("再消费" not in str(c.body) and "好久不见" not in str(c.body) for c in new_calls)


def test_service_switch_is_separate(session: Session, senders: Senders, now: datetime) -> None:
    customer = make_customer(session, now)
    add_order(session, customer, placed_at=now - timedelta(days=12), delivered_at=now - timedelta(days=7))
    service.opt_out(session, channel="widget", sender_id=None, customer_id=customer.id, kind="service",
                    language="en", now=now)
    rows = run_all(session, playbook(session, "csat_check_in"), senders, now)
    assert (rows[customer.id].status, rows[customer.id].reason) == ("skipped", "service_opted_out")


def test_frequency_cap_one_marketing_message_per_week(session: Session, senders: Senders, now: datetime) -> None:
    customer = make_customer(session, now, stage="decline", churn=0.9, joined_days_ago=3)
    first = run_all(session, playbook(session, "welcome"), senders, now)
    second = run_all(session, playbook(session, "win_back"), senders, now + timedelta(hours=1))
    assert first[customer.id].status == "waiting_visit"
    assert (second[customer.id].status, second[customer.id].reason) == ("skipped", "frequency_cap")


def test_quiet_hours_defer_until_nine_local_time(session: Session, senders: Senders, now: datetime) -> None:
    customer = make_customer(session, now, stage="decline", churn=0.9, channel="telegram")
    late = now + timedelta(hours=10)  # 22:00 in Shanghai
    started = service.start_run(session, playbook_id=playbook(session, "win_back").id, now=late)
    session.commit()
    row = session.scalar(select(Delivery).where(Delivery.run_id == started.run.id,
                                                Delivery.customer_id == customer.id))
    assert row is not None
    outcome = delivery.deliver(session, delivery_id=row.id, senders=senders, now=late)
    assert outcome.status == "deferred" and outcome.delay_seconds == 11 * 3600
    assert row.status == "pending" and not offer_entries(session, customer.id)


def test_channel_down_is_retried_then_failed_and_the_offer_withdrawn(session: Session, standin: StandIn,
                                                                      now: datetime) -> None:
    customer = make_customer(session, now, stage="decline", churn=0.9, channel="telegram")
    broken = Senders(outreach_settings("http://127.0.0.1:9", max_attempts=2, send_timeout_seconds=2))
    started = service.start_run(session, playbook_id=playbook(session, "win_back").id, now=now)
    row = session.scalar(select(Delivery).where(Delivery.run_id == started.run.id,
                                                Delivery.customer_id == customer.id))
    assert row is not None
    first = delivery.deliver(session, delivery_id=row.id, senders=broken, now=now)
    assert first.status == "retry" and first.delay_seconds == 2 and row.status == "pending"
    assert delivery.deliver(session, delivery_id=row.id, senders=broken, now=now).status == "failed"
    assert row.reason.startswith("network")
    assert sorted(e.points for e in offer_entries(session, customer.id)) == [-200, 200]


def test_a_row_left_sending_by_a_killed_worker_is_never_resent(session: Session, senders: Senders,
                                                               standin: StandIn, now: datetime) -> None:
    customer = make_customer(session, now, stage="decline", churn=0.9, channel="telegram")
    started = service.start_run(session, playbook_id=playbook(session, "win_back").id, now=now)
    row = session.scalar(select(Delivery).where(Delivery.run_id == started.run.id,
                                                Delivery.customer_id == customer.id))
    assert row is not None
    row.status, row.claimed_at = "sending", now - timedelta(minutes=10)
    session.flush()
    assert delivery.recover_interrupted(session, now=now) >= 1
    assert delivery.deliver(session, delivery_id=row.id, senders=senders, now=now).status == "failed"
    assert row.reason == "interrupted"
    assert not [c for c in standin.calls if c.body.get("chat_id") == sender("telegram", customer.id)]


def test_the_bot_token_never_reaches_the_log(session: Session, senders: Senders, now: datetime,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    customer = make_customer(session, now, stage="decline", churn=0.9, channel="telegram")
    rows = run_all(session, playbook(session, "win_back"), senders, now)
    assert rows[customer.id].status == "sent"
    assert "tg-test" not in caplog.text
