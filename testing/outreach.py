"""Outreach settings that point every chat-app sender at one stand-in API (tests and the campaign bench)."""

from __future__ import annotations

from typing import Any

from crm_backend.playbook.config import OutreachSettings


def outreach_settings(base_url: str, **overrides: Any) -> OutreachSettings:
    """Settings whose Telegram, Slack and WeChat base URLs all point at the stand-in API at `base_url`."""
    return OutreachSettings(telegram_access_token="tg-test", telegram_api_base_url=base_url, slack_token="xoxb-test",
                            slack_api_base_url=f"{base_url}/api/", wechat_app_id="wx-test-app",
                            wechat_app_secret="wx-test-secret", wechat_api_base_url=base_url, **overrides)
