"""The NLU inbox in headless Chromium against a real CRM process fed by the embedded event stream (Rasa's SQL
broker file): a message the bot fell back on three times is listed first with its count and the model's top 3;
the supervisor confirms one message, gives two others an intent in one action, marks one out of scope, and the
inbox empties. Page in Chinese. Screenshot: tests/e2e/artifacts/handoff-nlu-inbox-zh.png."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testing import conversation_events as ev
from tests.e2e.handoff_helpers import CHROMIUM, CHROMIUM_ARGS, shot, wait_for
from tests.e2e.test_handoff_console_ui import login, serve

CRM_PORT = 18047


def said(sender: str, text: str, ts: float, intent: str, confidence: float, language: str) -> dict[str, Any]:
    event = ev.user(sender, text, ts, intent=intent, confidence=confidence, language=language)
    event["parse_data"]["intent_ranking"] = [{"name": "check_points_balance", "confidence": 0.42},
                                             {"name": "show_rewards", "confidence": 0.31},
                                             {"name": "greet", "confidence": 0.08}]
    return event


@pytest.fixture(scope="module")
def inbox_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from testing.crm_seeding import seeded_engine

    folder = tmp_path_factory.mktemp("nlu-inbox")
    database = f"sqlite:///{folder / 'crm.db'}"
    seeded_engine(database).dispose()
    now = time.time() - 600
    events = [said(f"nlu-a{i}", "我的积分呢<b>？</b>", now + i, "nlu_fallback", 0.3, "zh") for i in range(3)]
    events += [said("nlu-b", "how many pts have i got", now + 10, "check_points_balance", 0.42, "en"),
               said("nlu-c", "积分能换啥", now + 20, "show_rewards", 0.35, "zh"),
               said("nlu-d", "what is the weather in Paris", now + 30, "chitchat", 0.4, "en")]
    ev.write_sql_broker_file(folder / "events.db", events)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_", "RABBITMQ_", "KEFU_EVENT"))}
    env.update(DATABASE_URL=database, CRM_SERVICE_TOKEN="nlu-service-token", KEFU_EVENT_STREAM="sql",
               KEFU_EVENTS_DB=str(folder / "events.db"), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = serve("crm_backend.main:app", CRM_PORT, env, folder / "crm.log")
    url = f"http://127.0.0.1:{CRM_PORT}"
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        wait_for("the CRM to start", up, timeout=60, every=0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_supervisor_annotates_the_inbox_in_chinese(inbox_crm: str, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda error: errors.append(str(error)))
            login(page, inbox_crm, "supervisor", "zh", "/console/nlu")
            rows = page.get_by_test_id("nlu-row")
            expect(rows).to_have_count(4, timeout=20_000)  # the stream consumer stores the events first
            first = rows.first
            expect(first.get_by_test_id("nlu-text")).to_have_text("我的积分呢<b>？</b>")  # text, never markup
            expect(first.get_by_test_id("nlu-count")).to_have_text("3")
            expect(first).to_contain_text("未听懂")
            expect(first.get_by_test_id("nlu-confirm")).to_have_count(3)
            shot(page, artifacts, "nlu-inbox-zh")

            first.get_by_test_id("nlu-confirm").first.click()  # the model's first guess was right
            expect(rows).to_have_count(3)
            expect(page.get_by_test_id("flash")).to_contain_text("已保存 1 条标注")
            for text in ("how many pts have i got", "积分能换啥"):
                page.get_by_test_id("nlu-row").filter(has_text=text).locator("input.pick").check()
            page.get_by_test_id("nlu-bulk-intent").select_option("check_points_balance")
            page.get_by_test_id("nlu-bulk-apply").click()
            expect(rows).to_have_count(1)
            rows.first.get_by_test_id("nlu-oos").click()
            expect(page.get_by_test_id("nlu-inbox")).to_contain_text("暂无需要标注的消息")
            expect(page.get_by_test_id("nlu-annotation")).to_have_count(4)
            expect(page.get_by_test_id("nlu-annotations")).to_contain_text("超出范围")
            assert errors == [], errors
        finally:
            browser.close()
