"""Helpers of the handoff browser test: Chromium launch, Rasa tracker reads, an optional private stack.

`KEFU_E2E_HANDOFF_OWN_STACK=1` runs the test on its own stack (ports 18040–18042, PostgreSQL
`kefu_e2e_handoff`, Redis db 6) instead of the shared session `stack`, so a developer can run it
while someone else runs the shared e2e suite.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from testing.services import fresh_database_url, fresh_redis_url
from tests.e2e.stack import Stack, stack_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
OWN_PORTS = (18040, 18041, 18042)


def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("handoff-stack")
    env = stack_env(var_dir, *OWN_PORTS, DATABASE_URL=fresh_database_url("kefu_e2e_handoff"),
                    REDIS_URL=fresh_redis_url(6))
    running = Stack(*OWN_PORTS, var_dir=var_dir, env=env).start()
    try:
        yield running
    finally:
        running.interrupt()


def use_own_stack() -> bool:
    return os.environ.get("KEFU_E2E_HANDOFF_OWN_STACK") == "1"


def tracker_events(stack: Stack, conversation: str) -> list[dict[str, Any]]:
    """The conversation's events as Rasa stores them (what the customer's channel was sent)."""
    response = httpx.get(f"{stack.rasa_url}/conversations/{conversation}/tracker",
                         params={"token": stack.rasa_token}, timeout=30)
    response.raise_for_status()
    return list(response.json().get("events") or [])


def bot_texts_after(stack: Stack, conversation: str, since: float) -> list[str]:
    return [e.get("text") or "" for e in tracker_events(stack, conversation)
            if e.get("event") == "bot" and float(e.get("timestamp") or 0) >= since]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30, every: float = 0.5) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"handoff-{name}.png"), full_page=True)


@contextmanager
def chromium_pages(errors: list[str], *, console: bool = True) -> Iterator[Callable[..., Any]]:
    """Headless Chromium; yields `new_page(**options)`, whose page errors (and, with `console`, console errors
    such as failed requests) land in `errors`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def new_page(**options: Any) -> Any:
            page = browser.new_page(**{"viewport": {"width": 1400, "height": 900}, **options})
            page.on("pageerror", lambda error: errors.append(str(error)))
            if console:
                page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            return page

        try:
            yield new_page
        finally:
            browser.close()
