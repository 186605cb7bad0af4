"""Kefu's Rasa metrics: the hook into `rasa run`'s app, parse observations, the loaded model's info."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import rasa.core.run
from prometheus_client import REGISTRY
from sanic import Sanic

from bot import observability
from bot.server import install_observability


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_rasa_run_app_gets_metrics_route_and_processor_hooks() -> None:
    install_observability()
    install_observability()  # idempotent: a second call must not wrap twice
    assert rasa.core.run.configure_app._kefu_observed  # type: ignore[attr-defined]
    assert not getattr(rasa.core.run.configure_app.__wrapped__, "_kefu_observed", False)
    app = Sanic("kefu_observability_test", configure_logging=False)
    observability.install(app)
    assert "metrics" in {route.path for route in app.router.routes}
    from rasa.core.processor import MessageProcessor

    assert getattr(MessageProcessor.handle_message, "_kefu_metrics", False)


def test_parse_observations_count_confidence_and_nlu_fallbacks() -> None:
    before = sample("kefu_bot_intent_confidence_count", language="zh")
    fallbacks = sample("kefu_bot_nlu_fallbacks_total", language="en")
    observability.observe_parse({"language": "zh", "intent": {"name": "check_points", "confidence": 0.93}})
    observability.observe_parse({"language": "en", "intent": {"name": "nlu_fallback", "confidence": 0.2}})
    observability.observe_parse({"language": "fr", "intent": {"name": "greet", "confidence": 0.5}})
    assert sample("kefu_bot_intent_confidence_count", language="zh") == before + 1
    assert sample("kefu_bot_intent_confidence_bucket", language="zh", le="0.9") < \
        sample("kefu_bot_intent_confidence_bucket", language="zh", le="0.95")
    assert sample("kefu_bot_nlu_fallbacks_total", language="en") == fallbacks + 1
    assert sample("kefu_bot_intent_confidence_count", language="unknown") >= 1  # no free-form label values


def test_model_info_is_read_from_the_loaded_agent() -> None:
    app = SimpleNamespace(ctx=SimpleNamespace())
    collector = observability.ModelCollector(app)
    assert [family.samples for family in collector.collect()] == [[], []]  # no model loaded yet
    trained = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
    metadata = SimpleNamespace(model_id="abc123", rasa_open_source_version="3.6.21", trained_at=trained)
    app.ctx.agent = SimpleNamespace(processor=SimpleNamespace(model_metadata=metadata,
                                                              model_filename="/srv/models/kefu-1.tar.gz"))
    info, age = list(collector.collect())
    assert info.samples[0].labels == {"model_id": "abc123", "model_file": "kefu-1.tar.gz", "rasa_version": "3.6.21"}
    assert age.samples[0].value == trained.timestamp()
