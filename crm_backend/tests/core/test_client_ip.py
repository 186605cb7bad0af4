"""Which address the login limit counts: X-Forwarded-For only from configured proxies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from crm_backend.console import auth
from crm_backend.core.client_ip import UNTRUSTED_FORWARDED, client_ip
from crm_backend.core.config import Settings


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


def test_without_trusted_proxies_the_header_is_never_believed() -> None:
    settings = Settings()
    assert client_ip(_request("198.51.100.7"), settings) == "198.51.100.7"
    assert client_ip(_request("203.0.113.9", "203.0.113.9"), settings) == UNTRUSTED_FORWARDED
    assert client_ip(_request("127.0.0.1", "1.2.3.4"), settings) == UNTRUSTED_FORWARDED


def test_a_configured_proxy_is_believed_from_the_right() -> None:
    settings = Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    # client-written entry on the left, our proxy appended the real peer on the right
    assert client_ip(_request("10.1.2.3", "6.6.6.6, 198.51.100.7"), settings) == "198.51.100.7"
    assert client_ip(_request("10.1.2.3", "198.51.100.7, 10.0.0.5"), settings) == "198.51.100.7"
    assert client_ip(_request("198.51.100.8", "6.6.6.6"), settings) == "198.51.100.8"  # not a proxy


def test_a_bad_proxy_entry_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        Settings(trusted_proxies="10.0.0.0/8,not-an-ip")


def test_rotating_forwarded_for_still_hits_the_limit(client: TestClient) -> None:
    auth.set_limiter(None)  # a fresh in-memory limiter for each database run
    answers = [client.post("/api/v1/auth/login", json={"username": "agent2", "password": "wrong"},
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(6)]
    auth.set_limiter(None)
    assert answers == [401] * 5 + [429]
