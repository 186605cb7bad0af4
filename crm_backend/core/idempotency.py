"""Idempotency keys for retried writes: the one mechanism every write with an `Idempotency-Key` uses.

A route wraps its write: `idempotency.run_once(session, scope=..., key=key, payload=body, model=XOut,
write=lambda: XOut(...))`. Same key + same body → the stored answer, nothing written again; same key +
other body → IdempotencyConflict (409 `idempotency_conflict`). No key → the write runs plainly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm_backend.core.db import Base, UTCDateTime, begin_write, utcnow
from crm_backend.core.errors import IdempotencyConflict, ValidationFailed

MAX_KEY_LENGTH = 128
M = TypeVar("M", bound=BaseModel)


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


def store(session: Session, *, scope: str, key: str, payload: Any, status_code: int, response: Any) -> None:
    """Remember the response for this key (flushed with the caller's transaction)."""
    session.add(IdempotencyKey(scope=scope, key=key, request_hash=request_hash(payload), status_code=status_code,
                               response_json=response))
    session.flush()


def run_once(session: Session, *, scope: str, key: str | None, payload: Any, model: type[M],
             write: Callable[[], M], status_code: int = 201) -> M:
    """Run `write` once per (scope, key) inside the caller's write unit and remember its answer.

    A repeated key replays the stored answer without writing. When a concurrent request with the same
    key committed first (PostgreSQL; SQLite writers are serialized by `begin_write`), ours fails on the
    unique key, is rolled back whole and answers like that one did.
    """
    key = check_key(key)
    begin_write(session)
    replay = lookup(session, scope=scope, key=key, payload=payload)
    if replay is not None:
        return model.model_validate(replay[1])
    result = write()
    if key is None:
        return result
    try:
        store(session, scope=scope, key=key, payload=payload, status_code=status_code,
              response=result.model_dump(mode="json"))
    except IntegrityError:
        session.rollback()
        replay = lookup(session, scope=scope, key=key, payload=payload)
        if replay is None:
            raise
        return model.model_validate(replay[1])
    return result
