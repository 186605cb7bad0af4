"""Message templates: `{field}` placeholders over a fixed set of customer fields, checked when saved."""

from __future__ import annotations

import string
from typing import Any

from crm_backend.core.errors import ValidationFailed

FIELDS = {
    "name": "the customer's name in the message language",
    "tier": "tier name in the message language",
    "points_balance": "current points balance",
    "next_tier": "next tier name",
    "amount_to_next": "spend still needed for the next tier (CNY)",
    "offer_points": "bonus points of the offer",
    "coupon_code": "the customer's coupon code",
    "coupon_value": "coupon value (CNY)",
    "order_no": "the order of an event playbook",
}


def placeholders(template: str) -> list[str]:
    """The field names used by `template`; malformed braces, conversions and format specs are refused."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValidationFailed(f"Template is malformed: {error}", f"模板格式错误：{error}") from error
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValidationFailed(f"Placeholder {{{name}}} must be a plain field name",
                                   f"占位符 {{{name}}} 只能是字段名")
        names.append(name)
    return names


def validate(template: str) -> None:
    """Refuse a template with a field the sender cannot fill (at save time, never at send time)."""
    unknown = sorted({name for name in placeholders(template) if name not in FIELDS})
    if unknown:
        listed = ", ".join(unknown)
        raise ValidationFailed(f"Unknown template field(s): {listed}. Known: {', '.join(FIELDS)}",
                               f"模板中有未知字段：{listed}。可用字段：{'、'.join(FIELDS)}",
                               details={"unknown_fields": unknown, "known_fields": list(FIELDS)})


def render(template: str, values: dict[str, Any]) -> str:
    return template.format_map({name: values.get(name, "") for name in FIELDS})
