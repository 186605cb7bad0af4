"""Log lines: JSON with the conversation's reference, PII redacted; the CRM binds the id from the request header."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crm_backend.api.routes import metrics as metrics_routes
from kefu_ops import logs


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("crm"))
    logger = logging.getLogger("kefu.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_redacts_pii_and_names_the_conversation(captured: io.StringIO) -> None:
    token = logs.bind_conversation("telegram-5551234")
    try:
        logging.getLogger("kefu.test.logs").info("客户说：我的手机 13800000001，邮箱 wang.wei@example.com")
    finally:
        logs.reset_conversation(token)
    [line] = lines(captured)
    assert line["service"] == "crm" and line["level"] == "info" and line["logger"] == "kefu.test.logs"
    assert "13800000001" not in line["msg"] and "wang.wei@example.com" not in line["msg"]
    assert "[PHONE]" in line["msg"] and "[EMAIL]" in line["msg"] and "客户说" in line["msg"]
    assert line["conversation"] == logs.conversation_ref("telegram-5551234") != "telegram-5551234"
    assert line["ts"].endswith("Z")


def test_tracebacks_are_redacted_too(captured: io.StringIO) -> None:
    try:
        raise ValueError("bad phone 13912345678")
    except ValueError:
        logging.getLogger("kefu.test.logs").exception("failed for card 4111 1111 1111 1111")
    [line] = lines(captured)
    assert "13912345678" not in line["exc"] and "[PHONE]" in line["exc"]
    assert "4111 1111 1111 1111" not in line["msg"] and "[CARD]" in line["msg"]
    assert "conversation" not in line


def test_crm_request_binds_the_conversation_header(captured: io.StringIO) -> None:
    app = FastAPI()

    @app.get("/probe")
    def probe() -> dict[str, str]:
        logging.getLogger("kefu.test.logs").info("handling a request")
        return {"ok": "yes"}

    metrics_routes.instrument(app)
    with TestClient(app) as client:
        assert client.get("/probe", headers={logs.CONVERSATION_HEADER: "conv-abc"}).status_code == 200
        assert client.get("/probe").status_code == 200
    first, second = lines(captured)
    assert first["conversation"] == logs.conversation_ref("conv-abc")
    assert "conversation" not in second  # the id does not leak into the next request


def test_console_format_is_one_readable_line(monkeypatch: pytest.MonkeyPatch) -> None:
    record = logging.LogRecord("crm_backend.x", logging.WARNING, __file__, 1, "queue is long: %s", (7,), None)
    line = logs.ConsoleFormatter("crm").format(record)
    assert "WARNING" in line and "crm" in line and "queue is long: 7" in line and "\n" not in line
    monkeypatch.setenv("KEFU_ENV", "development")
    monkeypatch.delenv("KEFU_LOG_FORMAT", raising=False)
    assert logs.log_format() == "console"
    monkeypatch.setenv("KEFU_ENV", "production")
    assert logs.log_format() == "json"
    monkeypatch.setenv("KEFU_LOG_FORMAT", "console")
    assert logs.log_format() == "console"


def test_the_raw_conversation_id_in_a_url_becomes_its_reference(captured: io.StringIO) -> None:
    token = logs.bind_conversation("wechat-openid-o6_bmjrPTlm6")
    try:
        logging.getLogger("kefu.test.logs").info('"GET /api/v1/identity/channels/wechat/wechat-openid-o6_bmjrPTlm6"')
    finally:
        logs.reset_conversation(token)
    [line] = lines(captured)
    ref = logs.conversation_ref("wechat-openid-o6_bmjrPTlm6")
    assert "o6_bmjrPTlm6" not in line["msg"] and f"/identity/channels/wechat/{ref}" in line["msg"]
