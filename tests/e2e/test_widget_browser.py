"""The website chat widget in headless Chromium against the real stack (./kefu run: CRM serves /demo and
the widget, Rasa's socket.io channel answers, actions read the CRM). Screenshots: tests/e2e/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.stack import Stack
from tests.e2e.widget_page import CJK, Widget, chromium, host_page

WANG_WEI = 1


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def numbers_in(texts: list[str]) -> set[int]:
    return {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", " ".join(texts))}


def balance(stack: Stack) -> int:
    answer = stack.crm("GET", f"/customers/{WANG_WEI}/points")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance"])


def test_widget_is_served_as_one_script_without_external_downloads(stack: Stack) -> None:
    script = httpx.get(f"{stack.crm_url}/widget/kefu-widget.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "Socket.IO v4.8.1" in script.text and "KefuIO" in script.text
    assert httpx.get(f"{stack.crm_url}/widget/kefu-widget.css", timeout=10).status_code == 200
    page = httpx.get(f"{stack.crm_url}/demo", timeout=10).text
    assert len(re.findall(r"<script\b", page)) == 1 and "cdn" not in page.lower()


def test_anonymous_visitor_chats_in_chinese_and_english_with_the_keyboard(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{stack.crm_url}/demo?visitor=anonymous")
    launcher = page.locator(".kefu-launcher")
    assert launcher.get_attribute("aria-label") == "打开在线客服", "the UI follows the browser language (zh)"
    launcher.focus()
    page.keyboard.press("Enter")
    widget = Widget(page)
    page.locator(".kefu-panel[data-session]").wait_for(timeout=30_000)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "kefu-input", "focus moves into the message box"
    assert page.locator(".kefu-log").get_attribute("role") == "log"
    assert page.get_by_label("消息内容").is_visible()

    page.evaluate("""() => { window.__kefuTyping = false; const t = document.querySelector('.kefu-typing');
        new MutationObserver(() => { if (!t.hidden) { window.__kefuTyping = true; } })
          .observe(t, {attributes: true}); }""")
    zh = widget.send("你好")
    assert zh and CJK.search(" ".join(zh)), f"a Chinese greeting gets Chinese: {zh}"
    assert page.evaluate("window.__kefuTyping"), "the typing indicator showed while the bot was answering"
    assert page.locator(".kefu-typing").is_hidden(), "and is gone once the answer arrived"
    en = widget.send("Hello, what can you help me with?")
    assert en and not CJK.search(en[0]), f"an English question gets English: {en}"
    widget.screenshot(artifacts / "widget-anonymous-zh-en.png")

    page.keyboard.press("Escape")
    assert page.locator(".kefu-panel").is_hidden() and launcher.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('kefu-launcher')")
    external = [u for u in requests if not u.startswith((stack.crm_url, stack.rasa_url, "data:"))]
    assert external == [], f"nothing is downloaded from elsewhere: {external}"
    context.close()


def test_logged_in_customer_gets_points_balance_and_history_survives_reload(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    expected = balance(stack)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{stack.crm_url}/demo?visitor=customer&lang=en")
    assert page.locator(".kefu-launcher").get_attribute("aria-label") == "Open customer service chat"
    widget = Widget(page).open()
    session = widget.session_id

    en = widget.send("what is my points balance?")
    assert expected in numbers_in(en), f"the logged-in customer gets the balance {expected}: {en}"
    zh = widget.send("我的积分还有多少？")
    assert expected in numbers_in(zh) and CJK.search(" ".join(zh)), f"balance in Chinese: {zh}"
    widget.screenshot(artifacts / "widget-customer-points.png")
    bot_before, user_before = widget.bot_texts(), widget.user_texts()

    page.reload()
    page.locator(".kefu-panel[data-session]").wait_for(timeout=30_000)
    assert widget.session_id == session, "the same conversation continues after a reload"
    assert widget.user_texts() == user_before and widget.bot_texts() == bot_before, "history is re-rendered"
    widget.screenshot(artifacts / "widget-customer-after-reload.png")
    again = widget.send("thanks")
    assert again, "the conversation goes on after the reload"

    tracker = httpx.get(f"{stack.rasa_url}/conversations/{session}/tracker", params={"token": stack.rasa_token},
                        timeout=30).json()
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert said[-3:] == ["what is my points balance?", "我的积分还有多少？", "thanks"], said
    context.close()


def test_quick_replies_links_and_agent_messages_render(stack: Stack, browser: Browser, artifacts: Path) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{stack.crm_url}/demo?lang=en")
    widget = Widget(page).open()
    widget.send("hi")
    pushed = [{"event": "bot", "text": "Agent Li here. Track your parcel at https://example.com/track?n=KF20250001",
               "data": {"buttons": [{"title": "你好", "payload": "你好"}, {"title": "Thanks", "payload": "thanks"}]}}]
    answer = httpx.post(f"{stack.rasa_url}/conversations/{widget.session_id}/tracker/events",
                        params={"token": stack.rasa_token, "output_channel": "latest", "execute_side_effects": "true"},
                        json=pushed, timeout=60)
    assert answer.status_code == 200, answer.text
    widget.wait_for_text("Agent Li here")
    link = page.locator(".kefu-msg-bot a.kefu-link").last
    assert link.get_attribute("href") == "https://example.com/track?n=KF20250001"
    assert link.get_attribute("rel") == "noopener noreferrer"
    button = page.get_by_role("button", name="你好")
    button.wait_for()
    widget.screenshot(artifacts / "widget-quick-replies.png")
    before = len(widget.bot_texts())
    button.focus()
    page.keyboard.press("Enter")
    widget.wait_for_bot_messages(before + 1)
    assert widget.user_texts()[-1] == "你好"
    assert page.get_by_role("button", name="你好").is_disabled(), "used quick replies are disabled"
    context.close()


def test_widget_is_usable_on_a_phone(stack: Stack, browser: Browser, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{stack.crm_url}/demo?lang=zh")
    widget = Widget(page).open()
    box = page.locator(".kefu-panel").bounding_box()
    assert box is not None and box["width"] == 375 and box["height"] >= 700, f"full screen on a phone: {box}"
    send_box = page.locator(".kefu-send").bounding_box()
    assert send_box is not None and send_box["height"] >= 44, "touch targets are at least 44 px"
    assert widget.send("你好")
    widget.screenshot(artifacts / "widget-mobile.png")
    context.close()


def test_widget_says_when_the_assistant_is_unreachable(stack: Stack, browser: Browser, artifacts: Path) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    with host_page(stack.crm_url, "http://127.0.0.1:18054", lang="zh-CN") as url:  # nothing listens there
        page.goto(url)
        page.locator(".kefu-launcher").click()
        page.locator(".kefu-status", has_text="连接中断").wait_for(timeout=30_000)
        page.locator(".kefu-input").fill("有人吗")
        page.locator(".kefu-input").press("Enter")
        assert Widget(page).user_texts() == ["有人吗"], "the message is kept (queued) while offline"
        Widget(page).screenshot(artifacts / "widget-offline.png")
    context.close()


def test_off_topic_two_requests_and_an_upset_customer_in_the_widget(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """Issue 15's behaviours through the socket.io widget, as over REST (tests/e2e/test_understanding.py)."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{stack.crm_url}/demo?visitor=customer&lang=zh")
    widget = Widget(page).open()
    declined = " ".join(widget.send("怎么给吉他换琴弦"))
    assert "超出了我的服务范围" in declined, declined
    declined = " ".join(widget.send("how do i restring a guitar"))
    assert "outside what I can help with" in declined, declined
    buttons = page.locator(".kefu-msg-bot button").count()
    both = " ".join(widget.send("how many points do i have and where's my order"))
    assert "You also asked" in both, both
    assert page.locator(".kefu-msg-bot button").count() > buttons, "the other request is offered as a button"
    upset = " ".join(widget.send("你们同一个订单扣了我两次钱，太离谱了"))
    assert "抱歉" in upset and re.search(r"订单号|投诉", upset), upset
    widget.screenshot(artifacts / "widget-understanding.png")
    context.close()


def test_a_cancel_with_a_new_request_and_a_question_with_a_request_in_the_widget(
    stack: Stack, browser: Browser, artifacts: Path
) -> None:
    """Leaving a form for another request, and a help question beside an account request (issue 15)."""
    expected = balance(stack)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{stack.crm_url}/demo?visitor=customer&lang=zh")
    widget = Widget(page).open()
    widget.send("我要投诉")
    widget.send("没有")
    left = widget.send("算了，我想查一下积分")
    assert "已经停止" in " ".join(left) and expected in numbers_in(left), left
    both = widget.send("how long does the refund take? and how many points do i have")
    assert "How long does a refund take?" in " ".join(both), both
    offered = page.locator(".kefu-msg-bot button", has_text="check your points").count()
    assert expected in numbers_in(both) or offered, both
    widget.screenshot(artifacts / "widget-repair.png")
    tickets = stack.crm("GET", f"/customers/{WANG_WEI}/tickets", params={"limit": 100}).json()["items"]
    assert not any("想查一下积分" in (t.get("summary") or "") for t in tickets), "the switch was filed as a complaint"
    context.close()
