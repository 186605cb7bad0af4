"""The five playbooks Kefu ships (created once by `ensure_defaults`; supervisors edit them afterwards)."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "win_back": dict(
        name_zh="流失挽回", name_en="Win-back",
        audience={"lifecycle_stages": ["decline"], "churn_risk_min": 0.6},
        template_zh="{name}，好久不见！我们为您准备了 {offer_points} 积分回归礼，14 天内下单即可使用。",
        template_en="{name}, we miss you! Here are {offer_points} comeback points; use them on an order "
                    "within 14 days.",
        offer_kind="points", offer_points=200, schedule="daily", window_days=14),
    "upgrade_nudge": dict(
        name_zh="升级提醒", name_en="Upgrade nudge",
        audience={"within_pct_of_next_tier": 20},
        template_zh="{name}，再消费 {amount_to_next} 元即可升级为{next_tier}，享受更多专属权益。",
        template_en="{name}, spend {amount_to_next} CNY more to reach {next_tier} and its exclusive benefits.",
        schedule="daily", window_days=30),
    "birthday_double_points": dict(
        name_zh="生日双倍积分", name_en="Birthday double points",
        audience={"birthday_this_month": True},
        template_zh="生日快乐，{name}！本月购物享双倍积分。",
        template_en="Happy birthday, {name}! Every order this month earns double points.",
        schedule="daily", window_days=30),
    "csat_check_in": dict(
        name_zh="签收 7 天回访", name_en="CSAT check-in 7 days after delivery",
        purpose="service",
        template_zh="{name}，您的订单 {order_no} 已签收一周，使用还满意吗？回复 1–5 分告诉我们。",
        template_en="{name}, your order {order_no} arrived a week ago. How satisfied are you? Reply 1–5.",
        schedule="event", event={"type": "order_delivered", "days": 7}, window_days=14),
    "welcome": dict(
        name_zh="新客欢迎", name_en="Welcome",
        audience={"joined_within_days": 7},
        template_zh="欢迎加入，{name}！送您一张 {coupon_value} 元优惠券：{coupon_code}。",
        template_en="Welcome, {name}! Here is a {coupon_value} CNY coupon: {coupon_code}.",
        offer_kind="coupon", coupon_value=20, schedule="daily", window_days=30),
}
