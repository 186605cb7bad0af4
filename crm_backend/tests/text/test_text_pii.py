"""PII redaction: every kind is replaced, ordinary numbers survive."""

import pytest

from crm_backend.text.pii import luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机是13800000001，快点回电", "我的手机是[PHONE]，快点回电"),
        ("call me on +86 138 0000 0002", "call me on [PHONE]"),
        ("电话 138-0000-0003", "电话 [PHONE]"),
        ("my number is +44 20 7946 0958 thanks", "my number is [PHONE] thanks"),
        ("US line (415) 555-0134", "US line [PHONE]"),
        ("mail me at emily.carter@example.com!", "mail me at [EMAIL]!"),
        ("身份证号11010519491231002X", "身份证号[ID]"),
        ("id 110105194912310021 please", "id [ID] please"),
        ("card 4111 1111 1111 1111 was charged", "card [CARD] was charged"),
        ("卡号4111-1111-1111-1111", "卡号[CARD]"),
    ],
)
def test_redacts_pii(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单KF20250003到哪了",
        "I paid 1299 yuan on 2025-03-01",
        "refund of 50 dollars",
        "4111 1111 1111 1112 is not a card",  # fails Luhn
    ],
)
def test_leaves_other_numbers(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5500005555555559")
    assert not luhn_valid("4111111111111112")
