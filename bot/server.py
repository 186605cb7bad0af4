"""Kefu's Rasa server: `python -m bot.server run …` is `rasa run …` with Kefu's fixes to Rasa applied first."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.engine.graph import GraphSchema

_minimal_graph_schema = GraphSchema.minimal_graph_schema


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


def install_fixes() -> None:
    """Patch Rasa 3.6 where it costs Kefu on every turn.

    `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks Rasa's event schema
    against the meta-schema and builds a new validator for every custom-action response: 33 ms per
    call on these machines, and a Kefu turn runs two custom actions. The same check with a validator
    built once takes 0.8 ms (`bench/bot_latency.py`, docs/notes/bot.md).

    `GraphSchema.minimal_graph_schema` walks the model's graph recursively on every message and every
    prediction (5 % of the server's CPU in a profile); the graph does not change while a model is loaded.
    """
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    GraphSchema.minimal_graph_schema = _cached_minimal_graph_schema  # type: ignore[method-assign]


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


def main() -> None:
    """Apply the fixes, then hand over to Rasa's command line."""
    from rasa.__main__ import main as rasa_main

    install_fixes()
    install_observability()
    rasa_main()


if __name__ == "__main__":
    main()
