"""The improve loop end to end, in headless Chromium against `./kefu run` in services mode with a second
Rasa instance: a customer message the bot misreads lands in the NLU inbox; the supervisor gives it the
right intent and trains a candidate (the training worker, not a serving Rasa); the gate passes and the
supervisor promotes it; both Rasa instances understand the message without a restart; a rollback restores
the old behaviour on both. Screenshots: tests/e2e/artifacts/models-{zh,en}.png."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.channels_rasa import rasa_b
from tests.e2e.handoff_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.stack import Stack
from tests.e2e.test_handoff_console_ui import login

MISREAD = "扣款金额好像不对"  # a charge that looks wrong: a complaint, which the shipped model reads as FAQ
REPHRASED = "扣款的金额好像不对啊"
RIGHT = "file_complaint"
TRAINING_TIMEOUT = 900.0
PULL_TIMEOUT = 120.0


def intent_of(rasa_url: str, token: str, text: str) -> str:
    response = httpx.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}, timeout=30)
    response.raise_for_status()
    return str(response.json()["intent"]["name"])


def wait_for_intent(urls: list[str], token: str, text: str, wanted: str | None, unwanted: str | None = None) -> float:
    """Seconds until every Rasa instance parses `text` as `wanted` (or as anything but `unwanted`)."""
    started = time.monotonic()
    seen: dict[str, str] = {}
    while time.monotonic() - started < PULL_TIMEOUT:
        seen = {url: intent_of(url, token, text) for url in urls}
        if all((v == wanted) if wanted else (v != unwanted) for v in seen.values()):
            return time.monotonic() - started
        time.sleep(2)
    raise AssertionError(f"after {PULL_TIMEOUT:.0f} s the Rasa instances parse {text!r} as {seen}")


def test_annotate_train_promote_and_roll_back(stack: Stack, request: pytest.FixtureRequest, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    second = rasa_b(stack, request)
    rasas = [stack.rasa_url, second.url]
    before = {url: intent_of(url, stack.rasa_token, MISREAD) for url in rasas}
    assert set(before.values()) != {RIGHT}, f"the shipped model already understands {MISREAD!r}: {before}"
    misread = before[stack.rasa_url]
    sender = f"loop-{int(time.time())}"
    for text in (MISREAD, REPHRASED):  # the customer rephrases: the bot did not get it
        reply = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                           timeout=60)
        assert reply.status_code == 200, reply.text

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("pageerror", lambda error: errors.append(str(error)))
            login(page, stack.crm_url, "supervisor", "zh", next_path="/console/nlu")
            # 1. The misread message is in the inbox (it arrives through the event stream).
            row = page.get_by_test_id("nlu-row").filter(has_text=MISREAD)
            deadline = time.monotonic() + 60
            while row.count() == 0 and time.monotonic() < deadline:
                page.wait_for_timeout(2000)
                page.reload()
            expect(row.first).to_be_visible()
            # 2. The supervisor gives it the right intent, then trains a candidate.
            row.first.get_by_test_id("nlu-intent").select_option(RIGHT)
            expect(page.get_by_test_id("nlu-annotation").filter(has_text=MISREAD)).to_have_count(1)
            versions = page.request.get(f"{stack.crm_url}/api/v1/models").json()
            serving = versions["serving_id"]
            assert serving is not None, versions
            page.get_by_role("link", name="模型").click()
            page.wait_for_url("**/console/models")
            page.get_by_test_id("models-train").click()
            expect(page.get_by_test_id("models-running")).to_be_visible()
            expect(page.get_by_test_id("models-progress")).to_be_visible()
            candidate = page.get_by_test_id("models-row").first
            candidate_id = candidate.get_attribute("data-version")
            assert candidate_id and int(candidate_id) > serving
            started = time.monotonic()
            expect(page.get_by_test_id("models-running")).to_be_hidden(timeout=TRAINING_TIMEOUT * 1000)
            trained_in = time.monotonic() - started
            # 3. The gate passed; its figures are there; the supervisor promotes.
            expect(candidate.get_by_test_id("models-status")).to_have_text("就绪")
            expect(candidate.get_by_test_id("models-gate")).to_have_text("通过")
            candidate.get_by_test_id("models-show").click()
            expect(page.get_by_test_id("models-details")).to_be_visible()
            assert page.get_by_test_id("models-intent").count() > 20
            page.screenshot(path=str(artifacts / "models-zh.png"), full_page=True)
            candidate.get_by_test_id("models-promote").click()
            expect(candidate.get_by_test_id("models-status")).to_have_text("服务中")
            # 4. Both Rasa instances understand it now, neither restarted.
            pids = {name: stack.child_pid(name) for name in ("rasa",)}
            b_pid = second.process.pid
            took = wait_for_intent(rasas, stack.rasa_token, MISREAD, RIGHT)
            assert {name: stack.child_pid(name) for name in pids} == pids and second.process.poll() is None
            assert second.process.pid == b_pid
            # 5. One click rolls back: the old behaviour returns on both.
            page.get_by_test_id("models-row").filter(has=page.locator(f'td:text-is("v{serving}")')) \
                .get_by_test_id("models-rollback").click()
            expect(page.get_by_test_id("models-deployment").first).to_contain_text("回滚")
            back = wait_for_intent(rasas, stack.rasa_token, MISREAD, misread)
            page.goto(f"{stack.crm_url}/console/models?lang=en")
            expect(page.get_by_test_id("models-deployment").first).to_contain_text("rolled back")
            page.screenshot(path=str(artifacts / "models-en.png"), full_page=True)
            print(f"candidate trained and evaluated in {trained_in:.0f} s; both Rasa instances on it "
                  f"{took:.0f} s after promotion; rolled back on both in {back:.0f} s")
        finally:
            browser.close()
    assert not errors, errors
