"""credentials.yml starts without any chat-app secret; credentials.chatapps.yml opens every channel from env."""

from __future__ import annotations

import pytest
from rasa.core.run import create_http_input_channels
from rasa.shared.exceptions import RasaException

from bot.channels.slack import SlackInput
from bot.channels.socketio_redis import RedisSocketIOInput
from bot.channels.telegram import TelegramInput
from bot.channels.wechat import WeChatInput

CHAT_APP_ENV = {
    "TELEGRAM_ACCESS_TOKEN": "123456789:AAFakeTokenForTestsOnly_abcdefghijk", "TELEGRAM_VERIFY": "kefu_bot",
    "TELEGRAM_WEBHOOK_URL": "https://example.com/webhooks/telegram/webhook", "TELEGRAM_SECRET_TOKEN": "tg",
    "SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sss", "WECHAT_TOKEN": "wt", "WECHAT_APP_ID": "wx1",
    "WECHAT_APP_SECRET": "ws",
}


def test_default_credentials_need_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CHAT_APP_ENV:
        monkeypatch.delenv(name, raising=False)
    channels = create_http_input_channels(None, "credentials.yml")
    assert sorted(c.name() for c in channels) == ["rest", "socketio"]
    website = next(c for c in channels if isinstance(c, RedisSocketIOInput))
    assert website.session_persistence is True


def test_chat_app_credentials_refuse_to_start_without_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CHAT_APP_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RasaException, match="TELEGRAM_ACCESS_TOKEN|SLACK|WECHAT"):
        create_http_input_channels(None, "credentials.chatapps.yml")


def test_chat_app_credentials_open_every_channel_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CHAT_APP_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WECHAT_API_BASE_URL", "http://127.0.0.1:9")
    channels = {c.name(): c for c in create_http_input_channels(None, "credentials.chatapps.yml")}
    assert sorted(channels) == ["rest", "slack", "socketio", "telegram", "wechat"]
    telegram, slack, wechat = channels["telegram"], channels["slack"], channels["wechat"]
    assert isinstance(telegram, TelegramInput) and telegram.secret_token == "tg" and telegram.verify == "kefu_bot"
    assert isinstance(slack, SlackInput) and slack.slack_signing_secret == "sss"
    assert isinstance(wechat, WeChatInput) and wechat.token == "wt" and wechat.api.base_url == "http://127.0.0.1:9"
