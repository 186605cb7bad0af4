"""SLA table and workflow rules."""

import pytest

from crm_backend.ticket.rules import TRANSITIONS, can_transition, sla_hours


def test_sla_table() -> None:
    assert sla_hours(tier="diamond", severity="critical") == 1
    assert sla_hours(tier="gold", severity="high") == 8
    assert sla_hours(tier="silver", severity="medium") == 36
    assert sla_hours(tier=None, severity="low") == 72
    assert sla_hours(tier="regular", severity="normal") == 48


@pytest.mark.parametrize(("current", "target", "ok"), [
    ("open", "in_progress", True), ("in_progress", "resolved", True), ("resolved", "closed", True),
    ("resolved", "open", True), ("closed", "open", True),
    ("open", "closed", False), ("open", "resolved", False), ("in_progress", "open", False),
    ("closed", "resolved", False), ("open", "open", False), ("bogus", "open", False),
])
def test_transitions(current: str, target: str, ok: bool) -> None:
    assert can_transition(current, target) is ok
    assert set(TRANSITIONS) == {"open", "in_progress", "resolved", "closed"}
