"""Item-to-item recommendations: "customers who bought X also bought Y", weighted towards the customer's tier.

For each SKU Y the customer has not bought within REBUY_DAYS (tea runs out: an item bought long ago may be
recommended again, one bought last month is not), its score is the sum, over the SKUs X they have bought, of the
cosine similarity of X's and Y's buyer sets (co-buyers / √(buyers X · buyers Y)); a pair needs MIN_SUPPORT
co-buyers to count, so one odd basket recommends nothing. Y's share among buyers of the customer's own tier
adds TIER_WEIGHT × share (a diamond member sees what diamond members buy first among equals). The reason
names the X that contributed most. Not enough co-purchases (a new customer): the tier's bestsellers fill up,
then the whole shop's, each with that reason. The whole purchase history is read per call (figures in
docs/notes/playbooks.md); a large shop would precompute the pair counts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crm_backend.core.db import utcnow
from crm_backend.customer.service import get_customer
from crm_backend.recommendation import repository
from crm_backend.recommendation.schemas import Recommendation, Recommendations
from crm_backend.tier.rules import TIER_NAMES

MIN_SUPPORT = 2
REBUY_DAYS = 90
TIER_WEIGHT = 0.2


@dataclass
class _Candidate:
    score: float = 0.0
    best: float = 0.0
    because: str | None = None
    co_buyers: int = 0


def recommend(session: Session, *, customer_id: int, limit: int = 3,
              now: datetime | None = None) -> Recommendations:
    customer = get_customer(session, customer_id=customer_id)
    baskets = repository.baskets(session)
    mine = baskets.get(customer_id, set())
    recent = repository.bought_since(session, customer_id, (now or utcnow()) - timedelta(days=REBUY_DAYS))
    others = {cid: skus for cid, skus in baskets.items() if cid != customer_id}
    buyers: Counter[str] = Counter(sku for skus in others.values() for sku in skus)
    tier_of = repository.tiers(session, set(others))
    same_tier = [skus for cid, skus in others.items() if tier_of.get(cid) == customer.tier]
    tier_buyers: Counter[str] = Counter(sku for skus in same_tier for sku in skus)
    tier_share = {sku: n / len(same_tier) for sku, n in tier_buyers.items()} if same_tier else {}

    pairs: Counter[tuple[str, str]] = Counter()
    for skus in others.values():
        for x in skus & mine:
            for y in skus - recent - {x}:
                pairs[(x, y)] += 1
    candidates: dict[str, _Candidate] = {}
    for (x, y), together in pairs.items():
        if together < MIN_SUPPORT:
            continue
        similarity = together / math.sqrt(buyers[x] * buyers[y])
        found = candidates.setdefault(y, _Candidate())
        found.score += similarity
        if similarity > found.best:
            found.best, found.because, found.co_buyers = similarity, x, together
    for sku, found in candidates.items():
        found.score += TIER_WEIGHT * tier_share.get(sku, 0.0)

    catalog = repository.catalog(session)
    tier_zh, tier_en = TIER_NAMES.get(customer.tier, (customer.tier, customer.tier))
    items: list[Recommendation] = []
    for sku, found in sorted(candidates.items(), key=lambda kv: (-kv[1].score, kv[0]))[:limit]:
        assert found.because is not None
        zh, en, price = catalog[sku]
        x_zh, x_en, _ = catalog[found.because]
        items.append(Recommendation(
            sku=sku, name_zh=zh, name_en=en, price=float(price), score=round(found.score, 4),
            reason_kind="co_purchase", because_sku=found.because, because_name_zh=x_zh, because_name_en=x_en,
            buyers=found.co_buyers,
            reason_zh=f"购买了「{x_zh}」的顾客也购买了「{zh}」（{found.co_buyers} 位顾客）",
            reason_en=f"Customers who bought {x_en} also bought {en} ({found.co_buyers} customers)"))
    chosen = {item.sku for item in items} | recent
    for sku, count in sorted(tier_buyers.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(items) >= limit:
            break
        if sku in chosen:
            continue
        chosen.add(sku)
        zh, en, price = catalog[sku]
        items.append(Recommendation(
            sku=sku, name_zh=zh, name_en=en, price=float(price), score=round(TIER_WEIGHT * tier_share[sku], 4),
            reason_kind="tier_popular", buyers=count,
            reason_zh=f"{tier_zh}最常购买的商品之一（{count} 位{tier_zh}购买过）",
            reason_en=f"One of the most bought items among {tier_en} members ({count} of them bought it)"))
    # A tier with too few other members (the only diamond customer): the shop's bestsellers.
    for sku, count in sorted(buyers.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(items) >= limit:
            break
        if sku in chosen:
            continue
        chosen.add(sku)
        zh, en, price = catalog[sku]
        items.append(Recommendation(
            sku=sku, name_zh=zh, name_en=en, price=float(price), score=0.0, reason_kind="bestseller", buyers=count,
            reason_zh=f"本店畅销商品（{count} 位顾客购买过）",
            reason_en=f"One of our bestsellers ({count} customers bought it)"))
    return Recommendations(customer_id=customer_id, tier=customer.tier, items=items)
