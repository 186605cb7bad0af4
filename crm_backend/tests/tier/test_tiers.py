"""Tier rules (pure) and the tier API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_backend.points.rules import earn_points, open_lots
from crm_backend.tier import rules


@pytest.mark.parametrize(("spend", "tier"), [(0, "regular"), (1999.99, "regular"), (2000, "silver"),
                                              (7999, "silver"), (8000, "gold"), (20000, "diamond")])
def test_qualifying_tier(spend, tier):
    assert rules.qualifying_tier(Decimal(str(spend))) == tier


def test_upgrade_at_once_downgrade_one_step_at_review():
    assert rules.evaluate("regular", Decimal(25000), review=False) == "diamond"
    assert rules.evaluate("diamond", Decimal(0), review=False) == "diamond"
    assert rules.evaluate("diamond", Decimal(0), review=True) == "gold"
    assert rules.evaluate("gold", Decimal(9000), review=True) == "gold"


def test_progress():
    assert rules.progress("silver", Decimal(5000)) == ("gold", 50.0, Decimal(3000))
    assert rules.progress("diamond", Decimal(1)) == (None, 100.0, Decimal(0))


def test_earn_points_rules():
    from datetime import UTC, date, datetime

    at = datetime(2025, 6, 10, tzinfo=UTC)
    assert earn_points(Decimal("100.50"), tier="regular", birthday=None, at=at) == 100
    assert earn_points(Decimal(100), tier="silver", birthday=None, at=at) == 120
    assert earn_points(Decimal(100), tier="gold", birthday=date(1990, 6, 1), at=at) == 300
    assert earn_points(Decimal(100), tier="diamond", birthday=date(1990, 5, 1), at=at) == 200


def test_open_lots_fifo():
    from datetime import UTC, datetime

    a, b, c = (datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    assert open_lots([(b, 100), (a, 100), (c, 100)], 150) == [(b, 50), (c, 100)]


def test_customer_tier_api(client, service_headers):
    body = client.get("/api/v1/customers/3/tier", headers=service_headers).json()
    assert body["tier"] == "gold" and body["multiplier"] == 1.5
    assert body["next_tier"] == "diamond" and body["currency"] == "CNY"
    assert 0 <= body["progress_pct"] <= 100 and body["amount_to_next"] > 0
    codes = {b["code"] for b in body["benefits"]}
    assert "priority_service" in codes and all(b["name_zh"] and b["name_en"] for b in body["benefits"])
    top = client.get("/api/v1/customers/1/tier", headers=service_headers).json()
    assert top["next_tier"] is None and top["progress_pct"] == 100
    assert client.get("/api/v1/customers/999999/tier", headers=service_headers).status_code == 404


def test_tiers_catalog(client, service_headers):
    tiers = client.get("/api/v1/tiers", headers=service_headers).json()
    assert [t["tier"] for t in tiers] == ["regular", "silver", "gold", "diamond"]
    assert [t["multiplier"] for t in tiers] == [1.0, 1.2, 1.5, 2.0]
