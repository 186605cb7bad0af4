"""A stand-in Rasa HTTP server (thread + http.server on a free port in 18090–18099) recording each call."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from crm_backend.core.rasa import RasaClient
from crm_backend.handoff import live
from testing.services import port_is_free

PORTS = range(18090, 18100)
TOKEN = "stand-in-rasa-token"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class StandInRasa:
    """What the CRM sent; `status` is the HTTP status every request gets; `down()` points the CRM at a dead port."""

    url: str = ""
    status: int = 200
    calls: list[Call] = field(default_factory=list)
    dead_url: str | None = None

    def client(self) -> RasaClient:
        return RasaClient(self.dead_url or self.url, TOKEN, timeout=2.0)

    def down(self) -> None:
        self.dead_url = f"http://127.0.0.1:{free_port(exclude=int(self.url.rsplit(':', 1)[1]))}"

    def triggers(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(conversation id, intent, entities) of every trigger_intent call."""
        found = []
        for call in self.calls:
            parts = call.path.split("/")
            if call.method == "POST" and len(parts) == 4 and parts[1] == "conversations" \
                    and parts[3] == "trigger_intent":
                found.append((unquote(parts[2]), call.body["name"], call.body["entities"]))
        return found


def free_port(exclude: int | None = None) -> int:
    for port in PORTS:
        if port != exclude and port_is_free(port):
            return port
    raise RuntimeError("no free port in 18090–18099 for the stand-in Rasa server")


def _handler(state: StandInRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            state.calls.append(Call("POST", parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                    json.loads(raw) if raw else None))
            payload = json.dumps({"tracker": {}, "messages": []}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def rasa_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInRasa]:
    """A running stand-in Rasa that the CRM's `live.rasa_client()` points at."""
    state = StandInRasa()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(live, "rasa_client", state.client)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
