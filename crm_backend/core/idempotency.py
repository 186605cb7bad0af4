"""Idempotency keys for retried writes.

Usage inside a write service (same transaction as the write):

    cached = idempotency.lookup(session, scope=..., key=key, payload=body)
    if cached: return cached            # (status_code, response_json)
    ... do the write ...
    idempotency.store(session, scope=..., key=key, payload=body, status_code=201, response=result)
    session.commit()

Same key + same body → the stored response; same key + other body → IdempotencyConflict (409).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm_backend.core.db import Base, UTCDateTime, utcnow
from crm_backend.core.errors import IdempotencyConflict, ValidationFailed

MAX_KEY_LENGTH = 128


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_json: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def request_hash(payload: Any) -> str:
    """Stable hash of a JSON-able request body."""
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters",
                               f"Idempotency-Key 长度须为 1–{MAX_KEY_LENGTH} 个字符")
    return key


def lookup(session: Session, *, scope: str, key: str | None, payload: Any) -> tuple[int, Any] | None:
    """Return the stored (status_code, response) for a replay, None for a new key."""
    if key is None:
        return None
    row = session.scalars(select(IdempotencyKey).where(IdempotencyKey.scope == scope,
                                                       IdempotencyKey.key == key)).first()
    if row is None:
        return None
    if row.request_hash != request_hash(payload):
        raise IdempotencyConflict()
    return row.status_code, row.response_json


def store(session: Session, *, scope: str, key: str | None, payload: Any, status_code: int, response: Any) -> None:
    """Remember the response for this key (flushed with the caller's transaction)."""
    if key is None:
        return
    session.add(IdempotencyKey(scope=scope, key=key, request_hash=request_hash(payload), status_code=status_code,
                               response_json=response))
