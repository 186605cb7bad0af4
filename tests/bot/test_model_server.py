"""The endpoints files' model server: used only when KEFU_MODEL_SERVER_URL is set (with the service token in a
header), and a pulled model is loaded off the event loop, so conversations go on while it loads."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import rasa.core.agent
import rasa.core.processor
import rasa.core.utils
from rasa.core.agent import Agent

from bot import server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.services.yml"])
def test_the_models_endpoint_applies_only_when_its_url_is_set(endpoints: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEFU_MODEL_SERVER_URL", "KEFU_MODEL_PULL_SECONDS", "CRM_SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("ACTION_ENDPOINT_URL", "KEFU_EVENTS_DB", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD",
                 "RABBITMQ_HOST", "RABBITMQ_PORT", "RABBITMQ_USER", "RABBITMQ_PASSWORD", "KEFU_EVENTS_EXCHANGE",
                 "KEFU_EVENTS_QUEUE"):
        monkeypatch.setenv(name, "x")
    server.install_model_server_option()
    path = str(ROOT / endpoints)
    assert rasa.core.utils.read_endpoint_config(path, "models") is None  # a Rasa beside a test: --model serves
    monkeypatch.setenv("KEFU_MODEL_SERVER_URL", "http://127.0.0.1:8000/api/v1/models/serving")
    monkeypatch.setenv("KEFU_MODEL_PULL_SECONDS", "7")
    monkeypatch.setenv("CRM_SERVICE_TOKEN", "secret-token")
    models = rasa.core.utils.read_endpoint_config(path, "models")
    assert models is not None and models.url.endswith("/api/v1/models/serving")
    assert models.headers == {"Authorization": "Bearer secret-token"}  # not in the URL, not in access logs
    assert int(models.kwargs["wait_time_between_pulls"]) == 7
    assert rasa.core.agent._update_model_from_server is server._update_model_from_server


def test_a_pulled_model_loads_while_the_event_loop_keeps_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    class SlowProcessor:
        def __init__(self, **kwargs: Any) -> None:
            time.sleep(1.0)  # loading a model
            self.domain = None
            self.kwargs = kwargs

    async def pulled(model_server: Any, fingerprint: Any, directory: str) -> str:
        return "new-etag"

    monkeypatch.setattr(rasa.core.processor, "MessageProcessor", SlowProcessor)
    monkeypatch.setattr(rasa.core.agent, "_pull_model_and_fingerprint", pulled)
    agent = Agent()

    async def scenario() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        task = asyncio.create_task(ticker())
        await server._update_model_from_server(object(), agent)
        task.cancel()
        return ticks

    ticks = asyncio.run(scenario())
    assert ticks >= 10, f"the loop was blocked while the model loaded ({ticks} ticks in 1 s)"
    assert isinstance(agent.processor, SlowProcessor) and agent.fingerprint == "new-etag"


def test_a_model_that_fails_to_load_leaves_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> None:
        raise ValueError("corrupt archive")

    async def pulled(model_server: Any, fingerprint: Any, directory: str) -> str:
        return "bad-etag"

    monkeypatch.setattr(rasa.core.processor, "MessageProcessor", broken)
    monkeypatch.setattr(rasa.core.agent, "_pull_model_and_fingerprint", pulled)
    agent = Agent(fingerprint="old")
    old = agent.processor
    asyncio.run(server._update_model_from_server(object(), agent))
    assert agent.processor is old and agent.fingerprint == "old"
