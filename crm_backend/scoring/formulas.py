"""Pure scoring formulas (no database). Every constant here is documented in docs/notes/crm-analytics.md.

All functions take plain values so they can be unit-tested on hand-computed cases; the
service (:mod:`crm_backend.scoring.service`) gathers those values from the database.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DAY = timedelta(days=1)

# CLV: gross margin on revenue and the horizon (years) over which an active customer is valued.
GROSS_MARGIN = 0.30
CLV_HORIZON_YEARS = 3.0

# Value segment thresholds on current value (RFM, 0..1) and potential value (loyalty, 0..1).
CURRENT_HIGH = 0.6
POTENTIAL_HIGH = 0.55
SEGMENT_NAMES = {
    "value": ("value customer", "价值客户"),
    "potential": ("potential-value customer", "潜价值客户"),
    "secondary": ("secondary-value customer", "次价值客户"),
    "low": ("low-value customer", "低价值客户"),
}
LIFECYCLE_NAMES = {
    "acquisition": ("acquisition", "获取期"),
    "conversion": ("conversion", "转化期"),
    "retention": ("retention", "留存期"),
    "upgrade": ("upgrade", "升级期"),
    "decline": ("decline", "衰退期"),
}

# Satisfaction: half-life of a signal's weight, and the neutral prior every customer starts from.
SATISFACTION_HALF_LIFE_DAYS = 90.0
SATISFACTION_PRIOR = 70.0
SATISFACTION_PRIOR_WEIGHT = 1.0
SEVERITY_WEIGHT = {"low": 0.5, "medium": 1.0, "high": 1.5, "critical": 2.0}


# ---------------------------------------------------------------------------------------------- RFM
def quintile_scores(values: Sequence[float]) -> list[int]:
    """Score each value 1–5 by its rank in ``values`` (higher value → higher score).

    ``score = 1 + floor(5 × (number of values strictly below it) / n)``: ties share a score,
    the lowest value always gets 1, and with n equal-sized groups each quintile holds 20%.
    """
    ordered = sorted(values)
    n = len(ordered)
    return [1 + (5 * bisect_left(ordered, v)) // n for v in values]


@dataclass(frozen=True)
class Rfm:
    """RFM quintile scores (1–5 each) and the raw inputs they came from."""

    recency_days: float | None
    frequency: int
    monetary: float
    r: int
    f: int
    m: int

    @property
    def total(self) -> int:
        return self.r + self.f + self.m

    @property
    def current_value(self) -> float:
        """Current value in 0..1: ``(R + F + M − 3) / 12``."""
        return (self.total - 3) / 12


def rfm_scores(customers: dict[int, tuple[float | None, int, float]]) -> dict[int, Rfm]:
    """RFM over the customer base from ``{id: (days since last order, order count, spend)}``.

    Customers without orders get R = F = M = 1 and do not enter the quintiles. Recency is
    ranked on its negation (a recent buyer scores 5).
    """
    buyers = [cid for cid, (_, freq, _) in customers.items() if freq > 0]
    recency = quintile_scores([-(customers[c][0] or 0.0) for c in buyers])
    frequency = quintile_scores([float(customers[c][1]) for c in buyers])
    monetary = quintile_scores([customers[c][2] for c in buyers])
    result = {cid: Rfm(rec, freq, mon, 1, 1, 1) for cid, (rec, freq, mon) in customers.items() if freq == 0}
    for i, cid in enumerate(buyers):
        rec, freq, mon = customers[cid]
        result[cid] = Rfm(rec, freq, mon, recency[i], frequency[i], monetary[i])
    return result


# ---------------------------------------------------------------------------------------------- CLV
def clv_estimate(*, orders: int, spend: float, tenure_days: float, churn_risk: float) -> float:
    """Customer lifetime value over the next horizon.

    ``CLV = AOV × orders per year × GROSS_MARGIN × CLV_HORIZON_YEARS × (1 − churn_risk)`` where
    AOV = spend / orders and orders per year = orders / max(tenure in years, 1/12) over the
    (at most 24-month) observation window. 0 without orders.
    """
    if orders <= 0:
        return 0.0
    aov = spend / orders
    years = max(min(tenure_days, 730.0) / 365.0, 1 / 12)
    per_year = orders / years
    return round(aov * per_year * GROSS_MARGIN * CLV_HORIZON_YEARS * (1 - churn_risk), 2)


# ---------------------------------------------------------------------------------- potential / segment
# A customer needs a full previous year before a spend trend means anything.
TREND_MIN_TENURE_DAYS = 395


def spend_trend(last_12m: float, previous_12m: float, *, tenure_days: float = TREND_MIN_TENURE_DAYS) -> float:
    """0..1, 0.5 = flat: ``0.5 + (last − previous) / (2 × max(last, previous))``.

    0.5 (unknown) when both are 0 or the customer joined less than 395 days ago.
    """
    top = max(last_12m, previous_12m)
    if top <= 0 or tenure_days < TREND_MIN_TENURE_DAYS:
        return 0.5
    return 0.5 + (last_12m - previous_12m) / (2 * top)


def potential_value(*, orders: int, referrals: int, nps: int | None, trend: float) -> float:
    """Potential (loyalty) value in 0..1.

    ``0.35 × repeat + 0.20 × referral + 0.25 × nps + 0.20 × trend`` with repeat = min(1, (orders − 1)/4),
    referral = min(1, referrals / 3), nps = latest NPS / 10 (0.5 when never surveyed).
    """
    repeat = min(1.0, max(0, orders - 1) / 4)
    referral = min(1.0, referrals / 3)
    nps_part = 0.5 if nps is None else nps / 10
    return round(0.35 * repeat + 0.20 * referral + 0.25 * nps_part + 0.20 * trend, 4)


def value_segment(current: float, potential: float) -> str:
    """value (both high) / potential (potential high only) / secondary (current high only) / low."""
    high_current, high_potential = current >= CURRENT_HIGH, potential >= POTENTIAL_HIGH
    if high_current and high_potential:
        return "value"
    if high_potential:
        return "potential"
    if high_current:
        return "secondary"
    return "low"


# ------------------------------------------------------------------------------------------ lifecycle
def lifecycle_stage(*, orders: int, tenure_days: float, recency_days: float | None, median_interval: float | None,
                    trend: float) -> str:
    """First matching rule: no orders → acquisition; one order or joined < 60 days ago → conversion;
    no order for > max(90, 2 × median interval) days or trend < 0.25 → decline; trend ≥ 0.65 →
    upgrade; otherwise retention."""
    if orders == 0:
        return "acquisition"
    if orders == 1 or tenure_days < 60:
        return "conversion"
    limit = max(90.0, 2 * median_interval) if median_interval else 90.0
    if (recency_days is not None and recency_days > limit) or trend < 0.25:
        return "decline"
    if trend >= 0.65:
        return "upgrade"
    return "retention"


# --------------------------------------------------------------------------------------- satisfaction
@dataclass(frozen=True)
class Signal:
    """One satisfaction signal mapped to 0–100 with its age; ``weight`` multiplies the recency weight."""

    kind: str
    value: float
    age_days: float
    weight: float = 1.0


def csat_signal(score: int, age_days: float) -> Signal:
    """CSAT 1–5 → ``(score − 1) / 4 × 100``."""
    return Signal("csat", (score - 1) / 4 * 100, age_days)


def nps_signal(score: int, age_days: float) -> Signal:
    """NPS 0–10 → ``score × 10``."""
    return Signal("nps", score * 10.0, age_days)


def sentiment_signal(score: float, age_days: float) -> Signal:
    """Message sentiment −1..1 → ``(score + 1) / 2 × 100``, half the weight of a survey answer."""
    return Signal("sentiment", (score + 1) / 2 * 100, age_days, 0.5)


def complaint_signal(severity: str, age_days: float) -> Signal:
    """A complaint is a 0 signal weighted by severity (low 0.5, medium 1, high 1.5, critical 2)."""
    return Signal("complaint", 0.0, age_days, SEVERITY_WEIGHT.get(severity, 1.0))


def recency_weight(age_days: float) -> float:
    """``0.5 ** (age / 90 days)``: a signal counts half after 90 days."""
    return 0.5 ** (max(age_days, 0.0) / SATISFACTION_HALF_LIFE_DAYS)


def satisfaction_score(signals: Sequence[Signal]) -> float:
    """0–100: ``(70 × 1 + Σ wᵢ vᵢ) / (1 + Σ wᵢ)`` with wᵢ = weight × recency weight (prior 70, weight 1)."""
    num = SATISFACTION_PRIOR * SATISFACTION_PRIOR_WEIGHT
    den = SATISFACTION_PRIOR_WEIGHT
    for s in signals:
        w = s.weight * recency_weight(s.age_days)
        num += w * s.value
        den += w
    return round(num / den, 1)


# ---------------------------------------------------------------------------------------------- churn
@dataclass(frozen=True)
class Reason:
    """A churn-risk factor: stable code, contribution and bilingual explanation."""

    code: str
    weight: float
    en: str
    zh: str


@dataclass(frozen=True)
class ChurnInputs:
    """What churn risk looks at (all counts and ages relative to now)."""

    order_dates: Sequence[datetime]
    now: datetime
    complaints_30d: int = 0
    satisfaction: float = SATISFACTION_PRIOR
    latest_nps: int | None = None
    interactions_90d: int = 0
    interactions_prev_90d: int = 0


@dataclass(frozen=True)
class ChurnResult:
    """Risk in 0..1 (sum of reason weights, capped) and the reasons, strongest first."""

    risk: float
    reasons: list[Reason] = field(default_factory=list)


def median_interval_days(order_dates: Sequence[datetime]) -> float | None:
    """Median days between consecutive orders (None with fewer than 2 orders)."""
    dates = sorted(order_dates)
    gaps = [(b - a) / DAY for a, b in zip(dates, dates[1:], strict=False)]
    return statistics.median(gaps) if gaps else None


def churn_risk(inputs: ChurnInputs) -> ChurnResult:
    """Sum of the factors below, capped at 1.

    | factor | weight |
    | days since last order ≥ 2 × median interval (≥ 2 orders, interval ≥ 7 days) | 0.30 |
    | no order for > 150 days (else > 90 days: 0.15) | 0.25 |
    | orders in the last 180 days < half of the 180 before (previous ≥ 2) | 0.15 |
    | complaints in 30 days: 0.15 each, at most 0.30 | ≤ 0.30 |
    | satisfaction < 50 | 0.15 |
    | latest NPS ≤ 6 (detractor) | 0.10 |
    | interactions in the last 90 days < half of the 90 before (previous ≥ 2) | 0.05 |
    """
    now = inputs.now
    reasons: list[Reason] = []
    dates = sorted(inputs.order_dates)
    if dates:
        since_last = (now - dates[-1]) / DAY
        interval = median_interval_days(dates)
        if interval is not None and interval >= 7 and since_last >= 2 * interval:
            reasons.append(Reason(
                "interval_doubled", 0.30,
                f"purchase interval doubled: {since_last:.0f} days since the last order, usually every "
                f"{interval:.0f} days",
                f"购买间隔翻倍：距上次下单 {since_last:.0f} 天，平时每 {interval:.0f} 天一次"))
        if since_last > 150:
            reasons.append(Reason("no_recent_order", 0.25, f"no order for {since_last:.0f} days",
                                  f"{since_last:.0f} 天未下单"))
        elif since_last > 90:
            reasons.append(Reason("no_recent_order", 0.15, f"no order for {since_last:.0f} days",
                                  f"{since_last:.0f} 天未下单"))
        recent = sum(1 for d in dates if (now - d) / DAY <= 180)
        before = sum(1 for d in dates if 180 < (now - d) / DAY <= 360)
        if before >= 2 and recent < before / 2:
            reasons.append(Reason("frequency_halved", 0.15,
                                  f"purchase frequency fell: {recent} orders in 6 months, {before} in the 6 before",
                                  f"购买频率下降：近 6 个月 {recent} 单，之前 6 个月 {before} 单"))
    if inputs.complaints_30d:
        n = inputs.complaints_30d
        reasons.append(Reason("recent_complaints", min(0.30, 0.15 * n),
                              f"{n} complaint{'s' if n != 1 else ''} in 30 days", f"30 天内投诉 {n} 次"))
    if inputs.satisfaction < 50:
        reasons.append(Reason("low_satisfaction", 0.15, f"low satisfaction ({inputs.satisfaction:.0f}/100)",
                              f"满意度低（{inputs.satisfaction:.0f}/100）"))
    if inputs.latest_nps is not None and inputs.latest_nps <= 6:
        reasons.append(Reason("nps_detractor", 0.10, f"NPS detractor (last score {inputs.latest_nps})",
                              f"NPS 贬损者（最近评分 {inputs.latest_nps}）"))
    if inputs.interactions_prev_90d >= 2 and inputs.interactions_90d < inputs.interactions_prev_90d / 2:
        reasons.append(Reason("fewer_interactions", 0.05,
                              f"fewer interactions: {inputs.interactions_90d} in 90 days, "
                              f"{inputs.interactions_prev_90d} in the 90 before",
                              f"互动减少：近 90 天 {inputs.interactions_90d} 次，之前 90 天 "
                              f"{inputs.interactions_prev_90d} 次"))
    reasons.sort(key=lambda r: r.weight, reverse=True)
    return ChurnResult(round(min(1.0, sum(r.weight for r in reasons)), 2), reasons)
