"""Settings from environment variables (names and dev defaults fixed in docs/contract.md)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never be used outside development.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "password"}
SECRET_FIELDS = ("crm_service_token", "customer_token_secret", "crm_secret_key", "rasa_auth_token")


class Settings(BaseSettings):
    """Process configuration; every field maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    kefu_env: str = "development"
    database_url: str = "sqlite:///./var/kefu.db"
    redis_url: str | None = None
    crm_service_token: str = "dev-service-token"
    customer_token_secret: str = "dev-customer-token-secret"
    crm_secret_key: str = "dev-crm-secret-key"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: str = "dev-rasa-token"
    otp_sender: str = "outbox"
    max_body_bytes: int = 1_048_576
    customer_token_ttl_seconds: int = 3600
    # Points expiry + tier review inside the CRM process; 0 disables (then use `cli expire-points`).
    maintenance_interval_seconds: int = 6 * 3600
    maintenance_initial_delay_seconds: int = 120
    # Conversation stream (Rasa's event broker): "amqp" (RABBITMQ_URL), "sql" (the SQLite file Rasa's SQL
    # broker writes, KEFU_EVENTS_DB, default $KEFU_VAR_DIR/events.db), "off", or "auto" (amqp when
    # RABBITMQ_URL is set, else sql).
    kefu_event_stream: str = "auto"
    rabbitmq_url: str | None = None
    kefu_events_queue: str = "kefu_events"
    kefu_events_exchange: str = "rasa-exchange"
    kefu_var_dir: str = "var"
    kefu_events_db: str = ""
    # Transcripts older than this are deleted by the retention job (0 keeps them).
    conversation_retention_days: int = 180

    @property
    def is_development(self) -> bool:
        return self.kefu_env.strip().lower() in {"development", "dev"}

    @property
    def event_stream(self) -> str:
        mode = self.kefu_event_stream.strip().lower()
        if mode == "auto":
            return "amqp" if (self.rabbitmq_url or "").strip() else "sql"
        return mode

    @property
    def events_db_path(self) -> str:
        return self.kefu_events_db or f"{self.kefu_var_dir.rstrip('/')}/events.db"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.is_development:
            return self
        bad = [
            name.upper()
            for name in SECRET_FIELDS
            if getattr(self, name).strip().lower() in PLACEHOLDER_SECRETS or getattr(self, name).startswith("dev-")
        ]
        if bad:
            raise ValueError(
                f"KEFU_ENV={self.kefu_env} but {', '.join(bad)} still use a development placeholder; "
                "set real secrets (see .env.example)"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
