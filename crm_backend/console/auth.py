"""Console login: bcrypt check, rate limit, server-side sessions in signed cookies, CSRF tokens.

The cookie holds only the session id, signed with CRM_SECRET_KEY; the row holds the agent, the
CSRF token and the expiry, so a logout or a stolen cookie can be revoked server-side.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from crm_backend.agent import repository as agents
from crm_backend.agent.models import Agent
from crm_backend.core.config import get_settings
from crm_backend.core.db import begin_write, utcnow
from crm_backend.core.errors import RateLimited, UnauthorizedError
from crm_backend.core.security import verify_password
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import AgentSession

SESSION_COOKIE = "kefu_session"
LOGIN_CSRF_COOKIE = "kefu_login_csrf"
SESSION_HOURS = 12
LOGIN_LIMIT = 5  # failed attempts per (client, username) …
LOGIN_WINDOW_SECONDS = 300  # … within this window


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().crm_secret_key, salt=f"kefu-console-{purpose}")


def sign(value: str, purpose: str = "session") -> str:
    return _serializer(purpose).dumps(value)


def unsign(token: str | None, purpose: str = "session", max_age: int = SESSION_HOURS * 3600) -> str | None:
    if not token:
        return None
    try:
        value = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def tokens_match(presented: str | None, expected: str | None) -> bool:
    return bool(presented and expected) and hmac.compare_digest(str(presented), str(expected))


# --------------------------------------------------------------------------- rate limit


class LoginRateLimiter:
    """Counts failed logins per key in a fixed window: Redis when REDIS_URL is set, memory otherwise."""

    def __init__(self, redis_url: str | None, limit: int = LOGIN_LIMIT, window: int = LOGIN_WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._memory: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)

    def _key(self, key: str) -> str:
        return f"kefu:login-fail:{key}"

    def check(self, key: str) -> None:
        """Raise RateLimited when `key` has used up its failed attempts."""
        if self._redis is not None:
            count = int(self._redis.get(self._key(key)) or 0)
            ttl = int(self._redis.ttl(self._key(key)))
        else:
            with self._lock:
                count, started = self._memory.get(key, (0, time.monotonic()))
                ttl = int(self.window - (time.monotonic() - started))
                if ttl <= 0:
                    self._memory.pop(key, None)
                    count = 0
        if count >= self.limit:
            raise RateLimited(retry_after=max(ttl, 1))

    def fail(self, key: str) -> None:
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.incr(self._key(key))
            pipe.expire(self._key(key), self.window, nx=True)
            pipe.execute()
            return
        with self._lock:
            count, started = self._memory.get(key, (0, time.monotonic()))
            self._memory[key] = (count + 1, started)

    def reset(self, key: str) -> None:
        if self._redis is not None:
            self._redis.delete(self._key(key))
        else:
            with self._lock:
                self._memory.pop(key, None)


_limiter: LoginRateLimiter | None = None


def get_limiter() -> LoginRateLimiter:
    global _limiter
    if _limiter is None:
        _limiter = LoginRateLimiter(get_settings().redis_url)
    return _limiter


def set_limiter(limiter: LoginRateLimiter | None) -> None:
    global _limiter
    _limiter = limiter


# --------------------------------------------------------------------------- sessions


class LoginFailed(UnauthorizedError):
    keep_writes = True  # the request's unit commits the `login_failed` audit row despite the 401

    def __init__(self) -> None:
        super().__init__("Wrong username or password", "用户名或密码错误")


def login(session: Session, *, username: str, password: str, client: str) -> tuple[AgentSession, Agent]:
    """Check the credentials (rate-limited per client + username) and open a console session."""
    limiter = get_limiter()
    key = f"{client}:{username.strip().lower()}"
    limiter.check(key)
    begin_write(session)
    agent = agents.by_username(session, username.strip())
    if agent is None or not agent.is_active or not verify_password(password, agent.password_hash):
        limiter.fail(key)
        audit(session, agent=agent, action="login_failed", details={"username": username[:64]}, ip=client)
        raise LoginFailed()
    limiter.reset(key)
    now = utcnow()
    row = AgentSession(id=secrets.token_urlsafe(32), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=SESSION_HOURS))
    session.add(row)
    agent.last_seen_at, agent.is_online = now, True
    audit(session, agent=agent, action="login", ip=client)
    session.flush()
    return row, agent


def load(session: Session, *, cookie: str | None) -> tuple[AgentSession, Agent] | None:
    """The live session and agent behind a cookie, or None."""
    session_id = unsign(cookie)
    if session_id is None:
        return None
    row = session.get(AgentSession, session_id)
    if row is None or row.revoked or row.expires_at <= utcnow():
        return None
    agent = session.get(Agent, row.agent_id)
    if agent is None or not agent.is_active:
        return None
    return row, agent


def logout(session: Session, *, row: AgentSession, agent: Agent) -> None:
    """Revoke the session; the agent's conversations stay assigned until the presence timeout."""
    begin_write(session)
    row.revoked = True
    agent.is_online = False
    audit(session, agent=agent, action="logout")
    session.flush()
