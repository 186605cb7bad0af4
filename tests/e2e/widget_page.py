"""Drive the website chat widget in headless Chromium (Playwright, Debian's /usr/bin/chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CJK = re.compile(r"[\u4e00-\u9fff]")


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Widget:
    """The widget on one page: open it, type, read the conversation."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> Widget:
        self.page.locator(".kefu-launcher").wait_for(state="attached", timeout=30_000)
        if self.page.locator(".kefu-panel").is_hidden():  # the widget reopens itself if it was open before
            self.page.locator(".kefu-launcher").click()
        self.page.locator(".kefu-panel[data-session]").wait_for(timeout=30_000)
        return self

    @property
    def session_id(self) -> str:
        return str(self.page.locator(".kefu-panel").get_attribute("data-session"))

    def bot_texts(self) -> list[str]:
        return self.page.locator(".kefu-msg-bot .kefu-bubble").all_inner_texts()

    def user_texts(self) -> list[str]:
        return self.page.locator(".kefu-msg-user .kefu-bubble").all_inner_texts()

    def send(self, text: str, timeout_ms: int = 90_000) -> list[str]:
        """Type `text`, press Enter, and return the bot messages that answer it."""
        before = len(self.bot_texts())
        box = self.page.locator(".kefu-input")
        box.fill(text)
        box.press("Enter")
        self.wait_for_bot_messages(before + 1, timeout_ms)
        # The bot may send several messages in a row; give the rest a moment to arrive.
        self.page.wait_for_timeout(1500)
        return self.bot_texts()[before:]

    def wait_for_bot_messages(self, count: int, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('.kefu-msg-bot .kefu-bubble').length >= n", arg=count,
            timeout=timeout_ms)

    def wait_for_text(self, text: str, timeout_ms: int = 30_000) -> None:
        self.page.locator(".kefu-msg-bot .kefu-bubble", has_text=text).first.wait_for(timeout=timeout_ms)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=False)
