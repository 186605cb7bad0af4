"""Telegram, Slack and WeChat against a running Rasa (instance B of tests/e2e/channels_rasa.py, which
opens credentials.chatapps.yml) with the real action server and CRM of the shared stack. Inbound
requests are built as the platforms send them; outbound API calls land on a local stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.e2e.channels_rasa import SLACK_SIGNING_SECRET, TELEGRAM_SECRET, WECHAT_TOKEN, RasaB, rasa_b
from tests.e2e.stack import Stack

WANG_WEI, WANG_WEI_PHONE = 1, "13800000001"
CJK = re.compile(r"[\u4e00-\u9fff]")
_ids = itertools.count(int(time.time()) % 1_000_000 * 100)


@pytest.fixture(scope="module")
def b(stack: Stack, request: pytest.FixtureRequest) -> RasaB:
    return rasa_b(stack, request)


def numbers_in(text: str) -> set[int]:
    return {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)}


def balance(stack: Stack) -> int:
    answer = stack.crm("GET", f"/customers/{WANG_WEI}/points")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance"])


def wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting for the bot")


# --------------------------------------------------------------------------- Telegram


def telegram(b: RasaB, chat: int, text: str, secret: str | None = TELEGRAM_SECRET,
             update_id: int | None = None) -> tuple[int, list[str]]:
    """POST one update as Telegram does; return the status and the texts the bot sent to `chat`."""
    before = len(b.standin.sent("telegram", "sendMessage"))
    update = {"update_id": update_id if update_id is not None else next(_ids), "message": {
        "message_id": next(_ids), "date": int(time.time()), "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "E2E"},
        "from": {"id": chat, "is_bot": False, "first_name": "E2E"}}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    answer = httpx.post(f"{b.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=120)
    sent = [c.body.get("text", "") for c in b.standin.sent("telegram", "sendMessage")[before:]
            if str(c.body.get("chat_id")) == str(chat)]
    return answer.status_code, sent


def latest_code(stack: Stack, phone: str) -> str:
    items = stack.crm("GET", "/dev/outbox", params={"recipient": phone, "limit": 1}).json()["items"]
    assert items and items[0]["code"], f"no one-time code in the outbox for {phone}"
    return str(items[0]["code"])


def test_telegram_anonymous_then_verified_by_one_time_code_gets_points(stack: Stack, b: RasaB) -> None:
    chat = 700_000 + next(_ids) % 1000
    expected = balance(stack)
    status, replies = telegram(b, chat, "我的积分有多少")
    assert status == 200 and replies, "the bot answers on Telegram"
    assert expected not in numbers_in(" ".join(replies)), f"an unverified Telegram user sees no balance: {replies}"
    assert CJK.search(" ".join(replies)), replies

    # The bot's verification flow: phone number, then the code it sent (development outbox).
    status, replies = telegram(b, chat, WANG_WEI_PHONE)
    assert status == 200 and replies, "the bot asks for the code"
    status, replies = telegram(b, chat, latest_code(stack, WANG_WEI_PHONE))
    assert status == 200
    text = " ".join(replies)
    if expected not in numbers_in(text):
        status, replies = telegram(b, chat, "我的积分有多少")
        text = " ".join(replies)
    assert expected in numbers_in(text), f"a verified Telegram user gets the balance {expected}: {replies}"
    linked = stack.crm("GET", f"/identity/channels/telegram/{chat}")
    assert linked.status_code == 200 and linked.json()["customer_id"] == WANG_WEI


def test_telegram_forged_replayed_and_malformed_updates(b: RasaB) -> None:
    chat = 710_000 + next(_ids) % 1000
    assert telegram(b, chat, "hello", secret="forged")[0] == 403
    assert telegram(b, chat, "hello", secret=None)[0] == 403
    update_id = next(_ids)
    status, first = telegram(b, chat, "hello", update_id=update_id)
    status_again, again = telegram(b, chat, "hello", update_id=update_id)
    assert status == status_again == 200 and first and again == [], "a replayed update_id is processed once"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
    assert httpx.post(f"{b.url}/webhooks/telegram/webhook", content=b"{oops", headers=headers).status_code == 400
    big = json.dumps({"update_id": 1, "message": {"chat": {"id": chat}, "text": "x" * 70_000}})
    assert httpx.post(f"{b.url}/webhooks/telegram/webhook", content=big, headers=headers).status_code == 413
    poll = {"update_id": next(_ids), "poll": {"id": "1", "question": "?"}}
    assert httpx.post(f"{b.url}/webhooks/telegram/webhook", json=poll, headers=headers).text == "success"


def push_agent_reply(stack: Stack, b: RasaB, conversation: str, text: str, *, output_channel: str) -> None:
    """What the CRM does for an agent reply (every Rasa instance must open the same channels)."""
    answer = httpx.post(f"{b.url}/conversations/{conversation}/tracker/events",
                        params={"token": stack.rasa_token, "output_channel": output_channel,
                                "execute_side_effects": "true"},
                        json=[{"event": "bot", "text": text}], timeout=60)
    assert answer.status_code == 200, answer.text


def test_agent_reply_reaches_a_telegram_user(stack: Stack, b: RasaB) -> None:
    chat = 720_000 + next(_ids) % 1000
    assert telegram(b, chat, "hello")[1]
    before = len(b.standin.sent("telegram", "sendMessage"))
    push_agent_reply(stack, b, str(chat), "Agent Li: your parcel ships today", output_channel="latest")
    sent = wait_for(lambda: [c for c in b.standin.sent("telegram", "sendMessage")[before:]
                             if c.body.get("text") == "Agent Li: your parcel ships today"])
    assert str(sent[0].body["chat_id"]) == str(chat)


# --------------------------------------------------------------------------- Slack


def slack(b: RasaB, user: str, text: str, secret: str = SLACK_SIGNING_SECRET,
          event_id: str | None = None) -> int:
    body = json.dumps({"token": "legacy", "team_id": "T0E2E", "api_app_id": "A0E2E", "type": "event_callback",
                       "event_id": event_id or f"Ev{next(_ids)}", "event_time": int(time.time()),
                       "event": {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
                                 "text": text, "ts": f"{time.time():.6f}"}}).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    return httpx.post(f"{b.url}/webhooks/slack/webhook", content=body, headers=headers, timeout=60).status_code


def slack_replies(b: RasaB, user: str, since: int) -> list[str]:
    return [c.body.get("text", "") for c in b.standin.sent("slack", "chat.postMessage")[since:]
            if c.body.get("channel") == f"D{user}"]


def slack_say(b: RasaB, user: str, text: str) -> list[str]:
    """Send one signed event and return what the bot posted back to this user (replies settle for 2 s)."""
    before = len(b.standin.sent("slack", "chat.postMessage"))
    assert slack(b, user, text) == 200
    wait_for(lambda: slack_replies(b, user, before))
    seen = -1
    while seen != len(slack_replies(b, user, before)):
        seen = len(slack_replies(b, user, before))
        time.sleep(2)
    return slack_replies(b, user, before)


def test_slack_user_verifies_and_is_linked_to_the_same_customer(stack: Stack, b: RasaB) -> None:
    user = f"UE2E{next(_ids)}"
    expected = balance(stack)
    replies = slack_say(b, user, "what is my points balance?")
    assert expected not in numbers_in(" ".join(replies)), f"unverified Slack user sees no balance: {replies}"
    assert slack_say(b, user, WANG_WEI_PHONE), "the bot asks for the one-time code"
    text = " ".join(slack_say(b, user, latest_code(stack, WANG_WEI_PHONE)))
    if expected not in numbers_in(text):
        text = " ".join(slack_say(b, user, "what is my points balance?"))
    assert expected in numbers_in(text), f"the verified Slack user gets Wang Wei's balance {expected}: {text!r}"
    linked = stack.crm("GET", f"/identity/channels/slack/{user}")
    assert linked.status_code == 200 and linked.json()["customer_id"] == WANG_WEI


def test_slack_bad_signature_is_rejected_and_replays_processed_once(b: RasaB) -> None:
    user = f"UE2E{next(_ids)}"
    before = len(b.standin.sent("slack", "chat.postMessage"))
    assert slack(b, user, "hello", secret="forged-secret") == 403
    time.sleep(1)
    assert slack_replies(b, user, before) == [], "a forged request reaches nobody"
    event_id = f"Ev{next(_ids)}"
    assert slack(b, user, "hello", event_id=event_id) == 200
    wait_for(lambda: slack_replies(b, user, before))
    time.sleep(2)
    count = len(slack_replies(b, user, before))
    assert slack(b, user, "hello", event_id=event_id) == 200
    time.sleep(3)
    assert len(slack_replies(b, user, before)) == count, "a replayed event_id is processed once"


# --------------------------------------------------------------------------- WeChat


def wechat_query(token: str = WECHAT_TOKEN) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), f"n{next(_ids)}"
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def wechat_xml(openid: str, content: str = "", msg_id: int | None = None, event: str | None = None) -> bytes:
    common = (f"<ToUserName><![CDATA[gh_kefu_e2e]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
              f"<CreateTime>{int(time.time())}</CreateTime>")
    if event:
        return f"<xml>{common}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>".encode()
    return (f"<xml>{common}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id or next(_ids)}</MsgId></xml>").encode()


def wechat_post(b: RasaB, body: bytes, query: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{b.url}/webhooks/wechat/webhook", params=query or wechat_query(), content=body,
                      headers={"Content-Type": "text/xml"}, timeout=60)


def wechat_reply_text(b: RasaB, answer: httpx.Response, openid: str, since: int) -> str:
    """The bot's answer: the passive XML reply, or (after 4 s) messages sent through the customer-service API."""
    if answer.text != "success":
        return ElementTree.fromstring(answer.text).findtext("Content") or ""
    sent = wait_for(lambda: [c for c in b.standin.sent("wechat", "message/custom/send")[since:]
                             if c.body.get("touser") == openid])
    return " ".join(c.body["text"]["content"] for c in sent)


