"""The escalation rule table (first matching rule wins; the same table is in docs/notes/crm-analytics.md).

| # | condition | escalate | priority | reason_code |
| - | --- | --- | --- | --- |
| 1 | complaint severity critical | yes | urgent | critical_complaint |
| 2 | VIP + explicit request for a human | yes | urgent if diamond/value else high | vip_request |
| 3 | VIP + complaint | yes | urgent if severity high or message very negative (≤ −0.5) else high | vip_complaint |
| 4 | bot failures ≥ 3 | yes | high if message negative else normal | bot_failures |
| 5 | explicit request and (bot failures ≥ 1 or message negative) | yes | normal | repeated_request |
| 6 | complaint and churn risk ≥ 0.7 | yes | high | churn_risk_complaint |
| 7 | complaint severity high and message negative | yes | high | severe_complaint |
| 8 | complaint and satisfaction < 40 | yes | normal | low_satisfaction_complaint |
| 9 | explicit request (first time) | no | normal | bot_first_request |
| 10 | complaint | no | high if severity high else normal | bot_first_ticket |
| 11 | otherwise | no | low | self_service |

VIP and "diamond or value" (top) are the shared rule of `scoring/importance.py`.
"Message negative" = sentiment score ≤ −0.3.
Rules 9–10: the bot keeps the conversation, opens a ticket and offers a human if it fails again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crm_backend.scoring.importance import is_top, is_vip

Priority = Literal["urgent", "high", "normal", "low"]
NEGATIVE = -0.3
VERY_NEGATIVE = -0.5
BOT_FAILURE_LIMIT = 3
CHURN_HIGH = 0.7
SATISFACTION_LOW = 40.0


@dataclass(frozen=True)
class EscalationInput:
    """Everything the policy looks at; customer facts are None for an unknown (unverified) customer."""

    tier: str | None = None
    value_segment: str | None = None
    satisfaction: float | None = None
    churn_risk: float | None = None
    message_sentiment: float | None = None  # −1..1
    complaint_severity: str | None = None  # low / medium / high / critical
    explicit_request: bool = False
    bot_failures: int = 0
    is_complaint: bool = False


@dataclass(frozen=True)
class Decision:
    """The policy's answer: escalate or not, with priority, an English + Chinese reason and a stable code."""

    escalate: bool
    priority: Priority
    reason_code: str
    reason_en: str
    reason_zh: str

    def reason(self, language: str) -> str:
        return self.reason_zh if language == "zh" else self.reason_en


def decide(i: EscalationInput) -> Decision:
    """Apply the rule table above to ``i``."""
    vip = is_vip(i.tier, i.value_segment)
    sentiment = i.message_sentiment if i.message_sentiment is not None else 0.0
    negative = sentiment <= NEGATIVE
    severity = (i.complaint_severity or "").lower()
    complaint = i.is_complaint or bool(severity)

    if severity == "critical":
        return Decision(True, "urgent", "critical_complaint", "critical complaint", "严重投诉")
    if vip and i.explicit_request:
        return Decision(True, "urgent" if is_top(i.tier, i.value_segment) else "high", "vip_request",
                        "value customer asked for a human", "价值客户要求人工服务")
    if vip and complaint:
        urgent = severity == "high" or sentiment <= VERY_NEGATIVE
        return Decision(True, "urgent" if urgent else "high", "vip_complaint",
                        "complaint from a value customer", "价值客户投诉")
    if i.bot_failures >= BOT_FAILURE_LIMIT:
        return Decision(True, "high" if negative else "normal", "bot_failures",
                        f"the bot failed {i.bot_failures} times", f"机器人连续 {i.bot_failures} 次未能解决")
    if i.explicit_request and (i.bot_failures >= 1 or negative):
        return Decision(True, "normal", "repeated_request", "customer insists on a human", "客户坚持要求人工服务")
    if complaint and (i.churn_risk or 0.0) >= CHURN_HIGH:
        return Decision(True, "high", "churn_risk_complaint", "complaint from a customer at risk of churning",
                        "高流失风险客户投诉")
    if severity == "high" and negative:
        return Decision(True, "high", "severe_complaint", "serious complaint from an upset customer",
                        "情绪激动的严重投诉")
    if complaint and i.satisfaction is not None and i.satisfaction < SATISFACTION_LOW:
        return Decision(True, "normal", "low_satisfaction_complaint", "complaint from a dissatisfied customer",
                        "低满意度客户投诉")
    if i.explicit_request:
        return Decision(False, "normal", "bot_first_request", "bot first; a human is offered if it cannot help",
                        "先由机器人处理，无法解决时转人工")
    if complaint:
        return Decision(False, "high" if severity == "high" else "normal", "bot_first_ticket",
                        "bot handles it and opens a ticket", "机器人处理并创建工单")
    return Decision(False, "low", "self_service", "self-service", "自助服务")
