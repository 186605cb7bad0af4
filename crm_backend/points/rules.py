"""Pure earning rules (no database): used by the ledger service and the demo generator.

points = floor(amount in currency units × POINTS_PER_UNIT × tier multiplier), doubled in the
customer's birthday month. Every credit expires EXPIRY_DAYS after it was earned.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

POINTS_PER_UNIT = 1
TIER_MULTIPLIER: dict[str, float] = {"regular": 1.0, "silver": 1.2, "gold": 1.5, "diamond": 2.0}
BIRTHDAY_FACTOR = 2
EXPIRY_DAYS = 365
REFERRAL_REWARD_POINTS = 200
EXPIRING_SOON_DAYS = 30


def is_birthday_month(birthday: date | None, at: datetime) -> bool:
    return birthday is not None and birthday.month == at.month


def earn_points(amount: Decimal | float, *, tier: str, birthday: date | None, at: datetime) -> int:
    """Points earned for spending `amount` at time `at`."""
    base = float(amount) * POINTS_PER_UNIT * TIER_MULTIPLIER.get(tier, 1.0)
    if is_birthday_month(birthday, at):
        base *= BIRTHDAY_FACTOR
    return max(0, math.floor(base + 1e-9))


def expiry_for(earned_at: datetime) -> datetime:
    return earned_at + timedelta(days=EXPIRY_DAYS)


def open_lots(credits: list[tuple[datetime, int]], debited: int) -> list[tuple[datetime, int]]:
    """Credits (expires_at, points) still unspent after `debited` points were consumed oldest-first."""
    remaining: list[tuple[datetime, int]] = []
    for expires_at, points in sorted(credits):
        used = min(points, debited)
        debited -= used
        if points - used > 0:
            remaining.append((expires_at, points - used))
    return remaining
