"""Issue 15 over REST (Rasa → actions → CRM), both languages: off-topic questions declined, indirect and
upset complaints, an identity detail with its request, two requests in one message."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.stack import Stack, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")
# The core fallback's first reply: it followed the answer when the new request ran as a FollowupAction.
MISUNDERSTOOD = re.compile(r"没太明白|没明白|didn't quite get|didn't understand", re.I)


@pytest.mark.parametrize("sender,text,expected", [
    ("e2e-und-oos-zh", "怎么给吉他换琴弦", "超出了我的服务范围"),
    ("e2e-und-oos-en", "how do i restring a guitar", "outside what I can help with"),
])
def test_an_off_topic_question_is_declined_with_what_the_bot_can_do(stack: Stack, sender: str, text: str,
                                                                      expected: str) -> None:
    reply = text_of(stack.chat(sender, text))
    assert expected in reply, reply


@pytest.mark.parametrize("sender,text,apology", [
    ("e2e-und-charge-zh", "你们同一个订单扣了我两次钱，太离谱了", "抱歉"),
    ("e2e-und-charge-en", "you charged me twice for the same order, this is ridiculous", "sorry"),
])
def test_an_indirect_complaint_is_acknowledged_and_a_complaint_offered_or_started(
        stack: Stack, sender: str, text: str, apology: str) -> None:
    reply = text_of(stack.chat(sender, text, {"customer_token": stack.customer_token(3)}))
    assert apology in reply.lower(), reply
    # Either the complaint form started (it asks for the order) or the answer ends with the complaint offer.
    assert re.search(r"订单号|投诉|order number|complaint", reply, re.I), reply


def test_a_phone_number_with_the_request_starts_verification_with_the_phone_filled(stack: Stack) -> None:
    reply = text_of(stack.chat("e2e-und-phone-zh", "我手机号13800000002，积分还剩多少"))
    assert "验证码" in reply and "请输入您注册的手机号" not in reply, reply


@pytest.mark.parametrize("sender,text,also", [
    ("e2e-und-two-zh", "我的积分还有多少，另外我的订单到哪了", "您还问到了"),
    ("e2e-und-two-en", "how many points do i have and where's my order", "You also asked"),
])
def test_two_requests_in_one_message_answer_one_and_offer_the_other(stack: Stack, sender: str, text: str,
                                                                    also: str) -> None:
    messages = stack.chat(sender, text, {"customer_token": stack.customer_token(3)})
    reply = text_of(messages)
    assert also in reply, reply
    assert any(m.get("buttons") for m in messages), messages


def points_of(stack: Stack, customer_id: int) -> str:
    return f"{stack.crm('GET', f'/customers/{customer_id}/points').json()['balance']:,}"


@pytest.mark.parametrize("sender,opening,no_order,switch,stopped", [
    ("e2e-und-leave-zh", "我要投诉", "没有", "算了，我想查一下积分", "已经停止"),
    ("e2e-und-leave-en", "I want to complain", "I don't have one", "never mind, what's my points balance",
     "I've stopped"),
])
def test_a_cancel_with_a_new_request_leaves_the_form_and_answers_it(stack: Stack, sender: str, opening: str,
                                                                    no_order: str, switch: str, stopped: str) -> None:
    """Regression: the description step took "算了，我想查一下积分" as the complaint and filed a ticket."""
    token = {"customer_token": stack.customer_token(3)}
    before = stack.crm("GET", "/customers/3/tickets", params={"limit": 100}).json()["total"]
    stack.chat(sender, opening, token)
    stack.chat(sender, no_order, token)
    reply = text_of(stack.chat(sender, switch, token))
    assert stopped in reply and points_of(stack, 3) in reply, reply
    assert not MISUNDERSTOOD.search(reply), f"the fallback followed the answer: {reply}"
    assert stack.crm("GET", "/customers/3/tickets", params={"limit": 100}).json()["total"] == before
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token},
                        timeout=30).json()
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name"), tracker["active_loop"]


@pytest.mark.parametrize("sender,opening,order,switch,confirm,yes,stopped", [
    ("e2e-und-leave-ask-zh", "我要投诉", "KF20250003", "不投诉了，帮我查一下积分", "确定不继续", "是的", "已经停止"),
    ("e2e-und-leave-ask-en", "I want to complain", "KF20250003", "never mind, what's my points balance",
     "Do you want to stop", "yes", "I've stopped"),
])
def test_with_details_given_the_cancel_asks_first_then_answers_the_new_request(
        stack: Stack, sender: str, opening: str, order: str, switch: str, confirm: str, yes: str,
        stopped: str) -> None:
    token = {"customer_token": stack.customer_token(3)}
    stack.chat(sender, opening, token)
    stack.chat(sender, order, token)
    asked = text_of(stack.chat(sender, switch, token))
    assert confirm in asked and points_of(stack, 3) not in asked, asked
    reply = text_of(stack.chat(sender, yes, token))
    assert stopped in reply and points_of(stack, 3) in reply, reply
    assert not MISUNDERSTOOD.search(reply), f"the fallback followed the answer: {reply}"


@pytest.mark.parametrize("sender,text,title", [
    ("e2e-und-kb-points-zh", "退款多久能到账？另外我的积分还有多少", "退款多久到账？"),
    ("e2e-und-kb-points-en", "how long does the refund take? and how many points do i have",
     "How long does a refund take?"),
])
def test_a_help_question_and_an_account_request_in_one_message_are_both_handled(stack: Stack, sender: str, text: str,
                                                                                 title: str) -> None:
    messages = stack.chat(sender, text, {"customer_token": stack.customer_token(3)})
    reply = text_of(messages)
    assert title in reply, reply
    # The balance itself, or (when the question won the intent) a button that asks for it.
    payloads = [b.get("payload") for m in messages for b in m.get("buttons") or []]
    assert points_of(stack, 3) in reply or "/check_points_balance" in payloads, messages


@pytest.mark.parametrize("language,comment,thanks", [("zh", "服务很好", "谢谢您的补充"),
                                                     ("en", "the delivery was really slow", "passed that on")])
def test_a_remark_after_an_nps_score_is_recorded_as_its_comment(stack: Stack, language: str, comment: str,
                                                                thanks: str) -> None:
    """Regression: "服务很好" after the score got the chitchat reply "我很好，谢谢关心！" and was lost."""
    sender = f"e2e-und-nps-comment-{language}"
    stack.chat(sender, "你好" if language == "zh" else "hello")
    campaign = stack.crm("POST", "/campaigns/nps", json={"conversation_ids": [sender]})
    assert campaign.status_code == 200 and campaign.json()["triggered"] == 1, campaign.text
    deadline = time.monotonic() + 15
    while not any("nps_form" == (e.get("name") or "") for e in httpx.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token},
            timeout=30).json()["events"] if e["event"] == "active_loop"):
        assert time.monotonic() < deadline, "the NPS question was not asked"
        time.sleep(0.3)
    scored = text_of(stack.chat(sender, "4"))
    follow_up = re.findall(r"T\d{6}", scored)
    assert follow_up, scored
    reply = text_of(stack.chat(sender, comment))
    assert thanks in reply, reply
    assert comment in stack.crm("GET", f"/tickets/{follow_up[0]}").json()["description"]
