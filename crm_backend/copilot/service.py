"""The handoff summary an agent reads before answering, and canned replies filled for its customer.

Everything is extractive: key turns are the customer's own redacted words, never generated text, so
the agent can trust what they read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_backend.console import customer360
from crm_backend.console.canned import CANNED
from crm_backend.copilot.schemas import (
    Collected,
    CustomerBrief,
    FilledReply,
    HandoffSummary,
    KeyTurn,
    SentimentTrend,
)
from crm_backend.handoff import service as handoffs
from crm_backend.handoff.models import Handoff, HandoffMessage
from crm_backend.text.analyzer import CATEGORY_CONFIDENCE_MIN, analyze
from crm_backend.text.pii import redact

ORDER_NO = re.compile(r"KF\d{8}", re.I)
VARIABLE = re.compile(r"\{(name|order_no|points)\}")
KEY_TURNS = 3
# A long conversation is summarised from its latest turns: analysis costs about a millisecond a turn.
ANALYSED_TURNS = 40
# Half-to-half change in mean sentiment (scores are in [-1, 1]) below which the mood is "steady".
TREND_STEP = 0.2
# A complaint is a clearly negative turn: "hi" scored -0.0001 (label neutral) on one machine's training of
# the sentiment model, and became the conversation's "complaint".
COMPLAINT_BELOW = -0.2


@dataclass(frozen=True)
class _Turn:
    message: HandoffMessage
    text: str
    score: float
    category: str
    confidence: float


def _customer_turns(session: Session, handoff: Handoff) -> list[_Turn]:
    rows = [m for m in handoffs.messages(session, handoff_id=handoff.id) if m.role == "user" and m.text.strip()]
    turns = []
    for message in rows[-ANALYSED_TURNS:]:
        text = redact(message.text)  # stored turns are redacted already; this keeps a missed one out of the view
        result = analyze(text)
        turns.append(_Turn(message, text, result.sentiment.score, result.category.label, result.category.score))
    return turns


def _trend(turns: list[_Turn]) -> SentimentTrend:
    scores = [round(t.score, 2) for t in turns]
    if len(scores) < 2:
        return SentimentTrend(scores=scores, first=scores[0] if scores else None,
                              last=scores[-1] if scores else None, direction="unknown")
    half = len(scores) // 2
    change = sum(scores[-half:]) / half - sum(scores[:half]) / half
    direction = "improving" if change > TREND_STEP else "worsening" if change < -TREND_STEP else "steady"
    return SentimentTrend(scores=scores, first=scores[0], last=scores[-1], direction=direction)


def _key_turns(turns: list[_Turn]) -> list[KeyTurn]:
    # The most negative turns say what went wrong; among equals the longest says the most.
    chosen = sorted(turns, key=lambda t: (round(t.score, 1), -len(t.text)))[:KEY_TURNS]
    chosen.sort(key=lambda t: t.message.id)
    return [KeyTurn(text=t.text, sentiment=round(t.score, 2), at=t.message.created_at) for t in chosen]


def _collected(handoff: Handoff, turns: list[_Turn]) -> Collected:
    orders: list[str] = []
    for turn in turns:
        for found in ORDER_NO.findall(turn.text):
            if found.upper() not in orders:
                orders.append(found.upper())
    negative = [t for t in turns if t.score < COMPLAINT_BELOW]
    complaint = min(negative, key=lambda t: (t.score, -len(t.text))) if negative else None
    category = (complaint.category if complaint is not None and complaint.confidence >= CATEGORY_CONFIDENCE_MIN
                else None)
    return Collected(order_numbers=orders, complaint=complaint.text if complaint else None, category=category,
                     tickets=[handoff.ticket_no] if handoff.ticket_no else [])


def _customer(session: Session, handoff: Handoff, language: str) -> CustomerBrief | None:
    if handoff.customer_id is None:
        return None
    view = customer360.build(session, customer_id=handoff.customer_id, language=language)
    if view is None:
        return None
    churn = view["churn_risk"] or {}
    return CustomerBrief(id=view["id"], name=view["name"], tier=view["tier"], segment=view["segment"],
                         churn_level=churn.get("level"), churn_score=churn.get("score"),
                         churn_reasons=churn.get("reasons", []),
                         open_tickets=[t["ticket_no"] for t in view["open_tickets"]], points=view["points"])


def summarize(session: Session, *, handoff: Handoff, language: str) -> HandoffSummary:
    """The summary of a handoff the agent may see; labels are translated by the console."""
    turns = _customer_turns(session, handoff)
    return HandoffSummary(handoff_id=handoff.id, reason_code=handoff.reason_code, reason=handoff.reason,
                          key_turns=_key_turns(turns), collected=_collected(handoff, turns),
                          sentiment=_trend(turns), customer=_customer(session, handoff, language))


def customer_values(session: Session, handoff: Handoff, language: str) -> dict[str, str]:
    """The values canned-reply variables take for this handoff's customer (only those that are known)."""
    values: dict[str, str] = {}
    orders = [o.upper() for m in handoffs.messages(session, handoff_id=handoff.id) if m.role == "user"
              for o in ORDER_NO.findall(m.text)]
    view = (customer360.build(session, customer_id=handoff.customer_id, language=language)
            if handoff.customer_id is not None else None)
    if view is not None:
        if view["name"]:
            values["name"] = str(view["name"])
        values["points"] = str(view["points"])
        if view["recent_orders"]:
            values["order_no"] = str(view["recent_orders"][0]["order_no"])
    if orders:  # the order the customer talked about beats their latest one
        values["order_no"] = orders[-1]
    return values


def fill(template: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """`template` with known variables replaced; unknown ones stay visible for the agent to fill in.

    A plain substitution, not str.format: customer data never gets to act as a format string.
    """
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return match.group(0)

    return VARIABLE.sub(replace, template), missing


def filled_replies(session: Session, *, handoff: Handoff, language: str) -> list[FilledReply]:
    """Every canned reply in `language`, its variables filled from the handoff's customer."""
    lang = "en" if language == "en" else "zh"
    values = customer_values(session, handoff, lang)
    replies = []
    for canned in CANNED:
        text, missing = fill(canned[lang], values)
        replies.append(FilledReply(code=canned["code"], title=canned[f"title_{lang}"], text=text, missing=missing))
    return replies
