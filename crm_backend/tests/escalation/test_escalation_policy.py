"""Every row of the escalation rule table, plus precedence between rows."""

import pytest

from crm_backend.escalation.policy import EscalationInput, decide
from crm_backend.scoring.importance import is_top, is_vip


@pytest.mark.parametrize(("inputs", "escalate", "priority", "code"), [
    (dict(complaint_severity="critical"), True, "urgent", "critical_complaint"),
    (dict(tier="diamond", explicit_request=True), True, "urgent", "vip_request"),
    (dict(tier="gold", explicit_request=True), True, "high", "vip_request"),
    (dict(tier="regular", value_segment="value", explicit_request=True), True, "urgent", "vip_request"),
    (dict(tier="gold", is_complaint=True, complaint_severity="medium"), True, "high", "vip_complaint"),
    (dict(tier="gold", is_complaint=True, complaint_severity="high"), True, "urgent", "vip_complaint"),
    (dict(tier="diamond", is_complaint=True, message_sentiment=-0.8), True, "urgent", "vip_complaint"),
    (dict(tier="regular", bot_failures=3), True, "normal", "bot_failures"),
    (dict(tier="silver", bot_failures=4, message_sentiment=-0.6), True, "high", "bot_failures"),
    (dict(tier="regular", explicit_request=True, bot_failures=1), True, "normal", "repeated_request"),
    (dict(tier="regular", explicit_request=True, message_sentiment=-0.5), True, "normal", "repeated_request"),
    (dict(tier="silver", is_complaint=True, churn_risk=0.8), True, "high", "churn_risk_complaint"),
    (dict(tier="silver", complaint_severity="high", message_sentiment=-0.4), True, "high", "severe_complaint"),
    (dict(tier="regular", is_complaint=True, satisfaction=30), True, "normal", "low_satisfaction_complaint"),
    (dict(tier="regular", explicit_request=True), False, "normal", "bot_first_request"),
    (dict(tier="silver", is_complaint=True, complaint_severity="high"), False, "high", "bot_first_ticket"),
    (dict(tier="regular", is_complaint=True), False, "normal", "bot_first_ticket"),
    (dict(), False, "low", "self_service"),
    (dict(tier="diamond"), False, "low", "self_service"),
])
def test_rule_table(inputs: dict, escalate: bool, priority: str, code: str) -> None:
    decision = decide(EscalationInput(**inputs))
    assert (decision.escalate, decision.priority, decision.reason_code) == (escalate, priority, code)
    assert decision.reason("en") and decision.reason("zh") != decision.reason("en")


def test_precedence() -> None:
    # critical beats VIP routing; VIP beats bot failures; severity alone counts as a complaint
    assert decide(EscalationInput(tier="diamond", explicit_request=True, complaint_severity="critical")
                  ).reason_code == "critical_complaint"
    assert decide(EscalationInput(tier="gold", is_complaint=True, bot_failures=5)).reason_code == "vip_complaint"
    assert decide(EscalationInput(complaint_severity="medium")).reason_code == "bot_first_ticket"
    # a non-VIP, unhappy but not complaining and no request, stays with the bot
    assert not decide(EscalationInput(tier="regular", satisfaction=10, churn_risk=0.9)).escalate


def test_is_vip() -> None:
    assert is_vip("gold", None) and is_vip("diamond", "low") and is_vip("regular", "value")
    assert not is_vip("silver", "potential") and not is_vip(None, None)


def test_top_customers_are_the_console_value_customers_and_get_urgent_priority() -> None:
    # One rule (scoring/importance.py) for the console's "value customer" and the policy's top priority.
    assert is_top("diamond", None) and is_top("regular", "value")
    assert not is_top("gold", None) and not is_top(None, None)
    for tier, segment in [("diamond", None), ("regular", "value"), ("gold", None)]:
        decision = decide(EscalationInput(tier=tier, value_segment=segment, explicit_request=True))
        assert decision.priority == ("urgent" if is_top(tier, segment) else "high")
