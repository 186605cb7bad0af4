"""The playbook scheduler: due playbooks start once per day however many CRM processes tick, on its own timer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.playbook import repository, service
from crm_backend.playbook.models import Delivery, PlaybookRun
from crm_backend.playbook.queue import Queue
from crm_backend.playbook.scheduler import PlaybookScheduler, run_due
from crm_backend.tests.playbook.conftest import add_order, make_customer, outreach_settings, sender
from testing.standin_api import StandIn


def test_run_due_starts_each_playbook_once_a_day(fresh_engine_factory: Callable[[str], Engine],
                                                 standin: StandIn, now: datetime) -> None:
    engine = fresh_engine_factory("sqlite")
    with Session(engine) as session:
        service.ensure_defaults(session)
        make_customer(session, now, stage="decline", churn=0.9, channel="telegram")
        win_back = repository.by_key(session, "win_back")
        assert win_back is not None
        service.start_run(session, playbook_id=win_back.id, now=now)  # already started by hand today
        session.commit()
    factory = sessionmaker(engine, expire_on_commit=False)
    queue = Queue(None, sessions=factory, settings=outreach_settings(standin.base_url))
    try:
        first = run_due(factory, queue, now=now)
        queue.join(30)
        assert "win_back" not in first and {"upgrade_nudge", "csat_check_in", "welcome"} <= set(first)
        assert run_due(factory, queue, now=now) == {}
        assert set(run_due(factory, queue, now=now + timedelta(days=1))) >= {"win_back", "csat_check_in"}
    finally:
        queue.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_processes_start_each_playbook_once(fresh_engine_factory: Callable[[str], Engine],
                                                       standin: StandIn, now: datetime, kind: str) -> None:
    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        service.ensure_defaults(session)
        customers = [make_customer(session, now, stage="decline", churn=0.9, channel="telegram").id
                     for _ in range(20)]
        session.commit()
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def process() -> None:
        # Each thread stands for one CRM process: its own engine connections, its own queue (no worker).
        queue = Queue(None, start_worker=False, settings=outreach_settings(standin.base_url))
        try:
            barrier.wait()
            results.append(run_due(sessionmaker(engine, expire_on_commit=False), queue, now=now))
        except BaseException as error:  # reported below: a lost claim must not raise
            errors.append(error)
        finally:
            queue.close()

    threads = [threading.Thread(target=process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    started = [key for result in results for key in result]
    assert sorted(started) == sorted(set(started)) and "win_back" in started
    queued_win_back = next(r["win_back"] for r in results if "win_back" in r)
    with Session(engine) as session:
        runs = session.scalars(select(PlaybookRun.playbook_id)).all()
        assert len(runs) == len(set(runs)) == len(started)
        rows = session.scalar(select(func.count(Delivery.id)).where(Delivery.customer_id.in_(customers),
                                                                     Delivery.status == "pending"))
    assert rows == queued_win_back > 0


def test_event_playbook_catches_up_missed_days_without_repeating(fresh_engine_factory: Callable[[str], Engine],
                                                                 standin: StandIn, now: datetime) -> None:
    engine = fresh_engine_factory("sqlite")
    with Session(engine) as session:
        service.ensure_defaults(session)
        customer = make_customer(session, now, channel="telegram")
        missed = add_order(session, customer, placed_at=now - timedelta(days=12), delivered_at=now - timedelta(days=9))
        today = add_order(session, customer, placed_at=now - timedelta(days=10), delivered_at=now - timedelta(days=7))
        too_old = add_order(session, customer, placed_at=now - timedelta(days=14),
                            delivered_at=now - timedelta(days=10))
        session.commit()
        ids = {missed.id: "missed", today.id: "today", too_old.id: "too_old"}
        customer_id = customer.id
    factory = sessionmaker(engine, expire_on_commit=False)
    queue = Queue(None, start_worker=False, settings=outreach_settings(standin.base_url))
    try:
        run_due(factory, queue, now=now, event_catchup_days=2)
        run_due(factory, queue, now=now + timedelta(days=1), event_catchup_days=2)
    finally:
        queue.close()
    with Session(engine) as session:
        keys = session.scalars(select(Delivery.occurrence_key).where(Delivery.customer_id == customer_id)).all()
    reached = sorted(ids[int(key.split(":")[1])] for key in keys if key.startswith("order:"))
    assert reached == ["missed", "today"]


def test_scheduler_thread_starts_due_playbooks_on_its_own(fresh_engine_factory: Callable[[str], Engine],
                                                          standin: StandIn, now: datetime) -> None:
    engine = fresh_engine_factory("sqlite")
    with Session(engine) as session:
        service.ensure_defaults(session)
        session.commit()
    factory = sessionmaker(engine, expire_on_commit=False)
    queue = Queue(None, sessions=factory, settings=outreach_settings(standin.base_url))
    scheduler = PlaybookScheduler(3600, 0, event_catchup_days=2, sessions=factory, queue=lambda: queue)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Session(engine) as session:
                due = service.due_playbooks(session)
            if not due:
                break
            time.sleep(0.1)
    finally:
        scheduler.stop()
        queue.close()
    with Session(engine) as session:
        enabled = [p.id for p in repository.playbooks(session) if p.enabled]
        started = session.scalars(select(PlaybookRun.playbook_id)).all()
    assert enabled and sorted(started) == sorted(enabled)


def test_every_shipped_playbook_runs_end_to_end_from_the_scheduler(fresh_engine_factory: Callable[[str], Engine],
                                                                  standin: StandIn, now: datetime) -> None:
    """The timer's own path: due playbooks claimed, planned, queued, delivered by the in-process worker on the
    stand-in chat-app APIs or left for the widget."""
    engine = fresh_engine_factory("postgresql")
    with Session(engine) as session:
        service.ensure_defaults(session)
        for found in repository.playbooks(session):
            found.holdout_pct = 0.0
        targets = {
            "win_back": make_customer(session, now, stage="decline", churn=0.9, channel="telegram").id,
            "upgrade_nudge": make_customer(session, now, lang="en", channel="slack", spend=Decimal("1700")).id,
            "birthday_double_points": make_customer(session, now, birthday=date(1990, now.month, 1),
                                                    channel="wechat", contact_days_ago=1).id,
            "welcome": make_customer(session, now, joined_days_ago=2).id,
        }
        checked = make_customer(session, now, lang="en")
        add_order(session, checked, placed_at=now - timedelta(days=10), delivered_at=now - timedelta(days=7))
        targets["csat_check_in"] = checked.id
        session.commit()
    standin.calls.clear()
    factory = sessionmaker(engine, expire_on_commit=False)
    queue = Queue(None, sessions=factory, settings=outreach_settings(standin.base_url))
    try:
        started = run_due(factory, queue, now=now, event_catchup_days=2)
        queue.join(60)
    finally:
        queue.close()
    assert set(started) == set(targets)
    with Session(engine) as session:
        rows = {(d.playbook_id, d.customer_id): d for d in session.scalars(select(Delivery))}
        ids = {p.key: p.id for p in repository.playbooks(session)}
    got = {key: (rows[(ids[key], cid)].status, rows[(ids[key], cid)].channel) for key, cid in targets.items()}
    assert got == {"win_back": ("sent", "telegram"), "upgrade_nudge": ("sent", "slack"),
                   "birthday_double_points": ("sent", "wechat"), "welcome": ("waiting_visit", "widget"),
                   "csat_check_in": ("waiting_visit", "widget")}
    assert [c.body["chat_id"] for c in standin.sent("telegram", "sendMessage")] == [
        sender("telegram", targets["win_back"])]
    assert [c.body["channel"] for c in standin.sent("slack", "chat.postMessage")] == [
        sender("slack", targets["upgrade_nudge"])]
    assert [c.body["touser"] for c in standin.sent("wechat", "message/custom/send")] == [
        sender("wechat", targets["birthday_double_points"])]
