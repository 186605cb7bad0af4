"""Unknown or hostile static paths answer 404 with the JSON error body (defect 6)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/console/static/.env", "/console/static/missing.js",
                                  "/console/static/..%2Fauth.py", "/console/static/%2e%2e"])
def test_missing_static_paths_have_the_error_body(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/..", "/console/static/..", "/console/static/../auth.py"])
def test_raw_dot_dot_paths_have_the_error_body(app: FastAPI, path: str) -> None:
    """Sent as-is (HTTP clients would normalise `..` away before the request leaves)."""
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 404
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "not_found"