def test_wechat_url_check_and_a_chinese_conversation(stack: Stack, b: RasaB) -> None:
    check = httpx.get(f"{b.url}/webhooks/wechat/webhook", params={**wechat_query(), "echostr": "e2e-echo"})
    assert check.status_code == 200 and check.text == "e2e-echo"
    forged = httpx.get(f"{b.url}/webhooks/wechat/webhook", params={**wechat_query("forged"), "echostr": "x"})
    assert forged.status_code == 403

    openid = f"oE2E{next(_ids)}"
    welcome = wechat_post(b, wechat_xml(openid, event="subscribe"))
    assert welcome.status_code == 200 and "欢迎" in (ElementTree.fromstring(welcome.text).findtext("Content") or "")

    since = len(b.standin.sent("wechat", "message/custom/send"))
    answer = wechat_post(b, wechat_xml(openid, "你好"))
    assert answer.status_code == 200
    reply = wechat_reply_text(b, answer, openid, since)
    assert CJK.search(reply), f"a Chinese greeting gets a Chinese answer: {reply!r}"

    since = len(b.standin.sent("wechat", "message/custom/send"))
    answer = wechat_post(b, wechat_xml(openid, "我的积分有多少"))
    reply = wechat_reply_text(b, answer, openid, since)
    assert reply and balance(stack) not in numbers_in(reply), "an unverified WeChat user sees no balance"


