"""The agent copilot in headless Chromium against a real CRM process: a VIP complaint is escalated, the agent
reads the summary (escalation reason, the customer's value, their own words), flags a customer message the bot
misread for the NLU inbox, inserts a suggested reply, edits
and sends it (the CRM records the edited use), fills a canned reply through the "/" shortcut, grants goodwill
points within the limit (a double-click grants once) and is refused over it; a first-response breach alerts
the supervisor.
Screenshot: tests/e2e/artifacts/copilot-zh.png."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.handoff_helpers import CHROMIUM, CHROMIUM_ARGS, shot
from tests.e2e.test_handoff_console_ui import TOKEN, crm, login

__all__ = ["crm"]
COMPLAINT = "太差了，订单 KF20250001 的东西收到就是坏的，客服一直不回复，我非常生气"


def test_vip_complaint_summary_suggestion_and_slash_shortcut(crm: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    crm_url, rasa_url = crm
    conversation = f"copilot-{int(time.time())}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        errors: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda error: errors.append(str(error)))
            login(page, crm_url, "agent1", "zh")
            created = httpx.post(f"{crm_url}/api/v1/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}, json={
                "conversation_id": conversation, "channel": "rest", "customer_id": 1, "language": "zh",
                "reason": "VIP 客户投诉，语气非常负面", "reason_code": "vip_complaint", "priority": "urgent",
                "transcript": [{"role": "user", "text": "你好，我想问一下订单", "at": time.time() - 40},
                               {"role": "bot", "text": "请提供订单号", "at": time.time() - 39},
                               {"role": "user", "text": COMPLAINT + "<script>alert(1)</script>",
                                "at": time.time() - 5}]}, timeout=10)
            assert created.status_code == 201, created.text
            item = page.locator(f'[data-testid="queue-item"][data-conversation="{conversation}"]')
            expect(item).to_be_visible(timeout=10_000)
            item.click()

            summary = page.get_by_test_id("summary")
            expect(page.get_by_test_id("summary-reason")).to_contain_text("VIP 投诉", timeout=10_000)
            expect(page.get_by_test_id("summary-reason")).to_contain_text("语气非常负面")
            expect(page.get_by_test_id("summary-customer")).to_contain_text("王伟")
            expect(page.get_by_test_id("summary-customer")).to_contain_text("钻石会员")
            expect(page.get_by_test_id("summary-orders")).to_have_text("KF20250001")
            expect(page.get_by_test_id("summary-turn").first).to_be_visible()
            expect(summary).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
            assert "变差" in summary.inner_text() or "平稳" in summary.inner_text() or "好转" in summary.inner_text()

            page.get_by_test_id("claim").click()
            expect(page.get_by_test_id("conv-status")).to_contain_text("已接入", timeout=10_000)
            # The bot misread the first question: the agent sends it to the supervisors' NLU inbox.
            first = page.get_by_test_id("msg-user").filter(has_text="你好，我想问一下订单")
            with page.expect_response(lambda r: r.url.endswith("/api/v1/nlu/flags")) as flagged:
                first.get_by_test_id("flag-misunderstood").click()
            assert flagged.value.status == 201
            expect(first.get_by_test_id("flag-misunderstood")).to_have_text("已送往 NLU 待标注")
            expect(first.get_by_test_id("flag-misunderstood")).to_be_disabled()
            suggestions = page.get_by_test_id("suggestion")
            expect(suggestions.first).to_be_visible(timeout=15_000)
            assert 1 <= suggestions.count() <= 3
            apology = page.locator('[data-testid="suggestion"][data-source="canned"]', has_text="非常抱歉")
            expect(apology).to_be_visible()
            apology.click()
            reply = page.get_by_test_id("reply")
            expect(reply).to_have_value("非常抱歉给您带来不便，我们会尽快为您处理。")
            reply.press("End")
            reply.type("王先生，我马上为您补发。")
            shot(page, artifacts, "copilot-zh")
            with page.expect_request(lambda r: r.url.endswith("/suggestions/uses")) as used:
                page.get_by_test_id("send").click()
            assert used.value.post_data_json == {"source": "canned", "key": "sorry", "edited": True}
            expect(page.get_by_test_id("msg-agent").last).to_contain_text("我马上为您补发")
            events = httpx.get(f"{rasa_url}/conversations/{conversation}/tracker", timeout=5).json()["events"]
            assert any("我马上为您补发" in (e.get("text") or "") for e in events if e.get("event") == "bot")

            reply.fill("")
            reply.type("/积分")
            expect(page.get_by_test_id("slash-item")).to_have_count(1)
            reply.press("Enter")
            expect(reply).not_to_have_value("/积分")
            value = reply.input_value()
            assert value.startswith("王伟，您当前的积分余额为 ") and "{points}" not in value, value
            expect(page.get_by_test_id("slash-menu")).to_be_hidden()

            # 4. A goodwill gesture within the agent's limit (a double-click grants once), one over it refused.
            expect(page.get_by_test_id("gesture-limit")).to_contain_text("500")
            page.get_by_test_id("gesture-points").fill("200")
            page.get_by_test_id("gesture-reason").fill("商品损坏补偿")
            page.get_by_test_id("gesture-submit").dblclick()
            expect(page.get_by_test_id("flash")).to_contain_text("已补偿 200 积分")
            entries = httpx.get(f"{crm_url}/api/v1/customers/1/points/entries?kind=adjust&limit=50",
                                headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()["items"]
            assert sum("商品损坏补偿" in e["reason"] for e in entries) == 1, entries
            page.get_by_test_id("gesture-points").fill("501")
            page.get_by_test_id("gesture-reason").fill("再补偿一些")
            page.get_by_test_id("gesture-submit").click()
            expect(page.get_by_test_id("flash")).to_contain_text("超出")
            # A coupon instead of points: the catalogue's coupons within the limit are offered, given once.
            offered = page.get_by_test_id("gesture-kind").locator("option").all_inner_texts()
            assert offered == ["积分", "10元优惠券 (500)"], offered
            page.get_by_test_id("gesture-kind").select_option("COUPON10")
            expect(page.get_by_test_id("gesture-points")).to_be_hidden()
            page.get_by_test_id("gesture-reason").fill("包裹丢失补偿")
            page.get_by_test_id("gesture-submit").dblclick()
            expect(page.get_by_test_id("flash")).to_contain_text("已发放10元优惠券")
            entries = httpx.get(f"{crm_url}/api/v1/customers/1/points/entries?kind=adjust&limit=50",
                                headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()["items"]
            assert sum("COUPON10" in e["reason"] and "包裹丢失补偿" in e["reason"] for e in entries) == 1, entries

            # 5. A first-response breach alerts the supervisor: tight targets, a new urgent VIP handoff nobody answers.
            boss = browser.new_page(viewport={"width": 1400, "height": 1000})
            boss.on("pageerror", lambda error: errors.append(str(error)))
            login(boss, crm_url, "supervisor", "zh")
            expect(boss.get_by_test_id("breaches")).to_contain_text("暂无超时")
            saved = boss.evaluate("""() => kefuApi("PUT", "/console/settings", {response_targets: {
                first: {urgent: 5, high: 5, normal: 5, low: 5}, next: {urgent: 5, high: 5, normal: 5, low: 5},
                value_customer_factor: 1.0}})""")
            assert saved["response_targets"]["first"]["urgent"] == 5
            late = f"{conversation}-late"
            assert httpx.post(f"{crm_url}/api/v1/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}, json={
                "conversation_id": late, "channel": "rest", "customer_id": 1, "language": "zh", "reason": "转人工",
                "reason_code": "vip_request", "priority": "urgent",
                "transcript": [{"role": "user", "text": "我要人工", "at": time.time()}]}, timeout=10).status_code == 201
            queued = boss.locator(f'[data-testid="queue-item"][data-conversation="{late}"]')
            expect(queued.get_by_test_id("queue-timer")).to_contain_text("首次响应", timeout=10_000)
            # the countdown runs out
            expect(queued.get_by_test_id("queue-timer")).to_contain_text("已超时", timeout=10_000)
            alert = boss.get_by_test_id("breach").filter(has_text="首次响应超时")
            expect(alert.first).to_contain_text("王伟", timeout=40_000)  # recorded by the CRM's timer, pushed by SSE
            shot(boss, artifacts, "copilot-breach-zh")
            assert errors == [], errors
        finally:
            browser.close()
