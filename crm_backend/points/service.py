"""The points ledger.

Invariants: entries are append-only; `points_accounts.balance` == sum of the customer's entries
and is never negative (checked here and by a CHECK constraint). Every writer first takes the
account lock — `SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (`begin_write`) —
so concurrent redemptions are serialized per customer and can never overspend.
Expiry is FIFO: debits consume the oldest credits first; whatever is left of a credit 12 months
after it was earned expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import CustomerNotFound, ValidationFailed
from crm_backend.customer import repository as customers
from crm_backend.customer.models import Customer
from crm_backend.points import repository, rules
from crm_backend.points.errors import InsufficientPoints, OutOfStock, RewardNotFound
from crm_backend.points.models import PointsAccount, PointsEntry, Redemption, Reward


@dataclass
class ExpiringLot:
    points: int
    expires_at: datetime


@dataclass
class BalanceSummary:
    balance: int
    tier: str
    lifetime_earned: int
    expiring_soon: list[ExpiringLot]
    expiring_total_30d: int


def lock_account(session: Session, *, customer_id: int) -> PointsAccount:
    """Open a writer transaction and lock the customer's account row (created on first use)."""
    begin_write(session)
    account = repository.account(session, customer_id, lock=True)
    if account is not None:
        return account
    if customers.get(session, customer_id) is None:
        raise CustomerNotFound(customer_id)
    try:
        # Two first-time writers may race to create the row; the loser re-reads the winner's row.
        with session.begin_nested():
            session.add(PointsAccount(customer_id=customer_id, balance=0, lifetime_earned=0, version=0,
                                      updated_at=utcnow()))
    except IntegrityError:
        pass
    account = repository.account(session, customer_id, lock=True)
    assert account is not None
    return account


def _append(session: Session, account: PointsAccount, *, kind: str, points: int, reason: str, key: str,
            now: datetime, order_id: int | None = None, expires_at: datetime | None = None) -> PointsEntry:
    if account.balance + points < 0:
        raise InsufficientPoints(account.balance, -points)
    account.balance += points
    if points > 0 and kind == "earn":
        account.lifetime_earned += points
    account.version += 1
    account.updated_at = now
    entry = PointsEntry(customer_id=account.customer_id, kind=kind, points=points, balance_after=account.balance,
                        reason=reason[:255], idempotency_key=key, order_id=order_id, expires_at=expires_at,
                        created_at=now)
    session.add(entry)
    session.flush()
    return entry


def _post(session: Session, *, customer_id: int, kind: str, points: int, reason: str, key: str,
          now: datetime | None, order_id: int | None = None, credit_expires: bool = True) -> PointsEntry:
    """Append one business operation (idempotent by `key` per customer)."""
    now = now or utcnow()
    account = lock_account(session, customer_id=customer_id)
    existing = repository.entry_by_key(session, customer_id, key)
    if existing is not None:
        return existing
    expires_at = rules.expiry_for(now) if points > 0 and credit_expires else None
    entry = _append(session, account, kind=kind, points=points, reason=reason, key=key, now=now, order_id=order_id,
                    expires_at=expires_at)
    return entry


def earn_for_order(session: Session, *, customer: Customer, order_id: int, amount: Decimal, now: datetime | None = None
                   ) -> PointsEntry | None:
    """Credit points for a paid order: amount × tier multiplier (× 2 in the birthday month)."""
    now = now or utcnow()
    points = rules.earn_points(amount, tier=customer.tier, birthday=customer.birthday, at=now)
    if points <= 0:
        return None
    reason = "购物积分 Order points" + (" ×2 生日月 birthday month" if rules.is_birthday_month(customer.birthday, now)
                                        else "")
    return _post(session, customer_id=customer.id, kind="earn", points=points, reason=reason, key=f"order:{order_id}",
                 now=now, order_id=order_id)


def reverse_order_points(session: Session, *, customer_id: int, order_id: int, now: datetime | None = None
                         ) -> PointsEntry | None:
    """Take back what an order earned (refund); never below zero."""
    earned = repository.earned_for_order(session, order_id)
    account = lock_account(session, customer_id=customer_id)
    points = min(earned, account.balance)
    if points <= 0:
        return None
    return _post(session, customer_id=customer_id, kind="reverse", points=-points, reason="退款冲销 Refund reversal",
                 key=f"reverse:order:{order_id}", now=now, order_id=order_id)


def award_referral(session: Session, *, referrer_id: int, referred_id: int, now: datetime | None = None
                   ) -> PointsEntry:
    """Referral reward to the referrer, once per referred customer."""
    return _post(session, customer_id=referrer_id, kind="earn", points=rules.REFERRAL_REWARD_POINTS,
                 reason="推荐奖励 Referral reward", key=f"referral:{referred_id}", now=now)


def award_offer(session: Session, *, customer_id: int, points: int, reason: str, key: str,
                now: datetime | None = None) -> PointsEntry:
    """Bonus points of an outreach offer (positive) or their withdrawal (negative); once per key."""
    return _post(session, customer_id=customer_id, kind="earn" if points > 0 else "adjust", points=points,
                 reason=reason, key=key, now=now)


def adjust(session: Session, *, customer_id: int, points: int, reason: str, key: str,
           now: datetime | None = None) -> PointsEntry:
    """Manual correction by staff (positive or negative); idempotent by key."""
    if points == 0:
        raise ValidationFailed("An adjustment must not be zero", "调整积分不能为 0")
    return _post(session, customer_id=customer_id, kind="adjust", points=points, reason=reason, key=f"adjust:{key}",
                 now=now)


