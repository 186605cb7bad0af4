"""Kefu's Rasa server: `python -m bot.server run …` is `rasa run …` with Kefu's fixes to Rasa applied first."""

from __future__ import annotations

import functools
import itertools
import os
from typing import Any

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import TrackerStore
from rasa.engine.graph import GraphSchema
from rasa.shared.core.trackers import DialogueStateTracker

_minimal_graph_schema = GraphSchema.minimal_graph_schema
_original_get_or_create_tracker = TrackerStore.get_or_create_tracker
_original_init_tracker = TrackerStore.init_tracker


@functools.cache
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action-server response, against a validator built once."""
    try:
        _action_response_validator().validate(result)
    except ValidationError as error:
        error.message += (". Failed to validate Action server response from API, make sure your response from "
                          "the Action endpoint is valid.")
        raise
    return True


def _cached_minimal_graph_schema(self: GraphSchema, targets: list[str] | None = None) -> GraphSchema:
    """Rasa's sub-graph for `targets`, computed once per schema, node set and targets."""
    cache: dict[tuple[tuple[str, ...], tuple[str, ...]], GraphSchema] = self.__dict__.setdefault("_kefu_minimal", {})
    key = (tuple(targets or ()), tuple(self.nodes))
    if key not in cache:
        cache[key] = _minimal_graph_schema(self, targets)
    return cache[key]


_STORED = "_kefu_stored_events"  # how many of a tracker's events its store holds


async def _get_or_create_tracker(self: TrackerStore, sender_id: str, max_event_history: int | None = None,
                                 append_action_listen: bool = True) -> DialogueStateTracker:
    tracker = await _original_get_or_create_tracker(self, sender_id, max_event_history, append_action_listen)
    setattr(tracker, _STORED, len(tracker.events))
    return tracker


def _init_tracker(self: TrackerStore, sender_id: str) -> DialogueStateTracker:
    tracker = _original_init_tracker(self, sender_id)
    setattr(tracker, _STORED, 0)  # a new conversation: nothing stored yet
    return tracker


async def _stream_events(self: TrackerStore, tracker: DialogueStateTracker) -> None:
    """Publish the events added since the tracker was loaded, counted instead of re-read from the store.

    Rasa re-reads the stored tracker on every save to diff it against the new one (`len(old.events)`):
    a full deserialisation per turn that grows with the conversation. The tracker loaded for the turn
    already knows that count; a tracker that was not loaded through `get_or_create_tracker` still takes
    Rasa's way.
    """
    if self.event_broker is None:
        return
    offset = getattr(tracker, _STORED, None)
    if offset is None:
        old = await self.retrieve(tracker.sender_id)
        offset = len(old.events) if old else 0
    events = tracker.events
    await self._stream_new_events(self.event_broker, list(itertools.islice(events, offset, len(events))),
                                  tracker.sender_id)
    setattr(tracker, _STORED, len(events))


_RETRYING: set[type] = set()
REDIS_RETRIES = 25  # backoff 50 ms doubling, capped at 1 s: about 20 s, a Redis restart with room to spare


def _retrying_redis(client: Any) -> None:
    """Make a Redis client retry a lost or refused connection instead of failing the customer's turn."""
    import socket

    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from redis.retry import Retry

    errors = (RedisConnectionError, RedisTimeoutError, socket.timeout, OSError)
    client.connection_pool.connection_kwargs["retry_on_error"] = list(errors)
    client.set_retry(Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_RETRIES, supported_errors=errors))


def _with_retrying_redis(init: Any) -> Any:
    @functools.wraps(init)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _retrying_redis(self.red)

    return wrapped


def install_redis_resilience() -> None:
    """Rasa's Redis tracker and lock stores ride out a Redis restart.

    Out of the box a restart fails the turns in flight and the first one after it (a stale pooled
    connection), and Rasa's fail-safe store then keeps that tracker in one process's memory. With retries
    the turn waits for Redis (the store's calls are synchronous, so the process waits with it) and goes on.
    """
    from rasa.core.lock_store import RedisLockStore
    from rasa.core.tracker_store import RedisTrackerStore

    for store in (RedisTrackerStore, RedisLockStore):
        if store not in _RETRYING:
            store.__init__ = _with_retrying_redis(store.__init__)  # type: ignore[method-assign]
            _RETRYING.add(store)


