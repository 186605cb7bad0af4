"""Kefu's Rasa server entry point: the patched action-response check still rejects what Rasa rejects."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.server import install_fixes

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
