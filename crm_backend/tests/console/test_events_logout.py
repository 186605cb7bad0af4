"""The console's event stream ends at logout (defect 7), driven in-process through the ASGI app.

One event loop runs the stream, the logins and the bus, so no server or port is needed;
`test_live_server.py` repeats it over real HTTP on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crm_backend.handoff import live
from testing.crm_seeding import app_on, seeded_engine

Message = MutableMapping[str, Any]


@pytest.fixture
def sqlite_app(tmp_path: Path, demo_now: datetime) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    seeded_engine(url, now=demo_now).dispose()
    with app_on(url) as app:
        yield app


def _scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}


async def _call(app: FastAPI, method: str, path: str, headers: dict[str, str],
                body: dict[str, Any] | None = None) -> tuple[int, dict[str, str], bytes]:
    payload = json.dumps(body).encode() if body is not None else b""
    if body is not None:
        headers = {**headers, "content-type": "application/json", "content-length": str(len(payload))}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(_scope(method, path, headers), receive, send)
    response_headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], response_headers, b"".join(m.get("body", b"") for m in sent[1:])


async def _scenario(app: FastAPI) -> tuple[list[str], int]:
    status, headers, body = await _call(app, "POST", "/api/v1/auth/login", {},
                                        {"username": "agent1", "password": "agent1-pass"})
    assert status == 200, body
    cookie = headers["set-cookie"].split(";", 1)[0]
    csrf = json.loads(body)["csrf_token"]
    chunks: list[str] = []
    disconnect = asyncio.Event()

    async def receive() -> Message:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b"").decode())

    stream = asyncio.create_task(app(_scope("GET", "/api/v1/console/events", {"cookie": cookie}), receive, send))

    async def wait_for(text: str) -> None:
        for _ in range(200):
            if text in "".join(chunks):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{text!r} not in {chunks}")

    await wait_for("event: ready")
    await live.publish("created", 101)
    await wait_for('"handoff_id": 101')
    status, _, _ = await _call(app, "POST", "/api/v1/auth/logout", {"cookie": cookie, "x-csrf-token": csrf})
    assert status == 204
    await live.publish("created", 202)
    try:
        await asyncio.wait_for(stream, timeout=5)  # the server ends the response itself
    finally:
        disconnect.set()
    status, _, _ = await _call(app, "GET", "/api/v1/console/events", {"cookie": cookie})
    return chunks, status


def test_open_stream_ends_at_logout(sqlite_app: FastAPI) -> None:
    chunks, status_after = asyncio.run(_scenario(sqlite_app))
    text = "".join(chunks)
    assert '"handoff_id": 101' in text
    assert '"handoff_id": 202' not in text
    assert "event: logout" in text
    assert status_after == 401
