"""Storing Rasa's tracker events as conversations, and reading them back for the console.

`ingest_batch` is the one path every source (RabbitMQ, the SQL broker file) goes through. It flushes;
the caller commits and only then acknowledges the events to their source.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.conversation.models import Conversation, ConversationEvent, Outcome
from crm_backend.handoff import conversation as handoff_turns
from crm_backend.handoff.models import Handoff, HandoffStatus
from crm_backend.text.pii import redact

log = logging.getLogger(__name__)

FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "utter_default"}
HANDOFF_ACTIONS = {"action_handoff_to_human"}
# Events that carry nothing a transcript or a figure needs.
IGNORED = {"action_execution_rejected", "followup", "reminder", "cancel_reminder", "entities", "undo", "rewind",
           "export", "stack", "restart"}
KINDS = {"user", "bot", "action", "slot", "active_loop", "pause", "resume", "session_started",
         "user_featurization", "loop_interrupted", "restart", "agent"}


class MalformedEvent(ValueError):
    """An event that is not a Rasa tracker event (logged and skipped by the consumer)."""


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    handoff_ids: set[int] = field(default_factory=set)  # handoffs whose live transcript got a new turn


def _checked(event: Any) -> dict[str, Any]:
    """A decoded item that is a usable event, or MalformedEvent."""
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    if not isinstance(event.get("sender_id"), str) or not event["sender_id"]:
        raise MalformedEvent("no sender_id")
    if not isinstance(event.get("event"), str):
        raise MalformedEvent("no event type")
    try:
        float(event.get("timestamp") or 0)
    except (TypeError, ValueError) as error:
        raise MalformedEvent("bad timestamp") from error
    return event


def parse_message(raw: bytes | str) -> tuple[list[dict[str, Any]], int]:
    """The events of one broker message and how many of them were malformed.

    Rasa's brokers send one event per message; Kefu's batching Pika broker sends a JSON list of them.
    """
    try:
        decoded = json.loads(raw)
    except (TypeError, ValueError, UnicodeDecodeError) as error:
        log.warning("malformed event skipped: not JSON: %s: %r", error, (raw or b"")[:200])
        return [], 1
    events, malformed = [], 0
    for item in decoded if isinstance(decoded, list) else [decoded]:
        try:
            events.append(_checked(item))
        except MalformedEvent as error:
            malformed += 1
            log.warning("malformed event skipped: %s: %r", error, str(item)[:200])
    return events, malformed


def event_key(event: dict[str, Any]) -> str:
    """A hash of the whole event: the same event delivered twice has the same key."""
    return hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()


def _new_conversation(sender_id: str, at: datetime) -> Conversation:
    return Conversation(sender_id=sender_id, started_at=at, last_activity_at=at, channel="", language="zh",
                        outcome=Outcome.OPEN, has_handoff=False, user_turns=0, fallback_turns=0, last_user_ts=0.0,
                        last_user_fallback=False, last_bot_ts=0.0)


def _conversation(session: Session, *, sender_id: str, at: datetime, cache: dict[str, Conversation]) -> Conversation:
    found = cache.get(sender_id) or session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))
    if found is None:
        found = _new_conversation(sender_id, at)
        try:
            with session.begin_nested():
                session.add(found)
                session.flush()
        except IntegrityError:  # another consumer created it a moment ago
            found = session.scalars(select(Conversation).where(Conversation.sender_id == sender_id)).one()
    cache[sender_id] = found
    return found


def _redacted_value(value: Any) -> Any:
    return redact(value)[:1000] if isinstance(value, str) else value


def _apply(conversation: Conversation, row: ConversationEvent, event: dict[str, Any]) -> None:
    """Update the conversation's figures with one newly stored event."""
    conversation.started_at = min(conversation.started_at, row.at)
    conversation.last_activity_at = max(conversation.last_activity_at, row.at)
    ts = row.rasa_ts
    if row.kind == "user":
        conversation.user_turns += 1
        fallback = row.intent in FALLBACK_INTENTS
        conversation.fallback_turns += int(fallback)
        if ts >= conversation.last_user_ts:
            conversation.last_user_ts, conversation.last_user_fallback = ts, fallback
        if event.get("input_channel"):
            conversation.channel = str(event["input_channel"])[:32]
        language = ((event.get("metadata") or {}).get("language") if isinstance(event.get("metadata"), dict) else None)
        if language in ("zh", "en"):
            conversation.language = language
    elif row.kind == "bot":
        conversation.last_bot_ts = max(conversation.last_bot_ts, ts)
    elif row.kind == "action" and row.name in FALLBACK_ACTIONS and ts >= conversation.last_user_ts:
        conversation.last_user_fallback = True
    elif row.kind == "action" and row.name in HANDOFF_ACTIONS or row.kind == "pause":
        conversation.has_handoff = True
    elif row.kind == "slot":
        if row.name == "language" and row.value in ("zh", "en"):
            conversation.language = row.value
        elif row.name == "customer_id" and row.value not in (None, ""):
            try:
                conversation.customer_id = int(row.value)
            except (TypeError, ValueError):
                pass
        elif row.name == "csat_score" and row.value not in (None, ""):
            try:
                conversation.csat = int(float(row.value))
            except (TypeError, ValueError):
                pass
    conversation.outcome = outcome_of(conversation)


