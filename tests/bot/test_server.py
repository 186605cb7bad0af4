"""Kefu's Rasa server entry point: the patched action-response check still rejects what Rasa rejects, and
the event stream publishes each event once without re-reading the tracker store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.server import install_fixes

ROOT = Path(__file__).resolve().parents[2]

VALID = {"events": [{"event": "slot", "name": "language", "value": "en"}],
         "responses": [{"text": "您的积分余额为 1,280 分。"}]}
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "language"}]},  # no `event` key
    {"events": [{"event": "slot", "timestamp": "yesterday"}]},
    {"responses": "hello"},
]


@pytest.fixture(scope="module")
def action() -> RemoteAction:
    install_fixes()
    return RemoteAction("action_show_points_balance", None)


def test_install_replaces_rasas_check(action: RemoteAction) -> None:
    assert RemoteAction._validate_action_result.__module__ == "bot.server"


def test_valid_response_passes(action: RemoteAction) -> None:
    assert action._validate_action_result(VALID) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_like_rasas_own_check(action: RemoteAction, result: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate(result, RemoteAction.action_response_format_spec())  # Rasa's check rejects it …
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(result)  # … and so does the patched one, with Rasa's message


def test_minimal_graph_schema_is_cached_and_equal_to_rasas(action: RemoteAction) -> None:
    from rasa.engine.graph import GraphSchema, SchemaNode

    from bot.server import _minimal_graph_schema

    def node(**needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=RemoteAction, fn="run", constructor_name="create", config={})

    schema = GraphSchema({"a": node(), "b": node(x="a"), "c": node(x="b"), "unrelated": node(x="a")})
    first = schema.minimal_graph_schema(["c"])
    assert set(first.nodes) == {"a", "b", "c"} == set(_minimal_graph_schema(schema, ["c"]).nodes)
    assert schema.minimal_graph_schema(["c"]) is first  # computed once
    assert set(schema.minimal_graph_schema(["unrelated"]).nodes) == {"a", "unrelated"}  # per target set
    schema.nodes["d"] = node(x="c")
    assert set(schema.minimal_graph_schema(["d"]).nodes) == {"a", "b", "c", "d"}  # a changed graph is recomputed


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def test_streamed_events_are_those_a_turn_added_without_re_reading_the_store() -> None:
    install_fixes()
    broker = RecordingBroker()
    store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    reads = 0
    retrieve = store.retrieve

    async def counting_retrieve(sender_id: str) -> Any:
        nonlocal reads
        reads += 1
        return await retrieve(sender_id)

    store.retrieve = counting_retrieve  # type: ignore[method-assign]

    async def turn(text: str) -> None:
        tracker = await store.get_or_create_tracker("c1")
        tracker.update(UserUttered(text))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    asyncio.run(turn("你好"))
    asyncio.run(turn("hello"))
    texts = [e.get("text") for e in broker.published if e["event"] == "user"]
    assert texts == ["你好", "hello"]  # each event once, none missed
    assert [e["event"] for e in broker.published] == ["action", "user", "action", "user", "action"]
    assert reads == 2  # one read per turn (the load), none for the diff
    stored = asyncio.run(retrieve("c1"))
    assert stored is not None and len(stored.events) == len(broker.published)


def test_a_tracker_not_loaded_through_the_store_is_diffed_as_rasa_does() -> None:
    install_fixes()
    broker = RecordingBroker()
    store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    tracker = DialogueStateTracker("c2", [])
    tracker.update(UserUttered("first"))
    asyncio.run(store.save(tracker))
    copy = DialogueStateTracker.from_events("c2", list(tracker.events) + [UserUttered("second")])
    asyncio.run(store.save(copy))
    assert [e.get("text") for e in broker.published] == ["first", "second"]


def test_rasas_redis_stores_retry_a_lost_connection() -> None:
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.tracker_store import RedisTrackerStore

    from bot.server import REDIS_RETRIES, install_redis_resilience

    install_redis_resilience()
    install_redis_resilience()  # twice is once
    for store in (RedisLockStore(host="127.0.0.1", port=1), RedisTrackerStore(Domain.empty(), port=1)):
        retry = store.red.get_retry()
        assert retry is not None and retry._retries == REDIS_RETRIES
        assert OSError in retry._supported_errors  # a refused connection while Redis restarts


def test_blas_runs_one_thread_in_the_server() -> None:
    """Regression: numpy's OpenBLAS ran a spinning worker per core beside the event loop (70 vs 125 ms CPU/message)."""
    probe = ("import json, numpy\nfrom threadpoolctl import threadpool_info\n"
             "from bot.server import limit_blas_threads\n"
             "before = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
             "limit_blas_threads()\n"
             "after = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
             "print(json.dumps([before, after]))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "2"})
    assert result.returncode == 0, result.stderr[-2000:]
    before, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert before and max(before) == 2, "the probe should start with a 2-thread BLAS"
    assert after == [1] * len(before)
