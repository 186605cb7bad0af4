"""Two Rasa instances behind one Redis: the website widget's messages reach the customer whichever
instance produces them (bot/channels/socketio_redis.py).

A = the shared stack's Rasa (./kefu run, services mode); B = a second `rasa run` with the same model,
the same Redis tracker/lock stores and the same socket.io Redis channel (tests/e2e/channels_rasa.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.channels_rasa import rasa_b
from tests.e2e.stack import Stack
from tests.e2e.widget_page import HOST_PAGE_PORT, Widget, chromium, host_page


def push_agent_reply(rasa_url: str, token: str, session: str, text: str, output_channel: str) -> None:
    """What the CRM does for an agent reply: a `bot` event with side effects on the customer's channel."""
    answer = httpx.post(f"{rasa_url}/conversations/{session}/tracker/events",
                        params={"token": token, "output_channel": output_channel, "execute_side_effects": "true"},
                        json=[{"event": "bot", "text": text, "metadata": {"agent": "e2e"}}], timeout=60)
    assert answer.status_code == 200, answer.text


def test_agent_reply_through_instance_b_reaches_customer_on_instance_a(
    stack: Stack, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    b = rasa_b(stack, request)
    with chromium() as browser:
        context = browser.new_context(locale="en-US")
        page_a = context.new_page()
        page_a.goto(f"{stack.crm_url}/demo?visitor=anonymous&lang=en")
        assert page_a.locator("script[data-server]").get_attribute("data-server") == stack.rasa_url
        on_a = Widget(page_a).open()
        session = on_a.session_id
        assert on_a.send("hello"), "the bot answers through instance A"

        # Both instances read the conversation from the shared Redis tracker store.
        tracker = httpx.get(f"{b.url}/conversations/{session}/tracker", params={"token": stack.rasa_token},
                            timeout=30).json()
        assert any(e["event"] == "user" and e.get("text") == "hello" for e in tracker["events"]), tracker
        assert tracker["latest_input_channel"] == "socketio"

        push_agent_reply(b.url, stack.rasa_token, session, "Agent Li here (via B) / 客服小李为您服务", "socketio")
        on_a.wait_for_text("Agent Li here (via B)")
        on_a.screenshot(artifacts / "scaleout-a-receives-agent-reply-from-b.png")

        # The same visitor on another page whose widget is connected to B, continuing the same session.
        stored = json.dumps({"sessionId": session, "messages": [], "open": True})
        seed = f"localStorage.setItem('kefu.widget.v1.anon', {json.dumps(stored)});"
        context.add_init_script(f"if (location.port === '{HOST_PAGE_PORT}') {{ {seed} }}")
        page_b = context.new_page()
        with host_page(stack.crm_url, b.url) as url:
            page_b.goto(url)
            on_b = Widget(page_b).open()
            assert page_b.locator("script[data-server]").get_attribute("data-server") == b.url
            assert on_b.session_id == session
            bot_count_on_a = len(on_a.bot_texts())
            assert on_b.send("hi"), "the bot answers through instance B"
            on_a.wait_for_bot_messages(bot_count_on_a + 1)  # B's bot reply reaches the tab on A

            push_agent_reply(stack.rasa_url, stack.rasa_token, session, "Agent Wang (via A, latest) 在线", "latest")
            on_b.wait_for_text("Agent Wang (via A, latest)")
            on_a.wait_for_text("Agent Wang (via A, latest)")
            on_b.screenshot(artifacts / "scaleout-b-receives-agent-reply-from-a.png")
        context.close()
