"""Drive the website chat widget in headless Chromium (Playwright, Debian's /usr/bin/chromium)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CJK = re.compile(r"[\u4e00-\u9fff]")
HOST_PAGE_PORT = 18058  # "another website" embedding the widget (channels' port range)
HOST_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>another host page</title></head>
<body><h1>Another website embedding the Kefu widget</h1>
<script src="{crm}/widget/kefu-widget.js" data-server="{rasa}"{attrs}></script></body></html>"""


@contextmanager
def host_page(crm_url: str, rasa_url: str, lang: str = "en", customer_token: str | None = None) -> Iterator[str]:
    """Serve a page on its own 127.0.0.1 origin that embeds the widget talking to `rasa_url` (as the signed-in
    customer of `customer_token`, if given).

    (Chromium blocks loopback connections from pages Playwright fulfils itself: local network access checks.)
    """
    attrs = f' data-customer-token="{customer_token}"' if customer_token else ""
    html = HOST_PAGE.format(crm=crm_url, rasa=rasa_url, lang=lang, attrs=attrs).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", HOST_PAGE_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{HOST_PAGE_PORT}/"
    finally:
        server.shutdown()
        server.server_close()


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