def test_wechat_forged_replayed_malformed_and_unknown(b: RasaB) -> None:
    openid = f"oE2E{next(_ids)}"
    assert wechat_post(b, wechat_xml(openid, "你好"), wechat_query("forged")).status_code == 403
    assert httpx.post(f"{b.url}/webhooks/wechat/webhook", content=wechat_xml(openid, "hi")).status_code == 403
    msg_id = next(_ids)
    first = wechat_post(b, wechat_xml(openid, "hello", msg_id=msg_id))
    again = wechat_post(b, wechat_xml(openid, "hello", msg_id=msg_id))
    assert first.status_code == again.status_code == 200 and again.text == "success"
    assert wechat_post(b, b"<xml><broken").status_code == 400
    assert wechat_post(b, b"<xml>" + b"a" * 20_000 + b"</xml>").status_code == 413
    assert wechat_post(b, wechat_xml(openid, event="SOME_NEW_EVENT")).text == "success"
    tracker_senders = b.log.read_text(errors="replace")
    assert WECHAT_TOKEN not in tracker_senders and "wx-test-secret" not in tracker_senders, "no secrets in logs"
    assert TELEGRAM_SECRET not in tracker_senders and SLACK_SIGNING_SECRET not in tracker_senders


def test_agent_reply_reaches_a_wechat_user_through_the_customer_service_api(stack: Stack, b: RasaB) -> None:
    openid = f"oE2E{next(_ids)}"
    assert wechat_post(b, wechat_xml(openid, "hello")).status_code == 200
    since = len(b.standin.sent("wechat", "message/custom/send"))
    push_agent_reply(stack, b, openid, "客服小王：您的退款已处理", output_channel="wechat")
    sent = wait_for(lambda: [c for c in b.standin.sent("wechat", "message/custom/send")[since:]
                             if c.body.get("touser") == openid])
    assert sent[0].body == {"touser": openid, "msgtype": "text", "text": {"content": "客服小王：您的退款已处理"}}
    assert sent[0].query["access_token"].startswith("ACCESS-")


