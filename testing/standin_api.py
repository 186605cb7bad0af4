"""A local stand-in for the Telegram Bot API, the Slack Web API and the WeChat API (stdlib only).

Used by tests/channels (bot venv) and tests/e2e (crm venv): it records every call and answers like
the real services do, so connectors are tested end to end without leaving the machine.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    service: str  # telegram | slack | wechat
    method: str  # sendMessage, chat.postMessage, message/custom/send, token …
    query: dict[str, str]
    body: dict[str, Any]


@dataclass
class StandIn:
    """Start with `StandIn().start()`; `base_url` is the root every connector is pointed at."""

    telegram_username: str = "kefu_bot"
    wechat_app_id: str = "wx-test-app"
    wechat_app_secret: str = "wx-test-secret"
    wechat_token_ttl: int = 7200
    calls: list[Call] = field(default_factory=list)
    expire_next_wechat_token: bool = False
    _server: ThreadingHTTPServer | None = None
    _tokens: int = 0

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = standin.decode(raw, self.headers.get("Content-Type", ""))
                status, answer = standin.route(parsed.path, query, body)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @staticmethod
    def decode(raw: bytes, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in content_type:
            return json.loads(raw.decode("utf-8"))
        if "multipart/form-data" in content_type:
            boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
            fields: dict[str, Any] = {}
            for part in raw.split(b"--" + boundary):
                if b"\r\n\r\n" not in part:
                    continue
                head, value = part.split(b"\r\n\r\n", 1)
                name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode() if b'name="' in head else ""
                if name:
                    fields[name] = value.rstrip(b"\r\n").decode("utf-8")
            return fields
        return dict(urllib.parse.parse_qsl(raw.decode("utf-8")))

    def route(self, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple:
        if path.startswith("/bot"):
            method = path.rsplit("/", 1)[-1]
            self.calls.append(Call("telegram", method, query, body))
            if method == "getMe":
                return 200, {"ok": True, "result": {"id": 4242, "is_bot": True, "first_name": "Kefu",
                                                    "username": self.telegram_username}}
            if method == "sendMessage":
                return 200, {"ok": True, "result": {"message_id": len(self.calls), "date": int(time.time()),
                                                    "chat": {"id": int(body.get("chat_id", 0)), "type": "private"},
                                                    "text": body.get("text", "")}}
            return 200, {"ok": True, "result": True}
        if path.startswith("/api/"):
            method = path[len("/api/"):]
            self.calls.append(Call("slack", method, query, body))
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
        if path == "/cgi-bin/token":
            masked = {k: ("***" if k == "secret" else v) for k, v in query.items()}
            self.calls.append(Call("wechat", "token", masked, {}))
            if query.get("appid") != self.wechat_app_id or query.get("secret") != self.wechat_app_secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            self._tokens += 1
            return 200, {"access_token": f"ACCESS-{self._tokens}", "expires_in": self.wechat_token_ttl}
        if path == "/cgi-bin/message/custom/send":
            self.calls.append(Call("wechat", "message/custom/send", query, body))
            if self.expire_next_wechat_token:
                self.expire_next_wechat_token = False
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if not query.get("access_token", "").startswith("ACCESS-"):
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"error": "unknown path"}

    def sent(self, service: str, method: str) -> list[Call]:
        return [c for c in self.calls if c.service == service and c.method == method]
