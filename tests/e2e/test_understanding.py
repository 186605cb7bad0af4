"""Issue 15 over REST (Rasa → actions → CRM), both languages: off-topic questions declined, indirect and
upset complaints, an identity detail with its request, two requests in one message."""

from __future__ import annotations

import re

import pytest

from tests.e2e.stack import Stack, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")


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