def wechat_say(b: RasaB, openid: str, text: str) -> str:
    since = len(b.standin.sent("wechat", "message/custom/send"))
    answer = wechat_post(b, wechat_xml(openid, text))
    assert answer.status_code == 200, answer.text
    return wechat_reply_text(b, answer, openid, since)


def test_wechat_user_verifies_and_is_linked_to_the_same_customer(stack: Stack, b: RasaB) -> None:
    openid = f"oE2E{next(_ids)}"
    expected = balance(stack)
    assert expected not in numbers_in(wechat_say(b, openid, "我的积分有多少"))
    assert wechat_say(b, openid, WANG_WEI_PHONE), "the bot asks for the one-time code"
    text = wechat_say(b, openid, latest_code(stack, WANG_WEI_PHONE))
    if expected not in numbers_in(text):
        text = wechat_say(b, openid, "我的积分有多少")
    assert expected in numbers_in(text) and CJK.search(text), f"verified WeChat user gets {expected}: {text!r}"
    linked = stack.crm("GET", f"/identity/channels/wechat/{openid}")
    assert linked.status_code == 200 and linked.json()["customer_id"] == WANG_WEI


# --------------------------------------------------------------------------- opt-out on every chat app


def linked(stack: Stack, channel: str, sender: str, phone: str) -> int:
    """Link `sender` to the customer with `phone` by the one-time-code check the bot itself uses."""
    body = {"phone": phone, "channel": channel, "sender_id": sender}
    assert stack.crm("POST", "/identity/otp", json=body).status_code == 200
    verified = stack.crm("POST", "/identity/otp/verify", json={**body, "code": latest_code(stack, phone)})
    assert verified.status_code == 200, verified.text
    return int(verified.json()["customer_id"])


def marketing_opt_out(stack: Stack, customer_id: int) -> tuple[bool, str]:
    prefs = stack.crm("GET", f"/customers/{customer_id}/messaging-preferences").json()
    return prefs["marketing_opt_out"], prefs["opt_out_channel"]


@pytest.mark.parametrize(("channel", "phone", "word", "confirmation"), [
    ("telegram", "13800000002", "退订", "已为您退订"),
    ("slack", "13800000003", "unsubscribe", "unsubscribed"),
    ("wechat", "13800000005", "别再给我发促销信息了", "已为您退订"),
])
def test_unsubscribing_in_a_chat_app_opts_the_customer_out_at_once(stack: Stack, b: RasaB, channel: str,
                                                                    phone: str, word: str,
                                                                    confirmation: str) -> None:
    sender = {"telegram": str(720_000 + next(_ids) % 1000), "slack": f"UOPT{next(_ids)}",
              "wechat": f"oOPT{next(_ids)}"}[channel]
    customer_id = linked(stack, channel, sender, phone)
    stack.crm("PUT", f"/customers/{customer_id}/messaging-preferences", json={"marketing_opt_out": False})
    try:
        assert marketing_opt_out(stack, customer_id) == (False, "")
        if channel == "telegram":
            status, replies = telegram(b, int(sender), word)
            assert status == 200
            reply = " ".join(replies)
        elif channel == "slack":
            reply = " ".join(slack_say(b, sender, word))
        else:
            reply = wechat_say(b, sender, word)
        assert confirmation in reply, f"{channel}: the confirmation comes back in the conversation: {reply!r}"
        assert marketing_opt_out(stack, customer_id) == (True, channel)
    finally:
        stack.crm("PUT", f"/customers/{customer_id}/messaging-preferences", json={"marketing_opt_out": False})
