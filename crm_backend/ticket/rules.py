"""Pure ticket rules: SLA hours by tier × severity, and the status workflow.

SLA (hours until the ticket must be resolved):

| severity | regular | silver | gold | diamond |
| --- | --- | --- | --- | --- |
| critical | 4 | 4 | 2 | 1 |
| high | 24 | 12 | 8 | 4 |
| medium | 48 | 36 | 24 | 12 |
| low | 72 | 48 | 36 | 24 |

A ticket without a known customer uses the regular column.

Workflow: open → in_progress → resolved → closed; reopen: resolved → open, closed → open.
"""

from __future__ import annotations

SLA_HOURS: dict[str, dict[str, int]] = {
    "critical": {"regular": 4, "silver": 4, "gold": 2, "diamond": 1},
    "high": {"regular": 24, "silver": 12, "gold": 8, "diamond": 4},
    "medium": {"regular": 48, "silver": 36, "gold": 24, "diamond": 12},
    "low": {"regular": 72, "silver": 48, "gold": 36, "diamond": 24},
}

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "open"}),
    "closed": frozenset({"open"}),
}

SEVERITY_ALIASES = {"normal": "medium"}


def sla_hours(*, tier: str | None, severity: str) -> int:
    """Hours allowed for a ticket of ``severity`` from a customer of ``tier`` (regular when unknown)."""
    row = SLA_HOURS[SEVERITY_ALIASES.get(severity, severity)]
    return row.get(tier or "regular", row["regular"])


def can_transition(current: str, target: str) -> bool:
    """True when the workflow allows ``current`` → ``target``."""
    return target in TRANSITIONS.get(current, frozenset())