def outcome_of(conversation: Conversation) -> str:
    """Handed off beats everything; else the newest customer turn decides: answered → bot, fallback → abandoned."""
    if conversation.has_handoff:
        return Outcome.HANDOFF
    if not conversation.user_turns:
        return Outcome.OPEN
    if conversation.last_user_fallback:
        return Outcome.ABANDONED
    return Outcome.BOT if conversation.last_bot_ts >= conversation.last_user_ts else Outcome.OPEN


def _row(conversation: Conversation, event: dict[str, Any], key: str) -> ConversationEvent:
    kind = event["event"]
    ts = float(event.get("timestamp") or 0.0)
    # Every column set (None included): rows with the same columns go to the database in one INSERT.
    row = ConversationEvent(conversation_id=conversation.id, event_key=key, kind=kind[:32], rasa_ts=ts,
                            at=datetime.fromtimestamp(ts, UTC), text=None, name=None, intent=None, confidence=None,
                            entities=None, value=None)
    if kind in ("user", "bot") and event.get("text"):
        row.text = redact(str(event["text"]))[:4000]
    metadata = event.get("metadata")
    if kind == "bot" and isinstance(metadata, dict) and metadata.get("kefu_agent_id") is not None:
        row.name = "agent"  # a human agent's reply, sent through Rasa as a bot event
    if kind == "user":
        parse_data: dict[str, Any] = event["parse_data"] if isinstance(event.get("parse_data"), dict) else {}
        intent: dict[str, Any] = parse_data["intent"] if isinstance(parse_data.get("intent"), dict) else {}
        row.intent = str(intent.get("name"))[:128] if intent.get("name") else None
        if isinstance(intent.get("confidence"), int | float):
            row.confidence = float(intent["confidence"])
        # The model's top 3, for the supervisors' NLU inbox.
        ranking = parse_data.get("intent_ranking")
        if isinstance(ranking, list):
            row.value = [{"name": str(r.get("name"))[:128], "confidence": round(float(r.get("confidence") or 0), 4)}
                         for r in ranking[:3] if isinstance(r, dict) and r.get("name")]
        entities = parse_data.get("entities")
        if isinstance(entities, list):
            row.entities = [{"entity": e.get("entity"), "value": _redacted_value(e.get("value"))}
                            for e in entities if isinstance(e, dict)]
    elif kind in ("action", "slot", "active_loop"):
        name = event.get("name")
        row.name = str(name)[:128] if name is not None else None
        if kind == "slot":
            row.value = _redacted_value(event.get("value"))
    return row


def ingest_batch(session: Session, events: list[dict[str, Any]], *, one_by_one: bool = False) -> IngestResult:
    """Store parsed events (duplicates are no-ops) and copy customer/bot turns into open handoffs. Flushes.

    The fast path looks up the batch's known keys, conversations and open handoffs with one query each and
    inserts the new events in one flush. When a competing consumer inserted one of them in between, the
    flush fails: the caller rolls back and calls again with `one_by_one=True` (a savepoint per event).
    """
    result = IngestResult()
    wanted: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = event["event"]
        if kind in IGNORED or kind not in KINDS:
            if kind not in IGNORED:
                log.warning("unknown Rasa event type %r skipped (conversation %s)", kind, event["sender_id"])
            result.skipped += 1
            continue
        key = event_key(event)
        if key in wanted:
            result.duplicates += 1
        wanted[key] = event
    if not wanted:
        return result
    known = set(session.scalars(select(ConversationEvent.event_key)
                                .where(ConversationEvent.event_key.in_(list(wanted)))))
    result.duplicates += len(known)
    fresh = [(key, event) for key, event in wanted.items() if key not in known]
    senders = {event["sender_id"] for _, event in fresh}
    cache = {c.sender_id: c for c in session.scalars(select(Conversation).where(Conversation.sender_id.in_(senders)))}
    live = {h.conversation_id: h for h in session.scalars(
        select(Handoff).where(Handoff.conversation_id.in_(senders), Handoff.status.in_(HandoffStatus.ACTIVE)))}
    turns: dict[int, list[dict[str, Any]]] = {}
    pending: list[tuple[Conversation, ConversationEvent]] = []
    for key, event in fresh:
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0.0), UTC)
        if one_by_one:
            conversation = _conversation(session, sender_id=event["sender_id"], at=at, cache=cache)
        else:  # new conversations are inserted below with their figures already applied (no UPDATE after)
            conversation = cache.setdefault(event["sender_id"], _new_conversation(event["sender_id"], at))
        row = _row(conversation, event, key)
        if one_by_one:
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                result.duplicates += 1
                continue
        else:
            pending.append((conversation, row))
        result.stored += 1
        _apply(conversation, row, event)
        handoff = live.get(event["sender_id"])
        if handoff is not None and row.kind in ("user", "bot") and row.text:
            turns.setdefault(handoff.id, []).append(event)
    if pending:  # a competing consumer's insert of the same conversation or event fails this: slow path
        session.add_all({id(c): c for c, _ in pending if c.id is None}.values())
        session.flush()
        for conversation, row in pending:
            row.conversation_id = conversation.id
        session.add_all(row for _, row in pending)
    session.flush()
    for handoff in live.values():
        if turns.get(handoff.id) and handoff_turns.sync_from_tracker(session, handoff=handoff,
                                                                       events=turns[handoff.id]):
            result.handoff_ids.add(handoff.id)
    session.flush()
    return result
