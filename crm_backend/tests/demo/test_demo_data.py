"""The named demo customers have the documented facts; generation is deterministic; seed via the CLI."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from crm_backend.customer.models import Customer
from crm_backend.demo.generator import generated_customers, named_customers
from crm_backend.order.models import Order
from crm_backend.points import service as points

ROOT = Path(__file__).resolve().parents[3]


def _orders(session, customer_id):
    return list(session.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at)))


def test_named_customers(session, demo_now):
    names = {c.id: (c.name_zh, c.name_en, c.tier, c.phone, c.preferred_language)
             for c in session.scalars(select(Customer).where(Customer.id <= 5))}
    assert names == {
        1: ("王伟", "Wang Wei", "diamond", "13800000001", "zh"),
        2: ("李娜", "Li Na", "silver", "13800000002", "zh"),
        3: (None, "Emily Carter", "gold", "13800000003", "en"),
        4: ("张小明", "Zhang Xiaoming", "regular", "13800000004", "zh"),
        5: ("陈静", "Chen Jing", "gold", "13800000005", "zh"),
    }
    for cid in range(1, 6):
        assert _orders(session, cid)[-1].order_no == f"KF2025000{cid}"


def test_vip_has_many_orders_large_balance_and_expiring_points(session, demo_now):
    assert len(_orders(session, 1)) >= 30
    summary = points.summary(session, customer_id=1, now=demo_now)
    assert summary.balance >= 20_000
    assert summary.expiring_total_30d > 0
    assert all(demo_now < lot.expires_at <= demo_now + timedelta(days=30) for lot in summary.expiring_soon)


def test_churn_risk_purchase_interval_doubled(session, demo_now):
    orders = _orders(session, 2)
    assert demo_now - orders[-1].placed_at > timedelta(days=150)
    gaps = [(b.placed_at - a.placed_at).days for a, b in zip(orders, orders[1:], strict=False)]
    early = sum(gaps[:5]) / 5
    late = sum(gaps[-3:]) / 3
    assert late >= 2 * early


def test_english_gold_member_order_in_transit(session):
    order = session.scalars(select(Order).where(Order.order_no == "KF20250003")).one()
    assert order.customer_id == 3 and order.shipping_status == "in_transit" and len(order.events) >= 2


def test_new_customer(session, demo_now):
    customer = session.get(Customer, 4)
    assert timedelta(days=4) < demo_now - customer.created_at < timedelta(days=6)
    assert len(_orders(session, 4)) == 1


def test_unhappy_customer_latest_order_was_late(session):
    order = session.scalars(select(Order).where(Order.order_no == "KF20250005")).one()
    assert order.customer_id == 5
    assert any("Delayed" in e.description_en for e in order.events)


def test_generation_is_deterministic(demo_now):
    def plan():
        rng = random.Random(2025)
        people = named_customers(demo_now, rng) + generated_customers(demo_now, rng, 300)
        return [(p.id, p.name_zh, p.name_en, p.phone, [o.placed_at for o in p.orders]) for p in people]

    first, second = plan(), plan()
    assert first == second
    english = sum(1 for _, zh, *_ in first if zh is None)
    assert 0.15 < english / len(first) < 0.35  # a realistic mix of Chinese and English names
    assert len({phone for *_, phone, _ in first}) == len(first)


def test_cli_migrate_and_seed_full_dataset(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'seed.db'}", "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "crm_backend.cli"]
    assert subprocess.run([*run, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).returncode == 0
    first = subprocess.run([*run, "seed"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("demo data: 2,005 customers"), first.stdout
    seconds = float(first.stdout.split(" loaded in ")[1].split(" s")[0])
    assert seconds < 60
    again = subprocess.run([*run, "seed"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "already present" in again.stdout


def test_seeded_ledger_is_consistent(session):
    from crm_backend.points.models import PointsAccount, PointsEntry

    sums = dict(session.execute(select(PointsEntry.customer_id, func.sum(PointsEntry.points))
                                .group_by(PointsEntry.customer_id)).all())
    for account in session.scalars(select(PointsAccount)):
        assert account.balance == sums.get(account.customer_id, 0) >= 0
    assert session.scalar(select(func.min(PointsEntry.balance_after))) >= 0
