"""100 concurrent redemptions by one customer never overspend — real threads, real commits,
on SQLite (BEGIN IMMEDIATE) and PostgreSQL (SELECT … FOR UPDATE)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.api.routes.rewards import redeem_once
from crm_backend.core.db import committed
from crm_backend.points import service
from crm_backend.points.errors import InsufficientPoints, OutOfStock
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward
from crm_backend.points.schemas import RedemptionIn, RedemptionOut

CUSTOMER = 4  # the new customer: 199 points from the demo data


def _redeem(session, key, reward="COUPON10"):
    """What POST /customers/{id}/redemptions runs, in a committed write unit."""
    with committed(session):
        return redeem_once(session, customer_id=CUSTOMER, body=RedemptionIn(reward_code=reward, quantity=1), key=key)


def _adjust(session, customer_id, points, key):
    with committed(session):
        return service.adjust(session, customer_id=customer_id, points=points, reason="test", key=key)


def _run_concurrently(engine, count, call):
    barrier = threading.Barrier(count)

    def worker(index):
        barrier.wait()
        with Session(engine, expire_on_commit=False) as session:
            try:
                return call(session, index)
            except (InsufficientPoints, OutOfStock) as error:
                return error.code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def _state(engine, customer_id):
    with Session(engine) as session:
        balance = session.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))
        ledger = session.scalar(select(func.sum(PointsEntry.points)).where(PointsEntry.customer_id == customer_id))
        redemptions = session.scalar(select(func.count()).select_from(Redemption)
                                     .where(Redemption.customer_id == customer_id))
        return balance, ledger, redemptions


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_100_concurrent_redemptions_never_overspend(fresh_engine_factory, kind):
    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        _adjust(session, CUSTOMER, 5_000 - 199, "top-up")
    results = _run_concurrently(engine, 100, lambda session, i: _redeem(session, f"k{i}"))
    successes = [r for r in results if isinstance(r, RedemptionOut)]
    assert len(successes) == 10, results
    assert results.count("insufficient_points") == 90
    assert sorted(r.balance_after for r in successes) == list(range(0, 5000, 500))
    assert _state(engine, CUSTOMER) == (0, 0, 10)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_redemptions_respect_stock(fresh_engine_factory, kind):
    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        _adjust(session, CUSTOMER, 1_000_000, "top-up")
    results = _run_concurrently(engine, 60, lambda session, i: _redeem(session, f"lounge{i}", "VIPLOUNGE"))
    assert sum(isinstance(r, RedemptionOut) for r in results) == 5
    assert results.count("out_of_stock") == 55
    with Session(engine) as session:
        assert session.scalar(select(Reward.stock).where(Reward.code == "VIPLOUNGE")) == 0
    balance, ledger, redemptions = _state(engine, CUSTOMER)
    assert balance == ledger == 1_000_199 - 5 * 5000 and redemptions == 5


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_retries_with_one_key_redeem_once(fresh_engine_factory, kind):
    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        _adjust(session, CUSTOMER, 10_000, "top-up")
    results = _run_concurrently(engine, 30, lambda session, i: _redeem(session, "same-key"))
    assert all(isinstance(r, RedemptionOut) and r == results[0] for r in results)
    assert _state(engine, CUSTOMER) == (10_199 - 500, 10_199 - 500, 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_first_writes_for_a_customer_without_account(fresh_engine_factory, kind):
    from crm_backend.customer.models import Customer

    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        customer = Customer(name_en="No Account Yet", preferred_language="en", tier="regular")
        session.add(customer)
        session.commit()
        cid = customer.id
    results = _run_concurrently(engine, 20, lambda session, i: _adjust(session, cid, 10, f"race{i}").points)
    assert results == [10] * 20
    assert _state(engine, cid)[:2] == (200, 200)


def _redeem_in_process(url: str, worker: int, count: int) -> list[str]:
    """Runs in a separate process: its own engine, `count` redemptions as fast as possible."""
    from crm_backend.core.db import make_engine

    engine = make_engine(url)
    outcomes = []
    try:
        for i in range(count):
            with Session(engine) as session:
                try:
                    _redeem(session, f"p{worker}-{i}")
                    outcomes.append("ok")
                except InsufficientPoints as error:
                    outcomes.append(error.code)
    finally:
        engine.dispose()
    return outcomes


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_redemptions_from_4_processes_never_overspend(fresh_engine_factory, kind):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        _adjust(session, CUSTOMER, 7_500 - 199, "top-up")
    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcomes = [o for part in pool.map(_redeem_in_process, [url] * 4, range(4), [25] * 4) for o in part]
    assert outcomes.count("ok") == 15
    assert outcomes.count("insufficient_points") == 85
    assert _state(engine, CUSTOMER) == (0, 0, 15)
