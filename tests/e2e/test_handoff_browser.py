"""Human handoff in a real browser against the real stack (Rasa + actions + CRM, PostgreSQL + Redis).

A customer escalates through Rasa's REST channel; the agent logs in to the console in headless
Chromium, sees the conversation appear without reloading, claims it and answers; the customer
receives the reply (read from Rasa's tracker: REST cannot receive pushes) and answers back; the
agent sees that live and resolves; the bot then asks the customer the CSAT question.
Screenshots are kept in tests/e2e/artifacts/handoff-*.png.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.handoff_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    bot_texts_after,
    own_stack,
    shot,
    tracker_events,
    use_own_stack,
    wait_for,
)
from tests.e2e.stack import Stack, text_of


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if use_own_stack():
        yield from own_stack(tmp_path_factory)
    else:
        yield request.getfixturevalue("stack")


def test_agent_takes_over_answers_and_hands_back_for_csat(live: Stack, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    conversation = f"e2e-handoff-{uuid.uuid4().hex[:8]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # 1. the agent logs in and has the console open before the customer escalates
            page.goto(f"{live.crm_url}/console/login?lang=zh")
            page.get_by_test_id("username").fill("agent1")
            page.get_by_test_id("password").fill("agent1-pass")
            page.get_by_test_id("login-submit").click()
            page.wait_for_url(re.compile(r"/console$"))
            expect(page.get_by_test_id("who")).to_contain_text("agent")
            expect(page.locator("#live.on")).to_be_visible(timeout=15_000)  # SSE stream connected
            shot(page, artifacts, "1-console-empty")

            # 2. a real Rasa conversation escalates
            greeting = text_of(live.chat(conversation, "你好"))
            assert greeting, "the bot answers before the handoff"
            answer = text_of(live.chat(conversation, "转人工"))
            assert re.search(r"人工|客服", answer), f"the bot tells the customer a person is coming: {answer!r}"
            paused = wait_for("the conversation to be paused", lambda: any(
                e.get("event") == "pause" for e in tracker_events(live, conversation)))
            assert paused

            # 3. it appears in the queue without a reload; the agent claims it
            item = page.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
            expect(item).to_be_visible(timeout=20_000)
            shot(page, artifacts, "2-queue")
            item.click()
            expect(page.get_by_test_id("transcript")).to_contain_text("转人工")
            page.get_by_test_id("claim").click()
            expect(page.get_by_test_id("conv-status")).to_contain_text("已接入", timeout=10_000)

            # 4. the agent replies; the customer's channel receives it
            sent_at = time.time() - 1
            reply = "您好，我是人工客服小林，请问有什么可以帮您？"
            page.get_by_test_id("reply").fill(reply)
            page.get_by_test_id("send").click()
            expect(page.get_by_test_id("msg-agent").last).to_contain_text(reply)
            wait_for("the agent's reply on the customer's channel",
                     lambda: reply in bot_texts_after(live, conversation, sent_at))
            expect(page.get_by_test_id("delivery-mark")).to_have_count(0)

            # 5. the customer answers; the agent sees it live
            customer_text = f"我的订单三天没有物流更新了 {conversation[-4:]}"
            assert live.chat(conversation, customer_text) == [], "the paused bot stays quiet"
            expect(page.get_by_test_id("transcript")).to_contain_text(customer_text, timeout=20_000)
            shot(page, artifacts, "3-conversation")

            # 6. the agent resolves; the bot asks the CSAT question
            resolved_at = time.time() - 1
            page.get_by_test_id("resolve").click()
            expect(page.get_by_test_id("conv-status")).to_contain_text("已解决", timeout=15_000)
            try:
                wait_for("the CSAT question after resolution", lambda: [
                    t for t in bot_texts_after(live, conversation, resolved_at) if re.search(r"满意|1.{0,2}5", t)])
            except AssertionError as error:
                tail = [(e.get("event"), e.get("name") or e.get("text") or (e.get("parse_data") or {}).get("intent"))
                        for e in tracker_events(live, conversation)[-15:]]
                raise AssertionError(f"{error}; last tracker events: {tail}") from None
            shot(page, artifacts, "4-resolved")
            assert not errors, f"JavaScript errors in the console page: {errors}"
        finally:
            browser.close()

    # the CRM kept the whole conversation (bot turns included), resolved by agent1
    with httpx.Client(base_url=live.crm_url, timeout=30) as agent:
        signed_in = agent.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"})
        assert signed_in.is_success
        items = agent.get("/api/v1/handoffs", params={"include_resolved": "true"}).json()["items"]
        mine = [i for i in items if i["conversation_id"] == conversation]
        assert len(mine) == 1 and mine[0]["status"] == "resolved" and mine[0]["first_response_at"]
        messages = agent.get(f"/api/v1/handoffs/{mine[0]['id']}").json()["messages"]
        # log out so that later tests of the shared stack see no agent online
        assert agent.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed_in.json()["csrf_token"]}
                          ).status_code == 204
    roles = {(m["role"], m["text"]) for m in messages}
    assert ("agent", reply) in roles and ("user", customer_text) in roles and ("user", "转人工") in roles
    assert any(role == "bot" for role, _ in roles)


def test_agent_reply_is_pushed_to_the_website_widget(live: Stack, artifacts: Path) -> None:
    """The same handoff from the website widget (socket.io): replies and the CSAT question are pushed."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.widget_page import Widget

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            customer = browser.new_page(locale="zh-CN")
            customer.goto(f"{live.crm_url}/demo?visitor=anonymous")
            widget = Widget(customer).open()
            agent = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
            agent.goto(f"{live.crm_url}/console/login?lang=zh")
            agent.get_by_test_id("username").fill("agent2")
            agent.get_by_test_id("password").fill("agent2-pass")
            agent.get_by_test_id("login-submit").click()
            agent.wait_for_url(re.compile(r"/console$"))
            expect(agent.locator("#live.on")).to_be_visible(timeout=15_000)

            answer = widget.send("转人工")
            assert any(re.search(r"人工|客服", text) for text in answer), answer
            item = agent.locator(f'[data-testid="queue-item"][data-conversation="{widget.session_id}"]')
            expect(item).to_be_visible(timeout=20_000)
            expect(item).to_contain_text("网页挂件")  # the socket.io widget channel, in the agent's language
            item.click()
            agent.get_by_test_id("claim").click()
            expect(agent.get_by_test_id("conv-status")).to_contain_text("已接入", timeout=10_000)

            reply = "您好，我是人工客服小周。"
            agent.get_by_test_id("reply").fill(reply)
            agent.get_by_test_id("send").click()
            widget.wait_for_text(reply, timeout_ms=20_000)  # pushed over socket.io, no customer action

            box = customer.locator(".kefu-input")
            box.fill("我想改一下收货地址")
            box.press("Enter")
            expect(agent.get_by_test_id("transcript")).to_contain_text("我想改一下收货地址", timeout=20_000)

            agent.get_by_test_id("resolve").click()
            expect(agent.get_by_test_id("conv-status")).to_contain_text("已解决", timeout=15_000)
            customer.locator(".kefu-msg-bot .kefu-bubble", has_text=re.compile(r"满意|1.{0,2}5")).first.wait_for(
                timeout=30_000)
            widget.screenshot(artifacts / "handoff-5-widget-csat.png")
            shot(agent, artifacts, "5-widget-console")
            # agent2 logs out so that later tests of the shared stack see no agent online
            agent.locator("form[action='/console/logout'] button").click()
            agent.wait_for_url(re.compile(r"/console/login$"))
        finally:
            browser.close()
