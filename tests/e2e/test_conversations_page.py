"""The conversations page in headless Chromium: turns published like Rasa's SQL event broker reach the CRM's
store through the stream consumer (a real CRM process), and the page lists, filters and shows them.

Reuses the console UI test's CRM + stand-in Rasa (`crm` fixture): `POST /_test/say` appends a customer turn
(intent `check_order`, confidence 0.90) to the stand-in's broker file. Screenshot:
tests/e2e/artifacts/handoff-conversations-*.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.handoff_helpers import CHROMIUM, CHROMIUM_ARGS, shot
from tests.e2e.test_handoff_console_ui import crm, login

__all__ = ["crm"]


def test_conversations_page_lists_the_stream_with_intents_and_figures(crm: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    crm_url, rasa_url = crm
    conversation = f"conv-page-{int(time.time())}"
    said = httpx.post(f"{rasa_url}/_test/say/{conversation}", json={"text": "我的订单到哪了 13812345678"}, timeout=5)
    assert said.status_code == 200
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            login(page, crm_url, "supervisor", "zh", "/console/conversations")
            page.get_by_test_id("f-q").fill("我的订单到哪了")
            page.locator("#filters button[type=submit]").click()
            row = page.get_by_test_id("conv-row")
            expect(row).to_have_count(1, timeout=10_000)
            row.click()
            turn = page.get_by_test_id("turn-user")
            expect(turn).to_contain_text("我的订单到哪了 [PHONE]")  # redacted before it was stored
            expect(turn).to_contain_text("check_order 0.90")
            expect(page.locator('[data-kpi="conversations"] b')).not_to_have_text("0")
            expect(page.get_by_test_id("conv-top-intents")).to_contain_text("check_order")
            shot(page, artifacts, "conversations-1-supervisor")

            agent = browser.new_page()
            login(agent, crm_url, "agent1", "en", "/console/conversations")
            agent.get_by_test_id("f-q").fill("我的订单到哪了")
            agent.locator("#filters button[type=submit]").click()
            expect(agent.get_by_test_id("conv-total")).to_have_text("Total: 0")  # no handoff: not an agent's
            expect(agent.get_by_test_id("conv-figures")).to_have_count(0)
        finally:
            browser.close()
    assert not errors, errors
