"""Metrics and log context of Kefu's Rasa server; `/metrics` is served on Rasa's own Sanic app.

Besides HTTP latency and errors (kefu_ops.sanic) it counts what operators ask about: messages by
channel and language, the intent confidence distribution, NLU fallbacks, the time Rasa takes to answer
a message (whatever the channel: REST, socket.io, chat apps) and the loaded model's id and training time.
Every log line written while a message is handled carries its conversation (kefu_ops.logs).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from kefu_ops.logs import bind_conversation, reset_conversation
from kefu_ops.metrics import LATENCY_BUCKETS

MESSAGES = Counter("kefu_bot_messages_total", "Customer messages handled, by input channel and language.",
                   ["channel", "language"])
REPLY_SECONDS = Histogram("kefu_bot_reply_seconds", "Time from a customer message to Rasa's answers, by channel.",
                          ["channel"], buckets=LATENCY_BUCKETS)
MESSAGE_ERRORS = Counter("kefu_bot_message_errors_total", "Messages whose handling raised, by channel.", ["channel"])
CONFIDENCE = Histogram("kefu_bot_intent_confidence", "Confidence of the top intent of each customer message.",
                       ["language"], buckets=(0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0))
NLU_FALLBACKS = Counter("kefu_bot_nlu_fallbacks_total", "Messages whose intent fell below the fallback threshold.",
                        ["language"])
LANGUAGES = ("zh", "en")
log = logging.getLogger(__name__)
NLU_FALLBACK_INTENT = "nlu_fallback"

# What parse_message learnt about the message that handle_message is handling (same asyncio task).
_parsed: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("kefu_parsed", default=None)


def _channel(message: Any) -> str:
    return str(getattr(message, "input_channel", None) or "unknown")


def _language(parse_data: dict[str, Any]) -> str:
    language = parse_data.get("language")
    return language if language in LANGUAGES else "unknown"


def observe_parse(parse_data: dict[str, Any]) -> None:
    """Record one parsed message (called for each message a customer sends)."""
    language = _language(parse_data)
    intent = parse_data.get("intent") or {}
    confidence = intent.get("confidence")
    if isinstance(confidence, (int, float)):
        CONFIDENCE.labels(language).observe(float(confidence))
    if intent.get("name") == NLU_FALLBACK_INTENT:
        NLU_FALLBACKS.labels(language).inc()
    holder = _parsed.get()
    if holder is not None:
        holder.update(language=language, intent=intent.get("name"), confidence=confidence)


def _rounded(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


class ModelCollector(Collector):
    """The loaded model, read at scrape time from Rasa's agent (a model server may swap it at any time)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Any:
        info = GaugeMetricFamily("kefu_model_info", "The model this Rasa server answers with (value 1).",
                                 labels=["model_id", "model_file", "rasa_version"])
        trained = GaugeMetricFamily("kefu_model_trained_timestamp_seconds", "When the loaded model was trained.")
        agent = getattr(self.app.ctx, "agent", None)
        processor = getattr(agent, "processor", None)
        metadata = getattr(processor, "model_metadata", None)
        if metadata is not None:
            model_file = str(getattr(processor, "model_filename", "") or "")
            info.add_metric([metadata.model_id, model_file.rsplit("/", 1)[-1], metadata.rasa_open_source_version], 1)
            trained.add_metric([], metadata.trained_at.timestamp())
        yield info
        yield trained

    def describe(self) -> list[Any]:
        return []  # collected lazily: the agent is loaded after the server starts


def _wrap_processor() -> None:
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor.handle_message, "_kefu_metrics", False):
        return
    handle_message, parse_message = MessageProcessor.handle_message, MessageProcessor.parse_message

    @functools.wraps(handle_message)
    async def timed_handle_message(self: Any, message: Any) -> Any:
        holder: dict[str, Any] = {}
        token, conversation = _parsed.set(holder), bind_conversation(getattr(message, "sender_id", None))
        started, outcome = time.perf_counter(), "error"
        channel = _channel(message)
        try:
            result = await handle_message(self, message)
            outcome = "ok"
            return result
        except Exception:
            MESSAGE_ERRORS.labels(channel).inc()
            raise
        finally:
            seconds = time.perf_counter() - started
            REPLY_SECONDS.labels(channel).observe(seconds)
            MESSAGES.labels(channel, holder.get("language", "unknown")).inc()
            # One line per message, like an access log: what was understood, never what was written.
            log.info("message %s: channel=%s language=%s intent=%s confidence=%s in %.0f ms", outcome, channel,
                     holder.get("language", "unknown"), holder.get("intent"), _rounded(holder.get("confidence")),
                     seconds * 1000)
            _parsed.reset(token)
            reset_conversation(conversation)

    @functools.wraps(parse_message)
    async def observed_parse_message(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        parse_data = await parse_message(self, message, *args, **kwargs)
        # /model/parse and the like parse without handling: only count messages a customer sent.
        if _parsed.get() is not None:
            observe_parse(parse_data)
        return parse_data

    timed_handle_message._kefu_metrics = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = timed_handle_message  # type: ignore[method-assign]
    MessageProcessor.parse_message = observed_parse_message  # type: ignore[method-assign]


_model_collector: ModelCollector | None = None


def install(app: Any) -> None:
    """Kefu's log format, and metrics on Rasa's Sanic app and its message processor."""
    global _model_collector
    from kefu_ops.logs import configure
    from kefu_ops.sanic import instrument

    configure("rasa")

    async def _reconfigure(*_: Any) -> None:
        configure("rasa")  # again once serving, whatever Rasa's start-up added meanwhile

    app.register_listener(_reconfigure, "after_server_start")
    _wrap_processor()
    instrument(app)
    if _model_collector is not None:
        REGISTRY.unregister(_model_collector)
    _model_collector = ModelCollector(app)
    REGISTRY.register(_model_collector)