def _expire_locked(session: Session, account: PointsAccount, now: datetime) -> int:
    credits = repository.credits_expiring_by(session, account.customer_id, now)
    if not credits:
        return 0
    amount = max(0, sum(p for _, p in credits) - repository.total_debits(session, account.customer_id))
    amount = min(amount, account.balance)
    if amount <= 0:
        return 0
    last = credits[-1][0]
    key = f"expire:{last.isoformat()}"
    if repository.entry_by_key(session, account.customer_id, key) is not None:
        return 0
    _append(session, account, kind="expire", points=-amount, reason="积分过期 Points expired", key=key, now=now)
    return amount


def expire_customer(session: Session, *, customer_id: int, now: datetime | None = None) -> int:
    """Expire the customer's credits older than 12 months; returns the points expired."""
    account = lock_account(session, customer_id=customer_id)
    return _expire_locked(session, account, now or utcnow())


def expire_all(session: Session, *, now: datetime | None = None) -> int:
    """Run expiry for every customer that has a credit past its expiry date."""
    now = now or utcnow()
    begin_write(session)
    return sum(expire_customer(session, customer_id=cid, now=now)
               for cid in repository.customers_with_expired_credits(session, now))


def summary(session: Session, *, customer_id: int, now: datetime | None = None) -> BalanceSummary:
    """Balance, tier and the points that expire within 30 days (oldest first).

    If credits have passed their expiry date since the last maintenance run, they are expired
    first (rare write on a read path) so the balance shown is never one that cannot be spent.
    """
    now = now or utcnow()
    customer = customers.get(session, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    horizon = now + timedelta(days=rules.EXPIRING_SOON_DAYS)
    lots = rules.open_lots(repository.credits_expiring_by(session, customer_id, horizon),
                           repository.total_debits(session, customer_id))
    if any(at <= now for at, _ in lots):
        expire_customer(session, customer_id=customer_id, now=now)
        lots = rules.open_lots(repository.credits_expiring_by(session, customer_id, horizon),
                               repository.total_debits(session, customer_id))
    account = repository.account(session, customer_id)
    expiring = [ExpiringLot(points=p, expires_at=at) for at, p in lots]
    return BalanceSummary(balance=account.balance if account else 0, tier=customer.tier,
                          lifetime_earned=account.lifetime_earned if account else 0, expiring_soon=expiring,
                          expiring_total_30d=sum(lot.points for lot in expiring))


def entries(session: Session, *, customer_id: int, limit: int, offset: int,
            kind: str | None = None) -> tuple[list[PointsEntry], int]:
    if customers.get(session, customer_id) is None:
        raise CustomerNotFound(customer_id)
    return repository.entries(session, customer_id, kind=kind, limit=limit, offset=offset)


def list_rewards(session: Session, *, limit: int, offset: int) -> tuple[list[Reward], int]:
    return repository.active_rewards(session, limit=limit, offset=offset)


@dataclass
class Redeemed:
    redemption: Redemption
    reward: Reward
    balance_after: int


def redeem(session: Session, *, customer_id: int, reward_code: str, quantity: int,
           now: datetime | None = None) -> Redeemed:
    """Spend points on a reward; 409 `insufficient_points` / `out_of_stock`, 404 `reward_not_found`."""
    now = now or utcnow()
    account = lock_account(session, customer_id=customer_id)
    reward = repository.reward_by_code(session, reward_code, lock=True)
    if reward is None or not reward.active:
        raise RewardNotFound(reward_code)
    if reward.stock is not None and reward.stock < quantity:
        raise OutOfStock(reward.code, reward.stock)
    _expire_locked(session, account, now)
    cost = reward.cost_points * quantity
    if account.balance < cost:
        raise InsufficientPoints(account.balance, cost)
    if reward.stock is not None:
        reward.stock -= quantity
    redemption = Redemption(customer_id=customer_id, reward_id=reward.id, quantity=quantity, points_spent=cost,
                            status="completed", created_at=now)
    session.add(redemption)
    session.flush()
    entry = _append(session, account, kind="redeem", points=-cost,
                    reason=f"兑换 Redeemed {reward.code} ×{quantity}", key=f"redeem:{redemption.id}", now=now)
    redemption.points_entry_id = entry.id
    session.flush()
    return Redeemed(redemption, reward, account.balance)


def grant_reward(session: Session, *, customer_id: int, reward_code: str, reason: str, key: str,
                 now: datetime | None = None) -> Redeemed:
    """Give a reward (a coupon, a gift) free of points, as goodwill; once per `key`.

    The grant is a redemption with no points spent (status `goodwill`) and a zero-point ledger line, so the
    customer's history shows it and a replayed key finds it. 404 `reward_not_found`, 409 `out_of_stock`.
    """
    now = now or utcnow()
    account = lock_account(session, customer_id=customer_id)
    existing = repository.entry_by_key(session, customer_id, key)
    if existing is not None:
        redemption = repository.redemption_by_entry(session, existing.id)
        reward = session.get(Reward, redemption.reward_id) if redemption is not None else None
        if redemption is None or reward is None:
            raise ValidationFailed("This key was used for another ledger entry", "该幂等键已用于其他积分记录")
        return Redeemed(redemption, reward, account.balance)
    reward = repository.reward_by_code(session, reward_code, lock=True)
    if reward is None or not reward.active:
        raise RewardNotFound(reward_code)
    if reward.stock is not None and reward.stock < 1:
        raise OutOfStock(reward.code, reward.stock)
    if reward.stock is not None:
        reward.stock -= 1
    entry = _append(session, account, kind="adjust", points=0, key=key, now=now,
                    reason=f"补偿 Goodwill {reward.code}: {reason}")
    redemption = Redemption(customer_id=customer_id, reward_id=reward.id, quantity=1, points_spent=0,
                            status="goodwill", points_entry_id=entry.id, created_at=now)
    session.add(redemption)
    session.flush()
    return Redeemed(redemption, reward, account.balance)
