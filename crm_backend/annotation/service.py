"""The NLU inbox: messages the bot handled poorly, deduplicated and counted; supervisors' annotations.

A message is in the inbox when the bot fell back on it, understood it with low confidence, the customer
then rephrased it or asked for a human, or an agent who took the conversation over flagged it as
misunderstood. Messages are grouped by language and normalised text, so "Where is
my parcel??" and "where is my parcel" count together, most frequent first. Annotated messages leave the
inbox; the last annotation of a message wins, and every one is in the audit log.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.annotation.models import OUT_OF_SCOPE, Annotation, Correction
from crm_backend.annotation.schemas import AnnotationIn, InboxItem, Ranked
from crm_backend.conversation.models import Conversation, ConversationEvent
from crm_backend.core.config import get_settings
from crm_backend.core.db import utcnow
from crm_backend.core.errors import NotFoundError, ValidationFailed
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import HandoffMessage
from crm_backend.handoff.service import get_visible
from crm_backend.text.pii import redact

LOW_CONFIDENCE = 0.6
FALLBACK_INTENTS = {"nlu_fallback"}
HUMAN_INTENTS = {"request_human"}
# The next customer turn within this many seconds, sharing this much of its wording, is a rephrase.
REPHRASE_SECONDS = 120.0
REPHRASE_OVERLAP = 0.5
# Customer turns read per inbox request (newest first): months of traffic for a small shop.
SCAN_LIMIT = 50_000
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
# Chinese is written without spaces: a space next to a Chinese character is noise, not a word boundary.
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) | (?=[\u3400-\u9fff])")


def normalise(text: str) -> str:
    """Lower case, full-width folded, punctuation and spacing collapsed: the key duplicates share."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _CJK_SPACE.sub("", _PUNCTUATION.sub(" ", folded).strip())


def text_key(text: str) -> str:
    return hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()


def _grams(text: str) -> set[str]:
    norm = normalise(text)
    words = norm.split()
    if len(words) > 2:  # spaced language: words; otherwise character pairs (Chinese)
        return set(words)
    squeezed = norm.replace(" ", "")
    return {squeezed[i:i + 2] for i in range(max(len(squeezed) - 1, 1))}


def is_rephrase(first: str, second: str) -> bool:
    """`second` says much the same as `first` in other words (not the very same text)."""
    if normalise(first) == normalise(second):
        return False
    a, b = _grams(first), _grams(second)
    # Overlap over the shorter message: a rephrase usually adds words ("现在", "now") to the first one.
    return min(len(a), len(b)) >= 2 and len(a & b) / min(len(a), len(b)) >= REPHRASE_OVERLAP


@lru_cache(maxsize=4)
def _domain_intents(path: Path, _mtime: float) -> tuple[str, ...]:
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]
    # EXTERNAL_* intents are sent by the CRM, never typed by a customer.
    return tuple(sorted(n for n in set(names) - FALLBACK_INTENTS if not n.startswith("EXTERNAL_")))


def intents(session: Session) -> list[str]:
    """The intents a supervisor may choose: the bot's domain, else every intent the stream has seen."""
    path = get_settings().nlu_domain_file
    if path.is_file():
        return list(_domain_intents(path, path.stat().st_mtime))
    seen = session.scalars(select(ConversationEvent.intent).where(ConversationEvent.kind == "user",
                                                                  ConversationEvent.intent.is_not(None))
                           .distinct()).all()
    return sorted({s for s in seen if s and not s.startswith("EXTERNAL_")} - FALLBACK_INTENTS)


@dataclass
class _Group:
    text: str
    language: str
    count: int = 0
    channels: set[str] = field(default_factory=set)
    last_seen: datetime | None = None
    reasons: set[str] = field(default_factory=set)
    latest: Any = None


def _reasons(turn: Any, following: Any) -> set[str]:
    reasons = set()
    if turn.intent in FALLBACK_INTENTS:
        reasons.add("fallback")
    elif turn.confidence is not None and turn.confidence < LOW_CONFIDENCE:
        reasons.add("low_confidence")
    if following is not None and following.rasa_ts - turn.rasa_ts <= REPHRASE_SECONDS:
        if following.intent in HUMAN_INTENTS:
            reasons.add("asked_human")
        elif is_rephrase(turn.text, following.text or ""):
            reasons.add("rephrased")
    return reasons


def recent_turns(session: Session, *, since: datetime, language: str | None = None,
                 channel: str | None = None) -> list[Any]:
    """Customer turns with text since `since` (the newest SCAN_LIMIT), with their conversation's language and
    channel: what the inbox and the topics read."""
    query = (select(ConversationEvent.conversation_id, ConversationEvent.rasa_ts, ConversationEvent.at,
                    ConversationEvent.text, ConversationEvent.intent, ConversationEvent.confidence,
                    ConversationEvent.value, Conversation.language, Conversation.channel)
             .join(Conversation, Conversation.id == ConversationEvent.conversation_id)
             .where(ConversationEvent.kind == "user", ConversationEvent.text.is_not(None),
                    ConversationEvent.at >= since)
             .order_by(ConversationEvent.id.desc()).limit(SCAN_LIMIT))
    if language:
        query = query.where(Conversation.language == language)
    if channel:
        query = query.where(Conversation.channel == channel)
    return list(session.execute(query).all())


