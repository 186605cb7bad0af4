"""Periodic upkeep: the thread runs the job on schedule and stops cleanly; the tier review itself."""

from __future__ import annotations

import threading

from crm_backend import jobs
from crm_backend.customer.models import Customer
from crm_backend.tier.service import review_all


def test_thread_runs_and_stops(monkeypatch):
    ran = threading.Event()
    calls = []

    def fake_run_once():
        calls.append(1)
        ran.set()
        return 0, 0

    monkeypatch.setattr(jobs, "run_maintenance", fake_run_once)
    worker = jobs.MaintenanceThread(interval_seconds=3600, initial_delay=0.01)
    worker.start()
    assert ran.wait(5)
    worker.stop()
    assert not worker.thread.is_alive()
    assert calls == [1]


def test_tier_review_downgrades_one_step(session, demo_now):
    lapsed = Customer(name_en="Lapsed Diamond", preferred_language="en", tier="diamond")
    session.add(lapsed)
    session.flush()
    assert review_all(session, now=demo_now) == 1
    assert session.get(Customer, lapsed.id).tier == "gold"  # one step per review, not straight to regular
    assert review_all(session, now=demo_now) == 0  # the new tier is kept for a year
    # The named customers still qualify for their tiers (Li Na: 12-month spend just above silver).
    assert [session.get(Customer, cid).tier for cid in range(1, 6)] == ["diamond", "silver", "gold", "regular",
                                                                        "gold"]
