"""Answer parsing that needs no CRM: survey scores, phone numbers, reward names, complaint categories."""

from __future__ import annotations

import time

import jwt
import pytest

from actions.common import customer_from_token
from actions.complaints import category_from
from actions.feedback import score_from
from actions.forms import PHONE, digits
from actions.points import reward_code_from

CODES = ["SOLDOUT", "COUPON10", "MUG", "COUPON50", "VIPLOUNGE"]


@pytest.mark.parametrize(("answer", "expected"), [("4", 4), ("4分", 4), ("五星", 5), ("ten", 10), ("1 or 2", None),
                                                  ("great", None)])
def test_score_parsing(answer: str, expected: int | None) -> None:
    assert score_from(answer) == expected


@pytest.mark.parametrize(("answer", "expected"), [("13800000003", True), ("+86 138-0000-0003", True),
                                                  ("1380000000", False), ("23800000003", False)])
def test_phone_numbers(answer: str, expected: bool) -> None:
    assert bool(PHONE.match(digits(answer))) == expected


@pytest.mark.parametrize(("answer", "expected"), [("马克杯", "MUG"), ("the mug please", "MUG"), ("50元券", "COUPON50"),
                                                  ("10元优惠券", "COUPON10"), ("viplounge", "VIPLOUNGE"),
                                                  ("贵宾厅", "VIPLOUNGE"), ("a unicorn", None)])
def test_reward_names(answer: str, expected: str | None) -> None:
    assert reward_code_from(answer, CODES) == expected


@pytest.mark.parametrize(("answer", "expected"), [("物流配送", "delivery"), ("product quality", "product_quality"),
                                                  ("退货退款", "refund_return"), ("其他", "other"), ("??", None)])
def test_categories(answer: str, expected: str | None) -> None:
    assert category_from(answer) == expected


def test_customer_tokens_are_refused_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """No built-in fallback secret: without CUSTOMER_TOKEN_SECRET no token verifies anyone."""
    signed = jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, "a-test-secret", algorithm="HS256")
    monkeypatch.delenv("CUSTOMER_TOKEN_SECRET", raising=False)
    assert customer_from_token(signed) is None
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "a-test-secret")
    assert customer_from_token(signed) == 1
