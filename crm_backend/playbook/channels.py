"""Outbound senders for the customers' own chat apps (Telegram Bot API, Slack Web API, WeChat customer service).

Synchronous httpx: sends run in queue worker threads, never on the event loop. A 5xx, 429 or network error
is transient (the job retries with backoff); any other refusal is permanent for that recipient.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from crm_backend.playbook.config import OutreachSettings


class SendError(Exception):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason, self.transient = reason[:64], transient


def _call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise SendError(f"network: {type(error).__name__}", transient=True) from error
    if response.status_code == 429 or response.status_code >= 500:
        raise SendError(f"http {response.status_code}", transient=True)
    try:
        body: dict[str, Any] = response.json()
    except ValueError as error:
        raise SendError(f"http {response.status_code} not json", transient=response.status_code >= 500) from error
    if response.status_code >= 400:
        raise SendError(f"http {response.status_code}", transient=False)
    return body


class Senders:
    """One pooled HTTP client per process; WeChat's access token cached until 5 minutes before it expires."""

    def __init__(self, settings: OutreachSettings, client: httpx.Client | None = None) -> None:
        self.settings = settings
        # httpx logs request URLs at INFO, and a Telegram Bot API URL contains the bot token.
        httpx_log = logging.getLogger("httpx")
        httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
        self.client = client or httpx.Client(timeout=settings.send_timeout_seconds,
                                             limits=httpx.Limits(max_connections=32))
        self._wechat_token: tuple[str, float] | None = None
        self._wechat_lock = threading.Lock()
        self.throttle: Callable[[str], None] = lambda channel: None  # the queue plugs its rate limiter in here

    def send(self, channel: str, address: str, text: str) -> None:
        self.throttle(channel)
        if channel == "telegram":
            self._telegram(address, text)
        elif channel == "slack":
            self._slack(address, text)
        elif channel == "wechat":
            self._wechat(address, text)
        else:
            raise SendError(f"no sender for {channel}", transient=False)

    def _telegram(self, chat_id: str, text: str) -> None:
        s = self.settings
        if not s.telegram_access_token:
            raise SendError("telegram not configured", transient=False)
        url = f"{s.telegram_api_base_url.rstrip('/')}/bot{s.telegram_access_token}/sendMessage"
        body = _call(self.client, "POST", url, json={"chat_id": chat_id, "text": text})
        if not body.get("ok"):
            raise SendError(f"telegram: {body.get('description', 'refused')}", transient=False)

    def _slack(self, channel: str, text: str) -> None:
        s = self.settings
        if not s.slack_token:
            raise SendError("slack not configured", transient=False)
        body = _call(self.client, "POST", f"{s.slack_api_base_url.rstrip('/')}/chat.postMessage",
                     json={"channel": channel, "text": text}, headers={"Authorization": f"Bearer {s.slack_token}"})
        if not body.get("ok"):
            error = str(body.get("error", "refused"))
            raise SendError(f"slack: {error}", transient=error == "ratelimited")

    def _wechat_access_token(self, *, refresh: bool = False) -> str:
        s = self.settings
        with self._wechat_lock:
            if self._wechat_token and not refresh and self._wechat_token[1] > time.monotonic():
                return self._wechat_token[0]
            body = _call(self.client, "GET", f"{s.wechat_api_base_url.rstrip('/')}/cgi-bin/token",
                         params={"grant_type": "client_credential", "appid": s.wechat_app_id,
                                 "secret": s.wechat_app_secret})
            if "access_token" not in body:
                raise SendError(f"wechat token: {body.get('errcode')}", transient=False)
            ttl = float(body.get("expires_in", 7200))
            self._wechat_token = (str(body["access_token"]), time.monotonic() + max(60.0, ttl - 300))
            return self._wechat_token[0]

    def _wechat(self, openid: str, text: str) -> None:
        s = self.settings
        if not (s.wechat_app_id and s.wechat_app_secret):
            raise SendError("wechat not configured", transient=False)
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        for refresh in (False, True):
            token = self._wechat_access_token(refresh=refresh)
            body = _call(self.client, "POST", f"{s.wechat_api_base_url.rstrip('/')}/cgi-bin/message/custom/send",
                         params={"access_token": token}, json=payload)
            code = int(body.get("errcode", 0))
            if code == 0:
                return
            if code not in (40001, 40014, 42001):
                raise SendError(f"wechat: {code}", transient=code == -1)
        raise SendError("wechat: token refused twice", transient=True)
