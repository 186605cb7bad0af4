"""Knowledge base end to end in headless Chromium against the real stack (./kefu run, services mode):
a supervisor publishes a new article in the console editor, and within 5 s the bot answers a question
about it in the widget, in English and in Chinese; "No" to "Did this answer your question?" offers a
human. Screenshots: tests/e2e/artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.stack import Stack
from tests.e2e.widget_page import CJK, Widget, chromium

TITLE_EN = "Can I borrow an umbrella at the store?"
TITLE_ZH = "门店可以借雨伞吗？"
ANSWER_DEADLINE_S = 5.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def publish_in_console(page: Page, crm_url: str) -> float:
    """Log in as the supervisor, write the article in the editor, preview, save, publish; returns when."""
    page.goto(f"{crm_url}/console/login?next=/console/knowledge")
    page.get_by_test_id("username").fill("supervisor")
    page.get_by_test_id("password").fill("supervisor-pass")
    page.get_by_test_id("login-submit").click()
    page.goto(f"{crm_url}/console/knowledge?lang=en")
    page.get_by_test_id("kb-new").click()
    page.get_by_test_id("kb-slug").fill("umbrella-lending")
    page.get_by_test_id("kb-category").select_option("stores")
    page.get_by_test_id("kb-tags").fill("umbrella, 雨伞, rain")
    page.get_by_test_id("kb-en-title").fill(TITLE_EN)
    page.get_by_test_id("kb-en-body").fill("Yes: every store lends **umbrellas** for free when it rains. "
                                           "Return it to any store within 7 days. <script>alert(1)</script>")
    page.get_by_test_id("kb-zh-title").fill(TITLE_ZH)
    page.get_by_test_id("kb-zh-body").fill("可以：下雨时所有门店免费借用**雨伞**，7 天内归还到任意门店即可。")
    page.get_by_test_id("kb-zh-questions").fill("突然下雨了能去店里拿把伞吗\n借伞要押金吗")
    page.get_by_test_id("kb-preview").click()
    page.locator("#kb-preview-en strong", has_text="umbrellas").wait_for(timeout=10_000)
    assert "&lt;script&gt;" in page.locator("#kb-preview-en").inner_html(), "the preview shows the HTML as text"
    page.get_by_test_id("kb-save").click()
    page.get_by_test_id("kb-status").filter(has_text=re.compile("draft · v1", re.I)).wait_for(timeout=30_000)
    page.get_by_test_id("kb-publish").click()
    page.get_by_test_id("kb-status").filter(has_text=re.compile("published · v2", re.I)).wait_for(timeout=30_000)
    published_at = time.monotonic()
    assert page.get_by_test_id("kb-zh-questions").input_value() == "突然下雨了能去店里拿把伞吗\n借伞要押金吗"
    return published_at


def ask(widget: Widget, question: str, title: str, published_at: float) -> float:
    """Ask until the bot answers with the article; returns the seconds since publishing."""
    while True:
        answers = widget.send(question, timeout_ms=30_000)
        elapsed = time.monotonic() - published_at
        if any(title in text for text in answers):
            return elapsed
        assert elapsed < ANSWER_DEADLINE_S, f"not answered within {ANSWER_DEADLINE_S} s: {answers}"


def test_a_published_article_is_answered_in_the_widget_within_5_s_and_no_offers_a_human(
        stack: Stack, browser: Browser, artifacts: Path) -> None:
    en_context = browser.new_context(locale="en-US")
    en = Widget(en_context.new_page())
    en.page.goto(f"{stack.crm_url}/demo?lang=en")
    en.open()
    zh_context = browser.new_context(locale="zh-CN")
    zh = Widget(zh_context.new_page())
    zh.page.goto(f"{stack.crm_url}/demo?lang=zh")
    zh.open()
    before = en.send("How long does a refund take?")  # warms the CRM's index, as live traffic would
    assert any("refund" in text.lower() for text in before), before

    console_context = browser.new_context(locale="en-US")
    console = console_context.new_page()
    published_at = publish_in_console(console, stack.crm_url)
    console.screenshot(path=str(artifacts / "knowledge-editor.png"))

    en_seconds = ask(en, "Can I borrow an umbrella when it rains?", TITLE_EN, published_at)
    zh_seconds = ask(zh, "下雨了门店能借伞吗", TITLE_ZH, published_at)
    assert en_seconds < ANSWER_DEADLINE_S and zh_seconds < ANSWER_DEADLINE_S
    link = en.page.locator(".kefu-msg-bot a.kefu-link", has_text="/help/a/umbrella-lending").last
    assert link.get_attribute("href", timeout=10_000) == f"{stack.crm_url}/help/a/umbrella-lending?lang=en"
    # Wait for the reply to the click itself: a decline before the refresh also mentions a human.
    count = len(en.bot_texts())
    en.page.get_by_role("button", name="No").last.click()
    en.wait_for_bot_messages(count + 1)
    assert "talk to a human" in en.bot_texts()[-1]
    assert en.page.get_by_role("button", name="Talk to a human").last.is_visible()
    en.screenshot(artifacts / "knowledge-widget-en.png")
    count = len(zh.bot_texts())
    zh.page.get_by_role("button", name="没有帮助").last.click()
    zh.wait_for_bot_messages(count + 1)
    assert "转接人工客服" in zh.bot_texts()[-1]
    assert CJK.search(zh.bot_texts()[-1]) and zh.page.get_by_role("button", name="转人工").last.is_visible()
    zh.screenshot(artifacts / "knowledge-widget-zh.png")

    # Both "No"s reach the supervisor's dashboard with the question asked, and the article opens from there.
    console.goto(f"{stack.crm_url}/console/knowledge?lang=en")
    unhelpful = console.get_by_test_id("kb-unhelpful")
    unhelpful.locator("li", has_text="can i borrow an umbrella when it rains?").wait_for(timeout=10_000)
    assert "→ umbrella-lending × 1" in unhelpful.locator("li").first.inner_text()
    unhelpful.locator("li", has_text="下雨了门店能借伞吗 (").wait_for(timeout=10_000)
    unhelpful.get_by_test_id("kb-unhelpful-open").first.click()
    console.get_by_test_id("kb-status").filter(has_text=re.compile("published · v2", re.I)).wait_for(timeout=10_000)
    assert console.get_by_test_id("kb-en-title").input_value() == TITLE_EN
    console.screenshot(path=str(artifacts / "knowledge-unhelpful.png"))

    # The supervisor records the English question as not answered: the bot now says it doesn't know instead of
    # offering the umbrella article; removing the record restores the answer.
    unhelpful.locator("li", has_text="can i borrow an umbrella").get_by_test_id("kb-record-unanswered").click()
    recorded = console.get_by_test_id("kb-unanswered").locator("li", has_text="can i borrow an umbrella when it rains?")
    recorded.wait_for(timeout=10_000)
    declined = en.send("Can I borrow an umbrella when it rains?", timeout_ms=30_000)
    assert not any(TITLE_EN in text for text in declined) and any("human" in text for text in declined), declined
    recorded.get_by_test_id("kb-unanswered-remove").click()
    recorded.wait_for(state="detached", timeout=10_000)
    ask(en, "Can I borrow an umbrella when it rains?", TITLE_EN, time.monotonic())

    help_page = en.page.context.new_page()
    help_page.goto(f"{stack.crm_url}/help/a/umbrella-lending?lang=en")
    assert help_page.locator("article h1").inner_text() == TITLE_EN
    assert "<script>" in help_page.locator("article .body").inner_text(), "unsafe HTML is shown as text"
    print(f"answered {en_seconds:.1f} s (en) and {zh_seconds:.1f} s (zh) after publishing")
    for context in (en_context, zh_context, console_context):
        context.close()
