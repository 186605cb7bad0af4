"""Service-token check, customer JWTs and password hashing."""

from __future__ import annotations

import hmac
import time

import bcrypt
import jwt

from crm_backend.core.errors import UnauthorizedError

CUSTOMER_TOKEN_ALGORITHM = "HS256"


def check_service_token(presented: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented bearer token with the configured one."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def bearer_token(authorization: str | None) -> str | None:
    """Extract the token from an `Authorization: Bearer <token>` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def create_customer_token(customer_id: int, secret: str, ttl_seconds: int = 3600) -> str:
    """Sign a short-lived customer token (`sub` = customer id)."""
    now = int(time.time())
    return jwt.encode({"sub": str(customer_id), "iat": now, "exp": now + ttl_seconds}, secret,
                      algorithm=CUSTOMER_TOKEN_ALGORITHM)


def decode_customer_token(token: str, secret: str) -> int:
    """Verify a customer token and return its customer id; raise UnauthorizedError otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[CUSTOMER_TOKEN_ALGORITHM], options={"require": ["sub", "exp"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise UnauthorizedError("Invalid or expired customer token", "客户令牌无效或已过期") from error


def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt hash (bcrypt only uses the first 72 bytes)."""
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:72], password_hash.encode())
    except ValueError:
        return False