def install_fixes() -> None:
    """Patch Rasa 3.6 where it costs Kefu on every turn.

    `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks Rasa's event schema
    against the meta-schema and builds a new validator for every custom-action response: 33 ms per
    call on these machines, and a Kefu turn runs two custom actions. The same check with a validator
    built once takes 0.8 ms (`bench/bot_latency.py`, docs/notes/bot.md).

    `GraphSchema.minimal_graph_schema` walks the model's graph recursively on every message and every
    prediction (5 % of the server's CPU in a profile); the graph does not change while a model is loaded.

    `TrackerStore.stream_events` deserialises the stored tracker again on every save (`_stream_events`).
    """
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    GraphSchema.minimal_graph_schema = _cached_minimal_graph_schema  # type: ignore[method-assign]
    TrackerStore.get_or_create_tracker = _get_or_create_tracker  # type: ignore[method-assign]
    TrackerStore.init_tracker = _init_tracker  # type: ignore[method-assign]
    TrackerStore.stream_events = _stream_events  # type: ignore[method-assign]


def limit_blas_threads() -> None:
    """One BLAS thread: the per-message matrix products (intent scores, out-of-scope distances) are tiny.

    numpy's OpenBLAS starts a worker per core, which spins between those products: in a 20-user run it used
    as much CPU as the event loop (Rasa 124.8 → 70.2 ms of CPU per message with one thread, same throughput),
    CPU the CRM and the action server on the same host then lack. Limits the BLAS libraries loaded so far,
    numpy's among them.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def install_observability() -> None:
    """Metrics at `/metrics` and Kefu's log format on the app `rasa run` builds (bot/observability.py)."""
    import rasa.core.run

    from bot import observability

    configure_app = rasa.core.run.configure_app
    if getattr(configure_app, "_kefu_observed", False):
        return

    @functools.wraps(configure_app)
    def observed_configure_app(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)
        observability.install(app)
        return app

    observed_configure_app._kefu_observed = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = observed_configure_app


MODEL_SERVER_DEFAULTS = {"KEFU_MODEL_SERVER_URL": "", "KEFU_MODEL_PULL_SECONDS": "10", "CRM_SERVICE_TOKEN": ""}


def _models_endpoint_or_none(read: Any) -> Any:
    @functools.wraps(read)
    def read_endpoint_config(filename: str, endpoint_type: str) -> Any:
        endpoint = read(filename, endpoint_type)
        if endpoint_type == "models" and endpoint is not None and not (endpoint.url or "").strip():
            return None
        return endpoint

    return read_endpoint_config


async def _update_model_from_server(model_server: Any, agent: Any) -> None:
    """Rasa's model pull, with the new model loaded in a worker thread instead of on the event loop.

    Rasa loads a pulled model synchronously inside its event loop: every conversation on the instance waits
    for the whole load (25 s measured here on a busy machine) at each promotion or rollback. Built in a thread,
    the old model keeps answering until the new processor is swapped in, on the loop, in one step.
    """
    import asyncio

    from rasa.core import agent as rasa_agent
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.processor import MessageProcessor
    from rasa.utils.common import TempDirectoryPath, get_temp_dir_name

    with TempDirectoryPath(get_temp_dir_name()) as directory:
        try:
            fingerprint = await rasa_agent._pull_model_and_fingerprint(model_server, agent.fingerprint, directory)
            if not fingerprint:
                return
            processor = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
                MessageProcessor, model_path=directory, tracker_store=agent.tracker_store,
                lock_store=agent.lock_store, action_endpoint=agent.action_endpoint, generator=agent.nlg,
                http_interpreter=agent.http_interpreter))
        except Exception:
            rasa_agent.logger.exception("Failed to update model. The previous model will stay loaded instead.")
            return
    # What Agent.load_model does after building the processor, all at once on the loop.
    agent.processor, agent.domain = processor, processor.domain
    agent._set_fingerprint(fingerprint)
    agent.tracker_store.domain = agent.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = agent.domain.responses if agent.domain else {}
    rasa_agent.logger.info(f"Loaded the model with fingerprint {fingerprint} from the model server.")


def install_model_server_option() -> None:
    """The endpoints files' `models:` (the CRM's model server) applies only when KEFU_MODEL_SERVER_URL is set.

    `./kefu run` sets it, so every Rasa instance pulls the promoted model; a Rasa started beside a test or a
    benchmark without a CRM leaves it empty and serves its `--model` file, as `rasa run` does with no
    `models:` endpoint (Rasa itself would refuse the unset variable, or fail to load from an empty URL).
    """
    import rasa.core.utils

    for name, value in MODEL_SERVER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    import rasa.core.agent

    rasa.core.agent._update_model_from_server = _update_model_from_server
    read = rasa.core.utils.read_endpoint_config
    if not getattr(read, "_kefu_optional_models", False):
        wrapped = _models_endpoint_or_none(read)
        wrapped._kefu_optional_models = True
        rasa.core.utils.read_endpoint_config = wrapped


def main() -> None:
    """Apply the fixes, then hand over to Rasa's command line."""
    from rasa.__main__ import main as rasa_main

    install_fixes()
    limit_blas_threads()
    install_model_server_option()
    install_redis_resilience()
    install_observability()
    rasa_main()


if __name__ == "__main__":
    main()
