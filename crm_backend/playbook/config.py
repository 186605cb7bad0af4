"""Outreach settings from the environment: channel APIs (same variables as the Rasa connectors), limits."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class OutreachSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    telegram_access_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    slack_token: str = ""
    slack_api_base_url: str = "https://slack.com/api/"
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # Messages per second per channel (Telegram's documented bulk limit is 30/s).
    rate_telegram: int = 30
    rate_slack: int = 20
    rate_wechat: int = 50
    frequency_cap_days: int = 7
    quiet_start_hour: int = 21
    quiet_end_hour: int = 9
    default_timezone: str = "Asia/Shanghai"
    max_attempts: int = 4
    send_timeout_seconds: float = 10.0
    worker_threads: int = 8
    # Touched by the worker every 10 s when set (docker-compose's healthcheck reads its age).
    worker_heartbeat_file: str = ""
    # Redis key prefix of the broker and the rate limiters (one per deployment sharing a Redis server).
    dramatiq_namespace: str = "kefu-dramatiq"


@lru_cache
def get_outreach_settings() -> OutreachSettings:
    return OutreachSettings()
