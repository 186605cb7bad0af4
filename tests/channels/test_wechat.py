"""WeChat Official Account connector: signatures, XML, replays, sizes, passive vs. API replies."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import aiohttp
import pytest

from bot.channels.wechat import (
    MAX_BODY_BYTES,
    TEXT_ONLY,
    WELCOME,
    MalformedMessage,
    WeChatInput,
    parse_message,
    passive_reply,
    signature,
)
from tests.channels.conftest import FakeAgent, ServeFn, eventually

TOKEN = "wx-test-token"


def signed_query(token: str = TOKEN, nonce: str = "n0nce") -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def text_xml(content: str, msg_id: str = "10001", openid: str = "oUSER1") -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


def event_xml(event: str, openid: str = "oUSER1", created: int = 1700000000) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>").encode()


async def post(url: str, body: bytes, query: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/webhooks/wechat/webhook", params=query if query is not None else signed_query(),
                                data=body, headers={"Content-Type": "text/xml"}) as answer:
            return answer.status, await answer.text()


def test_signature_is_sha1_of_sorted_parts() -> None:
    expected = hashlib.sha1("".join(sorted(["tok", "1700000000", "abc"])).encode()).hexdigest()
    assert signature("tok", "1700000000", "abc") == expected
    assert signature("tok", "1700000000", "abd") != expected


def test_parse_text_and_event_messages() -> None:
    message = parse_message(text_xml("我的积分", msg_id="42"))
    assert message["MsgType"] == "text" and message["Content"] == "我的积分" and message["MsgId"] == "42"
    assert parse_message(event_xml("subscribe"))["Event"] == "subscribe"
    for bad in (b"not xml", b"<html></html>", b"<xml><MsgType>text</MsgType></xml>",
                b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>'):
        with pytest.raises(MalformedMessage):
            parse_message(bad)


def test_passive_reply_escapes_cdata_end() -> None:
    xml = passive_reply("oUSER1", "gh_kefu", "a]]>b", now=1)
    assert parse_message(xml.encode())["Content"] == "a]]>b"
    assert parse_message(xml.encode())["ToUserName"] == "oUSER1"


@pytest.mark.asyncio
async def test_url_check_answers_echostr_only_when_signed(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served.url}/webhooks/wechat/webhook",
                               params={**signed_query(), "echostr": "hello-echo"}) as answer:
            assert answer.status == 200 and await answer.text() == "hello-echo"
        forged = {**signed_query(token="wrong"), "echostr": "x"}
        async with session.get(f"{served.url}/webhooks/wechat/webhook", params=forged) as answer:
            assert answer.status == 403
        async with session.get(f"{served.url}/webhooks/wechat/webhook", params={"echostr": "x"}) as answer:
            assert answer.status == 403


@pytest.mark.asyncio
async def test_text_message_gets_a_passive_reply_with_trusted_metadata(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    status, body = await post(served.url, text_xml("你好"))
    assert status == 200
    reply = parse_message(body.encode())
    assert reply["Content"] == "echo: 你好" and reply["ToUserName"] == "oUSER1" and reply["FromUserName"] == "gh_kefu"
    message = served.agent.received[0]
    assert message.input_channel == "wechat" and message.sender_id == "oUSER1"
    assert message.metadata == {"channel": "wechat", "sender_id": "oUSER1"}


@pytest.mark.asyncio
async def test_bad_or_missing_signature_is_403_and_not_processed(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    assert (await post(served.url, text_xml("hi"), signed_query(token="forged")))[0] == 403
    assert (await post(served.url, text_xml("hi"), {}))[0] == 403
    tampered = {**signed_query(), "nonce": "other"}
    assert (await post(served.url, text_xml("hi"), tampered))[0] == 403
    assert served.agent.received == []


@pytest.mark.asyncio
async def test_replayed_msgid_is_processed_once(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    first = await post(served.url, text_xml("hello", msg_id="777"))
    again = await post(served.url, text_xml("hello", msg_id="777"))
    assert first[0] == 200 and "echo: hello" in first[1]
    assert again == (200, "success")
    assert len(served.agent.received) == 1


@pytest.mark.asyncio
async def test_malformed_and_oversized_bodies_are_4xx(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    assert (await post(served.url, b"<xml><oops"))[0] == 400
    assert (await post(served.url, b'<!DOCTYPE x [<!ENTITY a "b">]><xml/>'))[0] == 400
    big = text_xml("x" * (MAX_BODY_BYTES + 10))
    assert (await post(served.url, big))[0] == 413
    assert served.agent.received == []


@pytest.mark.asyncio
async def test_subscribe_welcomes_and_other_events_are_ignored_politely(serve: ServeFn) -> None:
    served = await serve(WeChatInput(TOKEN))
    status, body = await post(served.url, event_xml("subscribe"))
    assert status == 200 and parse_message(body.encode())["Content"] == WELCOME
    assert await post(served.url, event_xml("unsubscribe", created=1700000001)) == (200, "success")
    assert await post(served.url, event_xml("SOME_FUTURE_EVENT", created=1700000002)) == (200, "success")
    image = text_xml("", msg_id="555").replace(b"<![CDATA[text]]>", b"<![CDATA[image]]>")
    status, body = await post(served.url, image)
    assert status == 200 and parse_message(body.encode())["Content"] == TEXT_ONLY
    assert served.agent.received == []


@pytest.mark.asyncio
async def test_slow_reply_goes_through_customer_service_api_with_cached_token(
    serve: ServeFn, standin: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = WeChatInput(TOKEN, app_id="wx-test-app", app_secret="wx-test-secret",
                          api_base_url=standin.base_url, reply_timeout=0.3)  # type: ignore[attr-defined]
    served = await serve(channel, FakeAgent(delay=0.8))
    started = time.monotonic()
    assert await post(served.url, text_xml("slow one", msg_id="1")) == (200, "success")
    assert await post(served.url, text_xml("slow two", msg_id="2", openid="oUSER2")) == (200, "success")
    assert time.monotonic() - started < 2.0, "the HTTP answer must not wait for the bot"
    sends = lambda: standin.sent("wechat", "message/custom/send")  # type: ignore[attr-defined]  # noqa: E731
    await eventually(lambda: len(sends()) == 2)
    bodies = sorted((c.body["touser"], c.body["text"]["content"]) for c in sends())
    assert bodies == [("oUSER1", "echo: slow one"), ("oUSER2", "echo: slow two")]
    assert all(c.body["msgtype"] == "text" for c in sends())
    assert len(standin.sent("wechat", "token")) == 1, "the access token is cached"  # type: ignore[attr-defined]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "wx-test-secret" not in logged and "ACCESS-1" not in logged and TOKEN not in logged


@pytest.mark.asyncio
async def test_expired_access_token_is_refreshed_once(standin: object) -> None:
    channel = WeChatInput(TOKEN, app_id="wx-test-app", app_secret="wx-test-secret",
                          api_base_url=standin.base_url)  # type: ignore[attr-defined]
    output = channel.get_output_channel()
    assert output is not None
    await output.send_text_message("oUSER1", "agent: 您好")
    standin.expire_next_wechat_token = True  # type: ignore[attr-defined]
    await output.send_text_message("oUSER1", "agent: second")
    sends = standin.sent("wechat", "message/custom/send")  # type: ignore[attr-defined]
    assert [c.body["text"]["content"] for c in sends] == ["agent: 您好", "agent: second", "agent: second"]
    assert len(standin.sent("wechat", "token")) == 2  # type: ignore[attr-defined]
    await asyncio.sleep(0)