def inbox(session: Session, *, language: str | None = None, channel: str | None = None, days: int = 30,
          limit: int = 50, offset: int = 0) -> tuple[list[InboxItem], int]:
    """Distinct poorly handled messages of the last `days`, most frequent first, without annotated ones."""
    since = utcnow() - timedelta(days=days)
    turns = sorted(recent_turns(session, since=since, language=language, channel=channel),
                   key=lambda t: (t.conversation_id, t.rasa_ts))
    annotated = {(a.language, a.text_key) for a in session.scalars(select(Annotation))}
    groups: dict[tuple[str, str], _Group] = {}
    sent: dict[tuple[str, str], list[Any]] = {}  # every turn of each text, for the flagged ones below
    for i, turn in enumerate(turns):
        if not (turn.text or "").strip() or turn.text.startswith("/"):  # button payloads are not language
            continue
        following = turns[i + 1] if i + 1 < len(turns) and turns[i + 1].conversation_id == turn.conversation_id \
            else None
        key = (turn.language, text_key(turn.text))
        sent.setdefault(key, []).append(turn)
        reasons = _reasons(turn, following)
        if not reasons:
            continue
        if key in annotated:
            continue
        group = groups.setdefault(key, _Group(text=turn.text, language=turn.language))
        group.count += 1
        group.channels.add(turn.channel or "")
        group.reasons |= reasons
        if group.last_seen is None or turn.at >= group.last_seen:
            group.last_seen, group.latest, group.text = turn.at, turn, turn.text
    flagged = select(Correction).where(Correction.created_at >= since)
    if language:
        flagged = flagged.where(Correction.language == language)
    if channel:
        flagged = flagged.where(Correction.channel == channel)
    for correction in session.scalars(flagged):
        key = (correction.language, correction.text_key)
        if key in annotated:
            continue
        if key not in groups:  # understood with confidence, yet wrong: only the agent saw it
            seen = sent.get(key, [])
            groups[key] = _Group(text=correction.text, language=correction.language, count=max(len(seen), 1),
                                 last_seen=max((t.at for t in seen), default=correction.created_at),
                                 latest=seen[-1] if seen else None, channels={t.channel or "" for t in seen})
        group = groups[key]
        group.reasons.add("agent_corrected")
        group.channels.add(correction.channel)
    ordered = sorted(groups.values(), key=lambda g: (-g.count, -(g.last_seen or since).timestamp()))
    page = ordered[offset:offset + limit]
    items = [InboxItem(text=g.text, language=g.language, count=g.count, channels=sorted(c for c in g.channels if c),
                       last_seen=g.last_seen or since, reasons=sorted(g.reasons),
                       predicted=g.latest.intent if g.latest else None,
                       confidence=g.latest.confidence if g.latest else None,
                       top_intents=[Ranked(**r) for r in ((g.latest.value if g.latest else None) or [])
                                    if isinstance(r, dict)])
             for g in page]
    return items, len(ordered)


def flag_misunderstood(session: Session, *, handoff_id: int, message_id: int, agent: Agent) -> Correction:
    """An agent marks a customer message of a conversation they can see as misunderstood by the bot: it goes
    to the NLU inbox for a supervisor to annotate. Flagging twice keeps one flag. Flushes."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    message = session.get(HandoffMessage, message_id)
    if message is None or message.handoff_id != handoff.id or message.role != "user":
        raise NotFoundError(f"Customer message {message_id} not found in conversation {handoff_id}",
                            f"会话 {handoff_id} 中没有客户消息 {message_id}", code="message_not_found")
    existing = session.scalars(select(Correction).where(Correction.message_id == message.id)).first()
    if existing is not None:
        return existing
    text = redact(message.text.strip())
    correction = Correction(message_id=message.id, handoff_id=handoff.id, language=handoff.language or "zh",
                            channel=handoff.channel or "", text_key=text_key(text), text=text, agent_id=agent.id,
                            created_at=utcnow())
    session.add(correction)
    audit(session, agent=agent, action="nlu_flag", handoff_id=handoff.id, details={"message": message.id})
    session.flush()
    return correction


def annotate(session: Session, *, items: list[AnnotationIn], agent: Agent) -> list[Annotation]:
    """Record each decision (the last one on a message wins) and audit it. Flushes."""
    known = set(intents(session))
    saved = []
    for item in items:
        if item.out_of_scope == (item.intent is not None):
            raise ValidationFailed("give either an intent or out_of_scope", "请选择一个意图，或标记为超出范围")
        intent = OUT_OF_SCOPE if item.out_of_scope else str(item.intent)
        if intent != OUT_OF_SCOPE and known and intent not in known:
            raise ValidationFailed(f"unknown intent {intent}", f"未知意图 {intent}")
        text = redact(item.text.strip())
        if not normalise(text):
            raise ValidationFailed("the message has no words", "该消息没有可标注的文字")
        key = text_key(text)
        row = session.scalars(select(Annotation).where(Annotation.language == item.language,
                                                       Annotation.text_key == key)).first()
        previous = row.intent if row else None
        decision = ("out_of_scope" if intent == OUT_OF_SCOPE else
                    "confirmed" if item.predicted and item.predicted == intent else "changed")
        if row is None:
            row = Annotation(language=item.language, text_key=key, text=text)
            session.add(row)
        row.intent, row.predicted, row.decision = intent, item.predicted, decision
        row.annotated_by, row.annotated_at = agent.id, datetime.now(UTC)
        audit(session, agent=agent, action="nlu_annotate",
              details={"text": text[:200], "language": item.language, "intent": intent, "previous": previous})
        saved.append(row)
    session.flush()
    return saved


def list_annotations(session: Session, *, language: str | None = None, limit: int = 50,
                offset: int = 0) -> tuple[list[Annotation], int]:
    query = select(Annotation)
    if language:
        query = query.where(Annotation.language == language)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Annotation.annotated_at.desc(), Annotation.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), total
