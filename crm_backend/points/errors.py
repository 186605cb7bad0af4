"""Points and rewards errors (mapped to HTTP by core's single exception handler)."""

from __future__ import annotations

from crm_backend.core.errors import ConflictError, NotFoundError


class InsufficientPoints(ConflictError):
    def __init__(self, balance: int, required: int) -> None:
        super().__init__(
            f"Not enough points: balance {balance}, required {required}",
            f"积分不足：当前 {balance}，需要 {required}",
            code="insufficient_points",
            details={"balance": balance, "required": required},
        )


class OutOfStock(ConflictError):
    def __init__(self, reward_code: str, stock: int) -> None:
        super().__init__(
            f"Reward {reward_code} is out of stock",
            f"礼品 {reward_code} 库存不足",
            code="out_of_stock",
            details={"reward_code": reward_code, "stock": stock},
        )


class RewardNotFound(NotFoundError):
    def __init__(self, reward_code: str) -> None:
        super().__init__(f"Reward {reward_code} not found", f"未找到礼品 {reward_code}", code="reward_not_found")
