"""Scoring formulas on hand-computed cases."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_backend.scoring import formulas as f

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def days_ago(*days: float) -> list[datetime]:
    return [NOW - timedelta(days=d) for d in days]


def test_quintiles_of_five_and_ten_values() -> None:
    assert f.quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert f.quintile_scores([5, 1, 3]) == [4, 1, 2]  # 1+5*2//3=4, 1+0=1, 1+5*1//3=2
    assert f.quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert f.quintile_scores([7, 7, 7]) == [1, 1, 1]


def test_rfm_ranks_recency_inversely_and_ignores_non_buyers() -> None:
    rfm = f.rfm_scores({
        1: (5.0, 10, 5000.0),
        2: (200.0, 2, 300.0),
        3: (None, 0, 0.0),
    })
    assert (rfm[1].r, rfm[1].f, rfm[1].m) == (3, 3, 3)  # 1 + 5*1//2 = 3
    assert (rfm[2].r, rfm[2].f, rfm[2].m) == (1, 1, 1)
    assert (rfm[3].r, rfm[3].f, rfm[3].m) == (1, 1, 1)
    assert rfm[1].current_value == pytest.approx(0.5)  # (9 - 3) / 12


def test_clv() -> None:
    # AOV 200, 6 orders over 1 year → 6/yr; 200*6*0.3*3*(1-0.2) = 864
    assert f.clv_estimate(orders=6, spend=1200, tenure_days=365, churn_risk=0.2) == pytest.approx(864.0)
    # tenure beyond 24 months is capped at 2 years: 100 * 4/2 * 0.3 * 3 = 180
    assert f.clv_estimate(orders=4, spend=400, tenure_days=2000, churn_risk=0) == pytest.approx(180.0)
    # a 5-day-old customer counts as one month: 100 * 12 * 0.9 = 1080
    assert f.clv_estimate(orders=1, spend=100, tenure_days=5, churn_risk=0) == pytest.approx(1080.0)
    assert f.clv_estimate(orders=0, spend=0, tenure_days=100, churn_risk=0) == 0


def test_trend_and_potential() -> None:
    assert f.spend_trend(100, 100) == 0.5
    assert f.spend_trend(0, 0) == 0.5
    assert f.spend_trend(200, 0) == 1.0
    assert f.spend_trend(0, 200) == 0.0
    assert f.spend_trend(50, 100) == 0.25
    assert f.spend_trend(500, 0, tenure_days=200) == 0.5  # no previous year to compare with
    # repeat min(1, 4/4)=1 → .35; referrals 1/3 → .0667; nps 9 → .225; trend .5 → .1
    assert f.potential_value(orders=5, referrals=1, nps=9, trend=0.5) == pytest.approx(0.7417, abs=1e-4)
    assert f.potential_value(orders=1, referrals=0, nps=None, trend=0.5) == pytest.approx(0.225)


@pytest.mark.parametrize(("current", "potential", "segment"), [
    (0.8, 0.7, "value"), (0.3, 0.6, "potential"), (0.9, 0.2, "secondary"), (0.2, 0.2, "low"),
    (0.6, 0.55, "value"), (0.7, 0.54, "secondary"),
])
def test_value_segment(current: float, potential: float, segment: str) -> None:
    assert f.value_segment(current, potential) == segment


def test_lifecycle_rules_in_order() -> None:
    base = dict(tenure_days=400.0, recency_days=20.0, median_interval=30.0, trend=0.5)
    assert f.lifecycle_stage(orders=0, **base) == "acquisition"
    assert f.lifecycle_stage(orders=1, **base) == "conversion"
    assert f.lifecycle_stage(orders=3, tenure_days=10, recency_days=2, median_interval=3, trend=1) == "conversion"
    assert f.lifecycle_stage(orders=5, tenure_days=400, recency_days=100, median_interval=30, trend=0.5) == "decline"
    assert f.lifecycle_stage(orders=5, tenure_days=400, recency_days=10, median_interval=30, trend=0.2) == "decline"
    assert f.lifecycle_stage(orders=5, tenure_days=400, recency_days=10, median_interval=30, trend=0.7) == "upgrade"
    assert f.lifecycle_stage(orders=5, **base) == "retention"
    # a customer who buys every 60 days is not declining after 100 days (limit 120)
    assert f.lifecycle_stage(orders=5, tenure_days=400, recency_days=100, median_interval=60, trend=0.5) == "retention"


def test_satisfaction() -> None:
    assert f.satisfaction_score([]) == 70.0
    # CSAT 5 today: (70 + 100) / 2 = 85
    assert f.satisfaction_score([f.csat_signal(5, 0)]) == 85.0
    # CSAT 1 today + NPS 2 today: (70 + 0 + 20) / 3 = 30
    assert f.satisfaction_score([f.csat_signal(1, 0), f.nps_signal(2, 0)]) == 30.0
    # a high complaint 90 days old weighs 1.5 * 0.5 = .75: 70 / 1.75 = 40
    assert f.satisfaction_score([f.complaint_signal("high", 90)]) == 40.0
    # sentiment -1 today weighs .5: 70 / 1.5 = 46.7
    assert f.satisfaction_score([f.sentiment_signal(-1.0, 0)]) == 46.7
    assert f.recency_weight(180) == pytest.approx(0.25)


def test_churn_for_lapsed_complaining_customer() -> None:
    result = f.churn_risk(f.ChurnInputs(
        order_dates=days_ago(400, 340, 280, 220, 160), now=NOW, complaints_30d=2, satisfaction=30, latest_nps=3))
    codes = [r.code for r in result.reasons]
    # interval 60, 160 days since → doubled .30; >150 days .25; 1 order in 180 days vs 3 before .15;
    # 2 complaints .30; satisfaction .15; NPS .10 → 1.25, capped at 1
    assert set(codes) == {"interval_doubled", "no_recent_order", "frequency_halved", "recent_complaints",
                          "low_satisfaction", "nps_detractor"}
    assert result.risk == 1.0
    complaints = next(r for r in result.reasons if r.code == "recent_complaints")
    assert complaints.en == "2 complaints in 30 days" and complaints.zh == "30 天内投诉 2 次"
    doubled = next(r for r in result.reasons if r.code == "interval_doubled")
    assert doubled.en.startswith("purchase interval doubled") and doubled.zh.startswith("购买间隔翻倍")


def test_churn_for_loyal_customer_is_zero() -> None:
    result = f.churn_risk(f.ChurnInputs(order_dates=days_ago(70, 50, 30, 10), now=NOW, satisfaction=85, latest_nps=9))
    assert result.risk == 0.0 and result.reasons == []


def test_churn_partial_factors() -> None:
    # 4 orders 181–360 days ago, 1 in the last 180 → frequency fell .15; 100 days since → .15; interval
    # median 30 and 100 ≥ 60 → .30; fewer interactions .05 → .65
    result = f.churn_risk(f.ChurnInputs(order_dates=days_ago(300, 270, 240, 210, 100), now=NOW,
                                        interactions_90d=0, interactions_prev_90d=4))
    assert {r.code for r in result.reasons} == {"frequency_halved", "no_recent_order", "interval_doubled",
                                                "fewer_interactions"}
    assert result.risk == pytest.approx(0.65)
    assert result.reasons[0].code == "interval_doubled"
