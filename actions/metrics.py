"""What the action server counts: CRM calls as the bot sees them, action runs, fallbacks, handoffs and
kept writes (served at the action server's `/metrics` by `rasa_sdk_plugins`).

Labels are bounded: CRM paths are reduced to their templates, actions are the domain's action names.
Kept writes live in conversations (slots), not here: `kefu_kept_writes_total - kefu_kept_writes_settled_total`
summed over all action servers is what is waiting (deploy/prometheus/alerts.yml).
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

from kefu_ops.metrics import LATENCY_BUCKETS

CRM_SECONDS = Histogram("kefu_crm_call_duration_seconds", "CRM API calls from the action server.",
                        ["method", "path", "outcome"], buckets=LATENCY_BUCKETS)
CRM_FAILURES = Counter("kefu_crm_call_failures_total", "CRM calls that timed out, failed to connect or got a 5xx.",
                       ["method", "path", "reason"])
ACTION_SECONDS = Histogram("kefu_action_duration_seconds", "Custom action runs.", ["action", "outcome"],
                           buckets=LATENCY_BUCKETS)
FALLBACKS = Counter("kefu_bot_fallbacks_total", "Fallback actions run (the bot did not understand).",
                    ["action", "language"])
HANDOFFS = Counter("kefu_handoffs_requested_total", "Escalations to a human, by outcome and priority.",
                   ["outcome", "priority", "channel"])
KEPT = Counter("kefu_kept_writes_total", "Writes kept in a conversation because the CRM was down.", ["kind"])
SETTLED = Counter("kefu_kept_writes_settled_total", "Kept writes that left the conversation.", ["kind", "outcome"])

FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_default_ask_affirmation",
                              "action_default_ask_rephrase"})

_TEMPLATES = (
    (re.compile(r"^/identity/channels/[^/]+/[^/]+$"), "/identity/channels/{channel}/{sender_id}"),
    (re.compile(r"/KF\d+"), "/{order_no}"),
    (re.compile(r"/T\d+"), "/{ticket_no}"),
    (re.compile(r"/\d+"), "/{id}"),
)


def path_template(path: str) -> str:
    """`/customers/1/orders/KF20250001` → `/customers/{id}/orders/{order_no}`."""
    for pattern, replacement in _TEMPLATES:
        path = pattern.sub(replacement, path)
    return path
