"""Outreach on the customer's next website visit, in headless Chromium: a playbook message left for the widget
(no chat app) appears in the widget of a signed-in customer on another website, in zh and en, once; an
anonymous visitor's widget asks for nothing. Needs only a CRM process (no bot). Screenshots:
tests/e2e/artifacts/widget-outreach-*.png."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.security import create_customer_token
from crm_backend.playbook import delivery, repository, service
from crm_backend.playbook.channels import Senders
from crm_backend.playbook.models import Delivery
from crm_backend.tests.playbook.conftest import NOON, add_order, make_customer
from testing.outreach import outreach_settings
from tests.e2e.handoff_helpers import wait_for
from tests.e2e.test_handoff_console_ui import serve
from tests.e2e.widget_page import CJK, chromium, host_page

CRM_PORT = 18061
SECRET = "widget-outreach-test-secret-0123456789"
DEAD_RASA = "http://127.0.0.1:9"  # the bot is not needed to show waiting messages


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """A CRM process whose database holds CSAT check-ins waiting for two customers' next visit (zh, en)."""
    from testing.crm_seeding import seeded_engine

    folder = tmp_path_factory.mktemp("widget-outreach")
    database = f"sqlite:///{folder / 'crm.db'}"
    engine = seeded_engine(database)
    waiting: dict[str, Any] = {}
    senders = Senders(outreach_settings(DEAD_RASA))  # never called: no chat app
    try:
        with Session(engine) as session:
            service.ensure_defaults(session)
            for lang in ("zh", "en"):
                customer = make_customer(session, NOON, lang=lang)  # no chat app: the widget is the channel
                order = add_order(session, customer, placed_at=NOON - timedelta(days=10),
                                  delivered_at=NOON - timedelta(days=7))
                waiting[lang] = {"customer": customer.id, "order_no": order.order_no}
            session.commit()
            csat = repository.by_key(session, "csat_check_in")
            assert csat is not None
            csat.holdout_pct = 0.0
            started = service.start_run(session, playbook_id=csat.id, now=NOON)
            session.commit()
            for delivery_id in started.to_send:
                delivery.deliver(session, delivery_id=delivery_id, senders=senders, now=NOON)
            statuses = {d.customer_id: d.status for d in session.scalars(select(Delivery))}
            assert all(statuses[w["customer"]] == "waiting_visit" for w in waiting.values()), statuses
    finally:
        senders.client.close()
        engine.dispose()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_", "RABBITMQ_", "KEFU_EVENT"))}
    env.update(DATABASE_URL=database, CUSTOMER_TOKEN_SECRET=SECRET, KEFU_HANDOFF_TIMER="0", KEFU_EVENT_STREAM="off",
               PLAYBOOK_SCHEDULE_SECONDS="0", MAINTENANCE_INTERVAL_SECONDS="0")
    process = serve("crm_backend.main:app", CRM_PORT, env, folder / "crm.log")
    url = f"http://127.0.0.1:{CRM_PORT}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    try:
        wait_for("the CRM to start", up, timeout=60, every=0.3)
        yield url, waiting
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_signed_in_customer_sees_the_waiting_message_once(crm: tuple[str, dict[str, Any]], browser: Browser,
                                                          artifacts: Path, lang: str) -> None:
    crm_url, waiting = crm
    token = create_customer_token(waiting[lang]["customer"], SECRET, 600)
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    with host_page(crm_url, DEAD_RASA, lang, token) as url:
        page.goto(url)
        check_first_and_next_visit(page, waiting[lang]["order_no"], lang, artifacts)
    again = httpx.get(f"{crm_url}/api/v1/widget/outreach", headers={"X-Customer-Token": token}, timeout=10)
    assert again.status_code == 200 and again.json() == [], "handed out once"
    context.close()


def check_first_and_next_visit(page: Page, order_no: str, lang: str, artifacts: Path) -> None:
    badge = page.locator(".kefu-badge")
    badge.wait_for(state="visible", timeout=15_000)
    assert badge.inner_text() == "1"
    label = page.locator(".kefu-launcher").get_attribute("aria-label") or ""
    assert label == ("打开在线客服（1 条新消息）" if lang == "zh" else "Open customer service chat (1 new message)")
    page.locator(".kefu-launcher").click()
    bubble = page.locator(".kefu-msg-bot .kefu-bubble").first
    text = bubble.inner_text()
    assert order_no in text
    assert bool(CJK.search(text)) == (lang == "zh"), f"the message is in the customer's language: {text}"
    assert badge.is_hidden(), "opening the chat clears the badge"
    page.screenshot(path=str(artifacts / f"widget-outreach-{lang}.png"))

    page.reload()  # the next page view (the chat stays open): kept in the conversation, not announced again
    page.locator(".kefu-launcher").wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    assert badge.is_hidden()
    logged = page.locator(".kefu-msg-bot .kefu-bubble").all_inner_texts()
    assert sum(order_no in t for t in logged) == 1, logged


def test_anonymous_visitor_asks_for_no_account_data(crm: tuple[str, dict[str, Any]], browser: Browser) -> None:
    crm_url, _waiting = crm
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    with host_page(crm_url, DEAD_RASA, "zh") as url:
        page.goto(url)
        page.locator(".kefu-launcher").wait_for()
        page.wait_for_load_state("networkidle")
        assert not [u for u in requests if "/api/" in u], requests
        assert page.locator(".kefu-badge").is_hidden()
        assert page.locator(".kefu-launcher").get_attribute("aria-label") == "打开在线客服"
    forged = httpx.get(f"{crm_url}/api/v1/widget/outreach", headers={"X-Customer-Token": "not-a-token"}, timeout=10)
    assert forged.status_code == 401
    assert re.search(r"令牌|token", forged.text, re.IGNORECASE)
    context.close()
