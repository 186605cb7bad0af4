"""Settings from environment variables (names and dev defaults fixed in docs/contract.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, model_validator
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
    rasa_auth_token: str = Field(default_factory=lambda: dev_secret("RASA_AUTH_TOKEN"))
    otp_sender: str = "outbox"
    max_body_bytes: int = 1_048_576
    customer_token_ttl_seconds: int = 3600
    # Points expiry + tier review inside the CRM process; 0 disables (then use `cli expire-points`).
    maintenance_interval_seconds: int = 6 * 3600
    maintenance_initial_delay_seconds: int = 120

    @property
    def is_development(self) -> bool:
        return self.kefu_env.strip().lower() in {"development", "dev"}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

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
