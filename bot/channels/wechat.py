"""WeChat Official Account (微信公众号) connector, plaintext mode.

Inbound: WeChat calls `/webhooks/wechat/webhook`.
- GET (URL check): `signature` = sha1 of the sorted [token, timestamp, nonce]; answer `echostr`.
- POST (every message): the same signature in the query string, an XML body. Text messages go to
  Rasa; `subscribe` gets a welcome; other events are acknowledged with "success" (ignored
  politely); non-text messages get a polite "text only" reply.
Outbound: WeChat waits 5 s for the HTTP answer (a passive reply) and retries the same MsgId
three times. We answer passively when Rasa finishes within `reply_timeout` (4 s); otherwise we
answer "success" and send the bot's messages later through the customer-service message API
(`/cgi-bin/message/custom/send`), which is also how agent replies reach a WeChat user. The access
token is cached until shortly before it expires. Replayed MsgIds are processed once.

Secrets (token, app secret, access tokens) are never logged: URLs carrying them are not logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import MAX_MESSAGE_CHARS, ReplayGuard, redis_url_from_env, setting, trusted_metadata

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
MAX_BODY_BYTES = 16 * 1024  # real WeChat messages are a few hundred bytes
PASSIVE_REPLY_MAX_BYTES = 2000  # WeChat truncates longer passive replies; send those via the API
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access token → refresh once and retry

WELCOME = ("欢迎关注！我是智能客服，可以帮您查询订单、积分和会员权益，也可以转人工。\n"
           "Welcome! I can help with orders, points and membership, or connect you with an agent.")
TEXT_ONLY = ("抱歉，目前只能处理文字消息，请用文字描述您的问题。\n"
             "Sorry, I can only read text messages for now — please type your question.")


class WeChatError(Exception):
    """The WeChat API answered with an error code."""


def signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's request signature: sha1 of the lexicographically sorted token, timestamp and nonce."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def signature_valid(token: str, args: dict[str, str]) -> bool:
    """Constant-time check of `signature` against `timestamp` and `nonce` from the query string."""
    given, timestamp, nonce = args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    if not (token and given and timestamp and nonce):
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), given)


class MalformedMessage(ValueError):
    """The body is not a WeChat XML message."""


def parse_message(body: bytes) -> dict[str, str]:
    """The XML message as a flat dict of tag → text. Raises MalformedMessage."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise MalformedMessage("DTDs are not allowed")  # entity expansion attacks
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise MalformedMessage(f"not XML: {error}") from None
    if root.tag != "xml":
        raise MalformedMessage("root element must be <xml>")
    message = {child.tag: (child.text or "").strip() for child in root}
    if not message.get("FromUserName") or not message.get("ToUserName") or not message.get("MsgType"):
        raise MalformedMessage("FromUserName, ToUserName and MsgType are required")
    return message


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def passive_reply(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """The XML of a passive text reply (sender and recipient swapped)."""
    return (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
            f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(content)}</Content></xml>")


def render_buttons(text: str, buttons: list[dict[str, Any]]) -> str:
    """WeChat text has no buttons: list the choices so the customer can type one."""
    lines = [text.strip()] + [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
    return "\n".join(line for line in lines if line)


class WeChatApi:
    """The few WeChat API calls we need, with the access token cached until it nearly expires."""

    def __init__(self, app_id: str | None, app_secret: str | None, base_url: str = DEFAULT_API_BASE,
                 timeout: float = 10.0) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock: asyncio.Lock | None = None
        self.token_fetches = 0

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret)

    async def access_token(self, force: bool = False) -> str:
        """A valid access token, fetched at most once per expiry window (shared by concurrent callers)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not force and self._token and time.monotonic() < self._expires_at:
                return self._token
            if not self.configured:
                raise WeChatError("WECHAT_APP_ID / WECHAT_APP_SECRET are not set")
            params = {"grant_type": "client_credential", "appid": self.app_id or "", "secret": self.app_secret or ""}
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.get(f"{self.base_url}/cgi-bin/token", params=params) as answer:
                    data = await answer.json(content_type=None)
            self.token_fetches += 1
            if not isinstance(data, dict) or not data.get("access_token"):
                code = data.get("errcode") if isinstance(data, dict) else "?"
                raise WeChatError(f"token request failed: errcode {code}")
            self._token = str(data["access_token"])
            # Refresh 5 minutes early; WeChat tokens live 7200 s.
            self._expires_at = time.monotonic() + max(60, int(data.get("expires_in", 7200)) - 300)
            return self._token

    async def send_text(self, openid: str, content: str) -> None:
        """Customer-service message API: send `content` to `openid` (retries once on an expired token)."""
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": content}},
                          ensure_ascii=False).encode("utf-8")
        for attempt in range(2):
            token = await self.access_token(force=attempt > 0)
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(f"{self.base_url}/cgi-bin/message/custom/send",
                                        params={"access_token": token}, data=body,
                                        headers={"Content-Type": "application/json; charset=utf-8"}) as answer:
                    data = await answer.json(content_type=None)
            code = int(data.get("errcode", 0)) if isinstance(data, dict) else -1
            if code == 0:
                return
            if code not in TOKEN_ERRORS:
                raise WeChatError(f"message/custom/send failed: errcode {code}")
        raise WeChatError("message/custom/send failed: access token rejected twice")


class WeChatOutput(OutputChannel):
    """Collects replies for the passive answer; once deferred (or for pushes), sends through the API."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    def __init__(self, api: WeChatApi, deferred: bool = True) -> None:
        self.api = api
        self.deferred = deferred
        self.buffer: list[str] = []
        self.pending: set[asyncio.Task[None]] = set()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not self.deferred:
            self.buffer.append(text)
            return
        try:
            await self.api.send_text(recipient_id, text)
        except (WeChatError, aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("wechat: could not deliver a message to a user: %s", error)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, render_buttons(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    def defer(self, recipient_id: str) -> None:
        """Switch to API delivery and send what was collected so far in the background."""
        self.deferred = True
        collected, self.buffer = self.buffer, []
        if collected:
            task = asyncio.create_task(self.send_text_message(recipient_id, "\n\n".join(collected)))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)


class WeChatInput(InputChannel):
    """WeChat Official Account webhook (plaintext mode) with signature checks and replay protection."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(
            token=setting(credentials, "token", "WECHAT_TOKEN"),
            app_id=setting(credentials, "app_id", "WECHAT_APP_ID"),
            app_secret=setting(credentials, "app_secret", "WECHAT_APP_SECRET"),
            api_base_url=setting(credentials, "api_base_url", "WECHAT_API_BASE_URL") or DEFAULT_API_BASE,
            reply_timeout=float(setting(credentials, "reply_timeout", "WECHAT_REPLY_TIMEOUT", "4.0") or 4.0),
        )

    def __init__(self, token: str | None, app_id: str | None = None, app_secret: str | None = None,
                 api_base_url: str = DEFAULT_API_BASE, reply_timeout: float = 4.0) -> None:
        self.token = token or ""
        self.api = WeChatApi(app_id, app_secret, api_base_url)
        self.reply_timeout = reply_timeout
        # WeChat retries a message 3 times within 15 s; ids are kept 10 minutes.
        self.replays = ReplayGuard("wechat", ttl_seconds=600, redis_url=redis_url_from_env())
        self._tasks: set[asyncio.Future[Any]] = set()

    def get_output_channel(self) -> OutputChannel | None:
        """Pushed messages (agent replies) go through the customer-service message API."""
        return WeChatOutput(self.api, deferred=True)

    @staticmethod
    def message_key(message: dict[str, str]) -> str:
        # WeChat's documented dedupe keys: MsgId for messages, FromUserName + CreateTime for events.
        event_key = f"{message['FromUserName']}:{message.get('CreateTime', '')}:{message.get('Event', '')}"
        return message.get("MsgId") or event_key

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("kefu_wechat_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": bool(self.token)})

        @bp.route("/webhook", methods=["GET"])
        async def verify_url(request: Request) -> HTTPResponse:
            args = {k: request.args.get(k, "") for k in ("signature", "timestamp", "nonce", "echostr")}
            if not signature_valid(self.token, args):
                return response.text("invalid signature", status=403)
            return response.text(args["echostr"])

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            args = {k: request.args.get(k, "") for k in ("signature", "timestamp", "nonce")}
            if not signature_valid(self.token, args):
                logger.warning("wechat: request with an invalid signature refused")
                return response.text("invalid signature", status=403)
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.text("payload too large", status=413)
            try:
                message = parse_message(body)
            except MalformedMessage as error:
                logger.info("wechat: malformed message refused: %s", error)
                return response.text("malformed message", status=400)
            if not await self.replays.first_time(self.message_key(message)):
                logger.info("wechat: replayed message ignored")
                return response.text("success")
            return await self.handle(message, on_new_message)

        return bp

    async def handle(
        self, message: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Answer one verified, first-seen message: passive reply, or "success" + later API delivery."""
        openid, account = message["FromUserName"], message["ToUserName"]
        kind = message["MsgType"]
        if kind == "event":
            if message.get("Event", "").lower() == "subscribe":
                return response.text(passive_reply(openid, account, WELCOME), content_type="application/xml")
            return response.text("success")  # unsubscribe, menu clicks, location reports …: nothing to say
        if kind != "text":
            return response.text(passive_reply(openid, account, TEXT_ONLY), content_type="application/xml")
        text = message.get("Content", "").strip()
        if not text:
            return response.text("success")
        if len(text) > MAX_MESSAGE_CHARS:
            return response.text("message too long", status=413)

        output = WeChatOutput(self.api, deferred=False)
        user_message = UserMessage(text, output, openid, input_channel=self.name(),
                                   metadata=trusted_metadata(self.name(), openid))
        task = asyncio.ensure_future(on_new_message(user_message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        done, _ = await asyncio.wait({task}, timeout=self.reply_timeout)
        if not done:
            logger.info("wechat: no reply within %.1f s, using the customer-service API", self.reply_timeout)
            output.defer(openid)
            return response.text("success")
        if task.exception() is not None:
            logger.error("wechat: handling a message failed: %r", task.exception())
            return response.text("success")
        content = "\n\n".join(output.buffer)
        if not content:
            return response.text("success")
        if len(content.encode("utf-8")) > PASSIVE_REPLY_MAX_BYTES:
            output.defer(openid)
            return response.text("success")
        return response.text(passive_reply(openid, account, content), content_type="application/xml")
