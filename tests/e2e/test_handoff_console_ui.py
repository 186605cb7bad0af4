"""The agent console and dashboard in headless Chromium against a real CRM process and a stand-in Rasa.

Needs no trained bot, so it checks the console's own behaviour in every run: live queue (SSE),
claim, reply, customer turn appearing live, Rasa down → "not delivered" mark → retry, internal
note, resolve → resume + EXTERNAL_handoff_resolved, and the supervisor dashboard rendering.
Screenshots: tests/e2e/artifacts/handoff-ui-*.png.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.handoff_helpers import chromium_pages, shot, wait_for
from tests.e2e.stack import ROOT

CRM_PORT, RASA_PORT = 18045, 18046
TOKEN = "ui-service-token"


def serve(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(ROOT / ".venvs/crm/bin/python"), "-m", "uvicorn", app, "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)


# The SQLite file behind each running CRM (by its URL): a test may backdate rows in it. Other test modules
# import the `crm` fixture, so it cannot depend on a second fixture of this module.
DATABASES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from testing.crm_seeding import seeded_engine

    folder = tmp_path_factory.mktemp("console-ui")
    database = f"sqlite:///{folder / 'crm.db'}"
    seeded_engine(database).dispose()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_", "RABBITMQ_", "KEFU_EVENT"))}
    env.update(DATABASE_URL=database, RASA_URL=f"http://127.0.0.1:{RASA_PORT}", CRM_SERVICE_TOKEN=TOKEN,
               KEFU_HANDOFF_RETRY_SECONDS="0.5", KEFU_HANDOFF_IDLE_SECONDS="1", KEFU_EVENT_STREAM="sql",
               KEFU_EVENTS_DB=str(folder / "events.db"), PYTHONPATH=str(ROOT))
    processes = [serve("tests.e2e.handoff_fake_rasa:app", RASA_PORT, env, folder / "rasa.log"),
                 serve("crm_backend.main:app", CRM_PORT, env, folder / "crm.log")]
    urls = (f"http://127.0.0.1:{CRM_PORT}", f"http://127.0.0.1:{RASA_PORT}")
    DATABASES[urls[0]] = folder / "crm.db"
    try:
        for url in urls:
            def up(url: str = url) -> bool:
                try:
                    return httpx.get(f"{url}/health" if url.endswith(str(CRM_PORT)) else f"{url}/docs",
                                     timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False
            wait_for(f"{url} to start", up, timeout=60, every=0.3)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def login(page: object, crm_url: str, username: str, lang: str, next_path: str = "/console") -> None:
    page.goto(f"{crm_url}/console/login?lang={lang}&next={next_path}")  # type: ignore[attr-defined]
    page.get_by_test_id("username").fill(username)  # type: ignore[attr-defined]
    page.get_by_test_id("password").fill(f"{username}-pass")  # type: ignore[attr-defined]
    page.get_by_test_id("login-submit").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))  # type: ignore[attr-defined]


def escalate(crm_url: str, conversation: str, said: str, **fields: str) -> None:
    """Emily Carter (customer 3, English) asks for a human with one message."""
    created = httpx.post(f"{crm_url}/api/v1/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}, json={
        "conversation_id": conversation, "customer_id": 3, "reason": said, "language": "en",
        "transcript": [{"role": "user", "text": said, "at": time.time()}], **fields}, timeout=10)
    assert created.status_code == 201, created.text


def test_console_flow_with_undelivered_retry_and_dashboard(crm: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    crm_url, rasa_url = crm
    conversation = f"ui-{int(time.time())}"
    errors: list[str] = []
    with chromium_pages(errors) as new_page:
        page = new_page()
        login(page, crm_url, "agent1", "zh")
        expect(page.locator("#live.on")).to_be_visible(timeout=15_000)
        created = httpx.post(f"{crm_url}/api/v1/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}, json={
            "conversation_id": conversation, "channel": "rest", "customer_id": 1, "reason": "客户要求人工",
            "reason_code": "explicit_request", "priority": "high", "language": "zh",
            "transcript": [{"role": "user", "text": "你好", "at": time.time() - 20},
                           {"role": "bot", "text": "您好！请问有什么可以帮您？", "at": time.time() - 19},
                           {"role": "user", "text": "转人工", "at": time.time() - 3}]}, timeout=10)
        assert created.status_code == 201 and created.json()["agents_online"] == 1
        item = page.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
        expect(item).to_be_visible(timeout=10_000)  # no reload: pushed by SSE
        expect(item).to_contain_text("价值客户")
        item.click()
        expect(page.get_by_test_id("transcript")).to_contain_text("您好！请问有什么可以帮您？")
        expect(page.get_by_test_id("c360-tier")).to_have_text("钻石会员")  # the tier in the agent's language
        page.get_by_test_id("claim").click()
        expect(page.get_by_test_id("conv-status")).to_contain_text("已接入", timeout=10_000)

        page.get_by_test_id("reply").fill("您好，我是小林")
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("msg-agent").last).to_contain_text("您好，我是小林")
        httpx.post(f"{rasa_url}/_test/say/{conversation}", json={"text": "快递三天没动了"}, timeout=5)
        expect(page.get_by_test_id("transcript")).to_contain_text("快递三天没动了", timeout=10_000)

        httpx.post(f"{rasa_url}/_test/down", json={"down": True}, timeout=5)
        page.get_by_test_id("reply").fill("稍等，我查一下")
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("delivery-mark")).to_contain_text("未送达", timeout=10_000)
        shot(page, artifacts, "ui-1-not-delivered")
        with page.expect_response(lambda r: r.url.endswith("/retry")) as retried:  # still down: stays queued
            page.get_by_test_id("retry").click()
        # the retry timer may hold the attempt at that instant ("sending"); either way nothing was delivered
            assert retried.value.status == 200 and retried.value.json()["delivery"] in ("pending", "sending")
        expect(page.get_by_test_id("delivery-mark")).to_contain_text("未送达")
        httpx.post(f"{rasa_url}/_test/down", json={"down": False}, timeout=5)
        try:  # Rasa is back: the Retry button or the retry timer's next round delivers it, whichever is first
            page.get_by_test_id("retry").click(timeout=2_000)
        except PlaywrightTimeout:
            pass
        expect(page.get_by_test_id("delivery-mark")).to_have_count(0, timeout=10_000)

        page.get_by_test_id("as-note").check()
        page.get_by_test_id("reply").fill("VIP，语气放软")
        page.get_by_test_id("send").click()
        expect(page.get_by_test_id("msg-note")).to_contain_text("VIP，语气放软")
        shot(page, artifacts, "ui-2-conversation")
        page.get_by_test_id("resolve").click()
        expect(page.get_by_test_id("conv-status")).to_contain_text("已解决", timeout=10_000)
        events = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=5).json()["events"]
        bots = [e["text"] for e in events if e.get("event") == "bot"]
        assert bots == ["您好，我是小林", "稍等，我查一下", "CSAT 1-5? (EXTERNAL_handoff_resolved)"]
        assert [e["event"] for e in events].count("resume") == 1

        boss = new_page(viewport={"width": 1400, "height": 1100}, locale="en-GB")
        login(boss, crm_url, "supervisor", "en", "/dashboard")
        expect(boss.get_by_test_id("kpi-first_response")).not_to_contain_text("—", timeout=10_000)
        expect(boss.get_by_test_id("dash-agents")).to_contain_text("Lin")
        expect(boss.locator("#chart svg > rect.bar")).to_have_count(30)  # one bar a day; the legend's swatch aside
        shot(boss, artifacts, "ui-3-dashboard")
    assert not errors, errors


def test_supervisor_turns_on_auto_assignment_and_an_agent_transfers_up(crm: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import expect

    crm_url, _rasa_url = crm
    with httpx.Client(base_url=crm_url, timeout=10) as agent1:  # agent1 (earlier test) goes offline
        token = agent1.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1-pass"}).json()
        agent1.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token["csrf_token"]})
    conversation = f"ui-auto-{int(time.time())}"
    errors: list[str] = []
    # The agent console refetches the transferred conversation once more and gets 403 (no longer its own).
    with chromium_pages(errors, console=False) as new_page:
        boss, agent = new_page(), new_page()
        login(boss, crm_url, "supervisor", "en")
        boss.get_by_test_id("agent-status").select_option("away")  # supervisors take no automatic work
        login(agent, crm_url, "agent2", "en")
        expect(agent.locator("#live.on")).to_be_visible(timeout=15_000)
        with boss.expect_response(lambda r: r.url.endswith("/console/settings") and r.request.method == "PUT"
                                  ) as settings:
            boss.get_by_test_id("auto-assign").check()
        assert settings.value.status == 200 and settings.value.json()["auto_assign"] is True
        escalate(crm_url, conversation, "I want a refund", channel="rest", reason_code="complaint", priority="urgent")
        item = agent.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
        expect(item).to_contain_text("Assigned", timeout=10_000)
        expect(item).to_contain_text("Zhou")  # agent2 got it without clicking
        item.click()
        expect(agent.get_by_test_id("c360-tier")).to_have_text("Gold")
        agent.get_by_test_id("transfer").select_option("supervisor")
        expect(item).to_have_count(0, timeout=10_000)  # no longer agent2's to see
        expect(agent.locator("#conversation")).to_be_hidden()
        boss_item = boss.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
        expect(boss_item).to_contain_text("Supervisor", timeout=10_000)
        shot(boss, artifacts, "ui-4-transferred")
        boss.get_by_test_id("auto-assign").uncheck()
        time.sleep(0.5)
    assert not errors, errors


def test_a_waiting_customer_who_left_is_shown_closed_and_handed_back(crm: tuple[str, str], artifacts: Path) -> None:
    """The handoff timer closes a waiting handoff whose customer went silent: the open console shows it closed
    (no claim, no composer) without a reload, and the bot says goodbye and takes the conversation back."""
    from playwright.sync_api import expect
    from sqlalchemy import create_engine, update

    from crm_backend.core.db import utcnow
    from crm_backend.handoff.models import Handoff

    crm_url, rasa_url = crm
    conversation = f"ui-left-{int(time.time())}"
    errors: list[str] = []
    with chromium_pages(errors) as new_page:
        page = new_page()
        login(page, crm_url, "agent2", "en")
        escalate(crm_url, conversation, "human please", channel="socketio", reason_code="explicit_request",
                 priority="normal")
        item = page.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
        expect(item).to_contain_text("Waiting", timeout=10_000)
        item.click()
        expect(page.get_by_test_id("claim")).to_be_visible()
        # Seventy minutes of silence (the web default closes after 60): backdate it in the CRM's database.
        engine = create_engine(f"sqlite:///{DATABASES[crm_url]}")
        with engine.begin() as connection:
            then = utcnow() - timedelta(minutes=70)
            connection.execute(update(Handoff).where(Handoff.conversation_id == conversation)
                               .values(created_at=then, customer_last_seen_at=then))
        engine.dispose()
        expect(page.get_by_test_id("conv-status")).to_contain_text("Customer left", timeout=20_000)
        expect(page.get_by_test_id("claim")).to_be_hidden()
        expect(page.get_by_test_id("reply")).to_be_hidden()
        expect(item).to_have_count(0)  # off the queue
        shot(page, artifacts, "ui-5-customer-left")

        def handed_back() -> bool:
            events = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=5).json()["events"]
            said = [e.get("text") for e in events if e.get("event") == "bot"]
            return bool(said) and "haven't heard from you" in said[-1] and \
                [e["event"] for e in events].count("resume") == 1
        wait_for("the bot to take the conversation back", handed_back, timeout=20, every=0.5)
    assert not errors, errors
