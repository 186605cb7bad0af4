"""The supervisor dashboard in Chinese, in headless Chromium: no English enum word, no raw true/false, a
chart with axes and a legend, and pagers under the long tables. Screenshot: tests/e2e/artifacts/console-zh.png."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.handoff_helpers import CHROMIUM, CHROMIUM_ARGS, shot
from tests.e2e.test_handoff_console_ui import crm, login

__all__ = ["crm"]
ENGLISH_ENUMS = re.compile(r"\b(true|false|urgent|high|normal|low|waiting|assigned|resolved|login|logout|system|"
                           r"regular|silver|gold|diamond)\b", re.IGNORECASE)


def test_dashboard_in_chinese_shows_no_english_enum_or_boolean(crm: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    crm_url, _rasa = crm
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            login(page, crm_url, "supervisor", "zh", "/dashboard")
            expect(page.get_by_test_id("dash-agents").locator("td").first).to_be_visible(timeout=20_000)
            expect(page.get_by_test_id("audit").locator("td").first).to_be_visible(timeout=20_000)
            expect(page.get_by_test_id("legend")).to_contain_text("转人工数")
            expect(page.get_by_test_id("chart").locator("[data-testid=x-tick]").first).to_be_visible()
            expect(page.get_by_test_id("churn-pager")).to_contain_text("共")
            shot(page, artifacts, "console-zh")
            text = page.locator("main").inner_text()
            assert ENGLISH_ENUMS.findall(text) == [], ENGLISH_ENUMS.findall(text)
            assert "登录" in page.get_by_test_id("audit").inner_text()  # the supervisor's own log-in, translated
        finally:
            browser.close()
