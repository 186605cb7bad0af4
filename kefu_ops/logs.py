"""One log format for Rasa, the action server and the CRM, and one id that follows a conversation.

- `KEFU_LOG_FORMAT=json` (the default outside development): one JSON object per line with `ts`, `level`,
  `service`, `logger`, `msg`, `conversation` and `exc`; `console` (the default for `./kefu run`, which runs in
  development): a readable line with the same facts.
- `conversation` is a 16-hex digest of Rasa's conversation (sender) id, the same in every process: sender
  ids can be chat-app user ids or whatever a REST client sent, so the raw id is never written.
  `conversation_ref("<sender id>")` gives the value to grep for.
- Every message and traceback goes through the CRM's PII redactor (`crm_backend.text.pii`, stdlib only):
  phones, e-mails, ID and card numbers never reach a log line.

The id travels with the work: Rasa sets it for each message it handles and for HTTP API calls on a
conversation, the action server for each action call, the CRM from the `X-Conversation-Id` header that
the action server's CRM client sends.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import sys
import time
from typing import Any

from crm_backend.text.pii import redact

CONVERSATION_HEADER = "X-Conversation-Id"
DEVELOPMENT = {"development", "dev"}
_conversation: contextvars.ContextVar[str | None] = contextvars.ContextVar("kefu_conversation", default=None)


def conversation_ref(conversation_id: str) -> str:
    """The value logged for a conversation id (also what to grep the logs for)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:16]


def bind_conversation(conversation_id: str | None) -> contextvars.Token[str | None]:
    """Log lines of the current task (and what it starts) carry this conversation from now on."""
    return _conversation.set(conversation_id or None)


def reset_conversation(token: contextvars.Token[str | None]) -> None:
    _conversation.reset(token)


def current_conversation() -> str | None:
    """The raw conversation id being handled (for the header to the next process), or None."""
    return _conversation.get()


class _KefuRecord:
    """The facts of a record that both formats print."""

    def __init__(self, record: logging.LogRecord, formatter: logging.Formatter) -> None:
        self.ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        conversation = getattr(record, "conversation_id", None) or _conversation.get()
        self.conversation = conversation_ref(conversation) if conversation else None
        self.msg = self._private(record.getMessage(), conversation)
        self.exc = self._private(formatter.formatException(record.exc_info), conversation) if record.exc_info else None

    def _private(self, text: str, conversation: str | None) -> str:
        # The raw id also shows up inside URLs (access logs of `/identity/channels/rest/<sender>`).
        if conversation and self.conversation:
            text = text.replace(conversation, self.conversation)
        return redact(text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        facts = _KefuRecord(record, self)
        line: dict[str, Any] = {"ts": facts.ts, "level": record.levelname.lower(), "service": self.service,
                                "logger": record.name, "msg": facts.msg}
        if facts.conversation:
            line["conversation"] = facts.conversation
        if facts.exc:
            line["exc"] = facts.exc
        return json.dumps(line, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        facts = _KefuRecord(record, self)
        conversation = f" [{facts.conversation}]" if facts.conversation else ""
        line = f"{facts.ts[11:23]} {record.levelname:<7} {self.service:<7} {record.name}{conversation}: {facts.msg}"
        return f"{line}\n{facts.exc}" if facts.exc else line


class KefuHandler(logging.StreamHandler):  # type: ignore[type-arg, unused-ignore]
    """Marks the handler this module installed, so configuring twice replaces it."""


def log_format() -> str:
    chosen = os.environ.get("KEFU_LOG_FORMAT", "").strip().lower()
    if chosen in {"json", "console"}:
        return chosen
    return "console" if os.environ.get("KEFU_ENV", "development").strip().lower() in DEVELOPMENT else "json"


def _replaceable(handler: logging.Handler) -> bool:
    # Rasa's coloredlogs handler, uvicorn's and rasa-sdk's stream handlers, and ours from a previous call;
    # never pytest's capture handlers or a file handler somebody configured on purpose.
    return isinstance(handler, KefuHandler) or type(handler) is logging.StreamHandler or \
        type(handler).__module__.startswith("coloredlogs")


def configure(service: str, *, level: int | None = None) -> logging.Handler:
    """Route every log record of this process through one Kefu handler on stderr."""
    handler = KefuHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if log_format() == "json" else ConsoleFormatter(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if _replaceable(existing):
            root.removeHandler(existing)
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error", "sanic.access",
                 "rasa_sdk", "rasa"):
        named = logging.getLogger(name)
        for existing in list(named.handlers):
            if _replaceable(existing):
                named.removeHandler(existing)
        named.propagate = True
    return handler
