"""Settings from environment variables (names and dev defaults fixed in docs/contract.md)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never be used outside development.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "password"}
SECRET_FIELDS = ("crm_service_token", "customer_token_secret", "crm_secret_key", "rasa_auth_token")
# The development secrets are written once, in the repository's .env.example (absent from images: there
# every secret comes from the environment).
ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def dev_secret(name: str) -> str:
    """The development placeholder of secret `name` from .env.example ("" when the file is absent)."""
    value = dotenv_values(ENV_EXAMPLE).get(name) if ENV_EXAMPLE.exists() else None
    return value if value and value.startswith("dev-") else ""


class Settings(BaseSettings):
    """Process configuration; every field maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    kefu_env: str = "development"
    database_url: str = "sqlite:///./var/kefu.db"
    redis_url: str | None = None
    crm_service_token: str = Field(default_factory=lambda: dev_secret("CRM_SERVICE_TOKEN"))
    customer_token_secret: str = Field(default_factory=lambda: dev_secret("CUSTOMER_TOKEN_SECRET"))
    crm_secret_key: str = Field(default_factory=lambda: dev_secret("CRM_SECRET_KEY"))
    rasa_url: str = "http://127.0.0.1:5005"
    # The largest model archive the training worker may upload (Kefu's is about 75 MB).
    model_upload_limit_mb: int = 512
    rasa_auth_token: str = Field(default_factory=lambda: dev_secret("RASA_AUTH_TOKEN"))
    otp_sender: str = "outbox"
    # Peers allowed to set X-Forwarded-For (comma-separated IPs or CIDRs); none by default, so a client
    # cannot pick the address the login rate limit counts against.
    trusted_proxies: str = ""
    # /docs and /openapi.json: always in development, elsewhere only when switched on.
    api_docs: bool = False
    # SMS pumping guard on top of the per-phone cap: sends per conversation per hour, all sends per minute.
    otp_sends_per_conversation_per_hour: int = 5
    otp_sends_per_minute: int = 60
    max_body_bytes: int = 1_048_576
    customer_token_ttl_seconds: int = 3600
    # Points expiry + tier review inside the CRM process; 0 disables (then use `cli expire-points`).
    maintenance_interval_seconds: int = 6 * 3600
    maintenance_initial_delay_seconds: int = 120
    # Playbook scheduler (crm_backend/playbook/scheduler.py) in every CRM process: a tick every
    # `playbook_schedule_seconds` starts the playbooks due today (claimed in the database, so once per day
    # per playbook however many processes tick); 0 disables it (then run `python -m crm_backend.playbook
    # run-due`). Event playbooks also pick up orders from `playbook_event_catchup_days` missed days.
    playbook_schedule_seconds: int = 600
    playbook_schedule_initial_delay_seconds: int = 90
    playbook_event_catchup_days: int = 2
    # The bot's domain, for the intents a supervisor may give a message in the NLU inbox (the repo's by default;
    # a deployment without it accepts any well-formed intent name and the export checks them).
    nlu_domain_file: Path = ENV_EXAMPLE.parent / "domain.yml"
    # The handoff retry timer (crm_backend/jobs.py): reply retries and kept bot triggers every
    # `kefu_handoff_retry_seconds` while any wait, else a round every `kefu_handoff_idle_seconds`.
    kefu_handoff_timer: bool = True
    kefu_handoff_retry_seconds: float = 1.5
    kefu_handoff_idle_seconds: float = 15.0
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
    # glibc malloc arenas in a CRM process (0: glibc's default of 8 per core); see core/memory.py.
    kefu_malloc_arenas: int = 2

    @property
    def is_development(self) -> bool:
        return self.kefu_env.strip().lower() in {"development", "dev"}

    @property
    def show_api_docs(self) -> bool:
        return self.is_development or self.api_docs

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

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ip_network(part.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        missing = [name.upper() for name in SECRET_FIELDS if not getattr(self, name).strip()]
        if missing:
            raise ValueError(f"{', '.join(missing)} not set; set them in the environment (see .env.example)")
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
