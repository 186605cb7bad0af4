"""The bot's side of `EXTERNAL_ticket_resolved`: announce the ticket in the customer's language, keep its number."""

from __future__ import annotations

from typing import Any

import pytest
from action_helpers import make_tracker, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import ActionAnnounceResolvedTicket

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(("language", "words"), [("zh", "已处理完毕"), ("en", "has been resolved")])
async def test_announces_the_ticket_and_keeps_its_number(language: str, words: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="EXTERNAL_ticket_resolved", language=language,
                           entities=[{"entity": "ticket_no", "value": "T100042"}])
    events: list[dict[str, Any]] = await ActionAnnounceResolvedTicket().run(dispatcher, tracker, {})
    assert "T100042" in texts(dispatcher) and words in texts(dispatcher)
    assert events == [{"event": "slot", "name": "last_ticket_no", "value": "T100042", "timestamp": None}]


async def test_without_a_number_it_stays_quiet() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnnounceResolvedTicket().run(dispatcher, make_tracker(intent="EXTERNAL_ticket_resolved"), {})
    assert events == [] and dispatcher.messages == []
