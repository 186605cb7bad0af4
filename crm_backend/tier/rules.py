"""Tier rules on the last 12 months' spend (CNY).

- Upgrade: as soon as the 12-month spend reaches the next tier's threshold (to the highest tier reached).
- Downgrade: at the periodic review, a tier held for at least 12 months whose 12-month spend is below its
  threshold drops ONE step (a grace step rather than a cliff); the new tier is again kept for 12 months.
"""

from __future__ import annotations

from decimal import Decimal

TIER_ORDER = ("regular", "silver", "gold", "diamond")
THRESHOLDS: dict[str, Decimal] = {
    "regular": Decimal(0), "silver": Decimal(2000), "gold": Decimal(8000), "diamond": Decimal(20000),
}
TIER_NAMES = {
    "regular": ("普通会员", "Regular"), "silver": ("银卡会员", "Silver"),
    "gold": ("金卡会员", "Gold"), "diamond": ("钻石会员", "Diamond"),
}
BENEFITS: dict[str, list[tuple[str, str, str]]] = {
    "regular": [("points_1x", "消费1元积1分", "1 point per CNY spent"),
                ("birthday_double", "生日月双倍积分", "Double points in your birthday month")],
    "silver": [("points_1_2x", "1.2倍积分", "1.2× points"),
               ("birthday_double", "生日月双倍积分", "Double points in your birthday month"),
               ("free_shipping_99", "满99元包邮", "Free shipping over CNY 99")],
    "gold": [("points_1_5x", "1.5倍积分", "1.5× points"),
             ("birthday_double", "生日月双倍积分", "Double points in your birthday month"),
             ("free_shipping", "全场包邮", "Free shipping on every order"),
             ("priority_service", "优先人工客服", "Priority human service"),
             ("exclusive_discount", "会员专享折扣", "Members-only discounts")],
    "diamond": [("points_2x", "2倍积分", "2× points"),
                ("birthday_double", "生日月双倍积分", "Double points in your birthday month"),
                ("free_shipping", "全场包邮", "Free shipping on every order"),
                ("vip_line", "专属VIP客服通道", "Dedicated VIP service line"),
                ("exclusive_discount", "会员专享折扣", "Members-only discounts"),
                ("free_returns", "免费退换货", "Free returns and exchanges")],
}


def qualifying_tier(spend_12m: Decimal) -> str:
    """Highest tier whose threshold the spend reaches."""
    result = "regular"
    for tier in TIER_ORDER:
        if spend_12m >= THRESHOLDS[tier]:
            result = tier
    return result


def next_tier(tier: str) -> str | None:
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[index + 1] if index + 1 < len(TIER_ORDER) else None


def evaluate(current: str, spend_12m: Decimal, *, review: bool) -> str:
    """New tier: upgrades apply at once; downgrades (one step) only when `review` is true."""
    qualified = qualifying_tier(spend_12m)
    if TIER_ORDER.index(qualified) > TIER_ORDER.index(current):
        return qualified
    if review and TIER_ORDER.index(qualified) < TIER_ORDER.index(current):
        return TIER_ORDER[TIER_ORDER.index(current) - 1]
    return current


def progress(tier: str, spend_12m: Decimal) -> tuple[str | None, float, Decimal]:
    """(next tier, percent of the way from this tier's threshold to the next, amount still to spend)."""
    upcoming = next_tier(tier)
    if upcoming is None:
        return None, 100.0, Decimal(0)
    low, high = THRESHOLDS[tier], THRESHOLDS[upcoming]
    pct = float((spend_12m - low) / (high - low) * 100) if high > low else 100.0
    return upcoming, round(min(100.0, max(0.0, pct)), 1), max(Decimal(0), high - spend_12m)
