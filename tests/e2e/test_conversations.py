"""Whole conversations through the running stack (REST channel → Rasa → actions → CRM), in both languages."""

from __future__ import annotations

import re
import time

from tests.e2e.stack import Stack, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")


def latest_code(stack: Stack, phone: str) -> str:
    """The one-time code the CRM's development outbox holds for `phone`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = stack.crm("GET", "/dev/outbox", params={"limit": 20}).json()["items"]
        codes = [i["code"] for i in items if i["recipient"] == phone and i.get("code")]
        if codes:
            return codes[0]
        time.sleep(0.3)
    raise AssertionError(f"no one-time code for {phone} in the outbox")


def test_phone_and_code_then_points_in_chinese(stack: Stack) -> None:
    sender = "e2e-conv-otp-zh"
    reply = text_of(stack.chat(sender, "我的积分还有多少"))
    assert "验证" in reply and "手机号" in reply, reply
    reply = text_of(stack.chat(sender, "13800000002"))
    assert "验证码" in reply, reply
    reply = text_of(stack.chat(sender, latest_code(stack, "13800000002")))
    balance = stack.crm("GET", "/customers/2/points").json()["balance"]
    assert "李娜" in reply and f"{balance:,}" in reply, reply


def test_wrong_phone_format_gets_a_specific_reask(stack: Stack) -> None:
    sender = "e2e-conv-badphone"
    stack.chat(sender, "verify my identity")
    reply = text_of(stack.chat(sender, "12345"))
    assert "11-digit" in reply, reply


def test_order_status_with_events_in_english_and_mixed_chinese(stack: Stack) -> None:
    token = {"customer_token": stack.customer_token(3)}
    reply = text_of(stack.chat("e2e-conv-order", "where is my order KF20250003?", token))
    assert "KF20250003" in reply and "in transit" in reply and "Parcel picked up" in reply, reply
    reply = text_of(stack.chat("e2e-conv-order", "我的order到了吗", token))
    assert "KF20250003" in reply and CJK.search(reply) and "快件已揽收" in reply, reply


def test_redemption_confirmed_twice_spends_once(stack: Stack) -> None:
    token = {"customer_token": stack.customer_token(1)}
    before = stack.crm("GET", "/customers/1/points").json()["balance"]
    reply = text_of(stack.chat("e2e-conv-redeem", "我想兑换10元优惠券", token))
    assert "确认" in reply and "500" in reply, reply
    first = text_of(stack.chat("e2e-conv-redeem", "确认", token))
    second = text_of(stack.chat("e2e-conv-redeem", "确认", token))
    assert "兑换成功" in first, first
    after = stack.crm("GET", "/customers/1/points").json()["balance"]
    assert after == before - 500, f"redeemed more than once: {before} → {after}; replies {first!r} {second!r}"


def test_complaint_creates_a_ticket_with_sla(stack: Stack) -> None:
    token = {"customer_token": stack.customer_token(4)}
    reply = text_of(stack.chat("e2e-conv-complaint", "我要投诉，收到的杯子是碎的，太让人失望了", token))
    assert "抱歉" in reply, reply
    for _ in range(3):  # answer whatever the form still needs (order, category)
        if re.search(r"T\d{6}", reply):
            break
        reply = text_of(stack.chat("e2e-conv-complaint", "其他" if "类" in reply else "没有", token))
    ticket = re.search(r"T\d{6}", reply)
    assert ticket and "小时" in reply, reply
    tickets = stack.crm("GET", "/customers/4/tickets").json()["items"]
    assert ticket.group(0) in {t["ticket_no"] for t in tickets}


def test_an_order_not_on_the_account_is_asked_again_and_the_complaint_is_filed(stack: Stack) -> None:
    """Regression: another customer's order number was taken, and the CRM refused the ticket at the end."""
    sender, token = "e2e-conv-complaint-order", {"customer_token": stack.customer_token(1)}
    reply = text_of(stack.chat(sender, "我要投诉", token))
    assert "订单号" in reply, reply
    reply = text_of(stack.chat(sender, "KF20250003", token))
    assert "没有找到您账户下的订单 KF20250003" in reply and "订单号" in reply, reply
    reply = text_of(stack.chat(sender, "KF20250001", token))
    for answer in ("收到的杯子是碎的，太让人失望了", "其他", "其他"):  # whatever the form still needs
        if re.search(r"T\d{6}", reply):
            break
        reply = text_of(stack.chat(sender, answer, token))
    ticket = re.search(r"T\d{6}", reply)
    assert ticket, reply
    filed = stack.crm("GET", f"/tickets/{ticket.group(0)}").json()
    assert filed["customer_id"] == 1 and filed["order_no"] == "KF20250001", filed


def test_faq_and_language_following_the_customer(stack: Stack) -> None:
    sender = "e2e-conv-faq"
    reply = text_of(stack.chat(sender, "怎么退货"))
    assert "退货" in reply and CJK.search(reply), reply
    reply = text_of(stack.chat(sender, "what payment methods do you accept?"))
    assert "WeChat Pay" in reply and not CJK.search(reply), reply


def test_human_request_hands_off_with_expected_wait(stack: Stack) -> None:
    reply = text_of(stack.chat("e2e-conv-human-en", "talk to a human", {"customer_token": stack.customer_token(3)}))
    assert "agent" in reply.lower() and not CJK.search(reply), reply
    reply = text_of(stack.chat("e2e-conv-human-zh", "转人工"))
    assert "人工" in reply, reply


def test_goodbye_after_help_asks_csat_and_a_low_score_opens_a_follow_up(stack: Stack) -> None:
    token = {"customer_token": stack.customer_token(3)}
    sender = "e2e-conv-csat"
    assert "KF2025" in text_of(stack.chat(sender, "where is my latest order?", token))
    reply = text_of(stack.chat(sender, "ok bye", token))
    assert "Goodbye" in reply and "1–5" in reply, reply
    reply = text_of(stack.chat(sender, "2", token))
    assert "Thank you" in reply and re.search(r"T\d{6}", reply), f"a CSAT of 2 should open a follow-up: {reply!r}"
