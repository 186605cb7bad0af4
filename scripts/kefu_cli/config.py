"""The environment shared by every child process, and the development secrets.

The development secrets are written in exactly one place, `.env.example`: every value there that starts
with `dev-` is one. `./kefu` exports them in development, so the CRM, the action server and Rasa read them
from the environment like any real secret; `scripts/chat.py` and the tests read them through `dev_secrets()`.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from .common import ROOT, VAR, KefuError

ENV_EXAMPLE = ROOT / ".env.example"
DEV_PREFIX = "dev-"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of `path` (comments and blank lines skipped, quotes stripped); {} if it is missing."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def dev_secrets() -> dict[str, str]:
    """The development secrets, as `.env.example` defines them (name → placeholder value)."""
    return {key: value for key, value in read_env_file(ENV_EXAMPLE).items() if value.startswith(DEV_PREFIX)}


def load_dotenv() -> None:
    """Fill unset variables from ./.env, so a developer can keep settings there."""
    for key, value in read_env_file(ROOT / ".env").items():
        os.environ.setdefault(key, value)


def port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise KefuError(f"{name}={raw!r} is not a port number — set it to an integer such as {default}") from None


def apply_secrets(mode: str) -> None:
    """Development fills in the placeholders; any other mode refuses to start while one is still in use."""
    secrets = dev_secrets()
    if not secrets:
        raise KefuError(f"{ENV_EXAMPLE.name} lists no development secrets — restore it from git")
    for key in secrets:
        value = os.environ.get(key)
        if mode == "development":
            os.environ.setdefault(key, secrets[key])
        elif not value or value.startswith(DEV_PREFIX) or value.startswith("change-me"):
            raise KefuError(f"{key} must be set to a real secret when KEFU_ENV={mode} (see .env.example)")


def split_redis_url() -> None:
    """Rasa's endpoints.services.yml reads the Redis host, port, db and password as separate variables."""
    if not os.environ.get("REDIS_URL"):
        return
    redis = urllib.parse.urlparse(os.environ["REDIS_URL"])
    os.environ["REDIS_HOST"] = redis.hostname or "127.0.0.1"
    os.environ["REDIS_PORT"] = str(redis.port or 6379)
    os.environ["REDIS_DB"] = (redis.path or "/0").lstrip("/") or "0"
    os.environ["REDIS_PASSWORD"] = urllib.parse.unquote(redis.password or "")


def configure_event_stream() -> None:
    """Where Rasa's event broker writes and the CRM's stream consumer reads.

    Services mode (REDIS_URL set): Rasa's Pika broker (endpoints.services.yml) and the CRM meet on
    RabbitMQ. Embedded: Rasa's SQL event broker (endpoints.yml) writes a SQLite file the CRM reads.
    """
    if os.environ.get("REDIS_URL"):
        os.environ["KEFU_EVENT_STREAM"] = "amqp"
        rabbit = urllib.parse.urlparse(os.environ.setdefault("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"))
        os.environ["RABBITMQ_HOST"] = rabbit.hostname or "127.0.0.1"
        os.environ["RABBITMQ_PORT"] = str(rabbit.port or 5672)
        os.environ["RABBITMQ_USER"] = urllib.parse.unquote(rabbit.username or "guest")
        os.environ["RABBITMQ_PASSWORD"] = urllib.parse.unquote(rabbit.password or "guest")
        os.environ.setdefault("KEFU_EVENTS_EXCHANGE", "rasa-exchange")
        os.environ.setdefault("KEFU_EVENTS_QUEUE", "kefu_events")
    else:
        os.environ["KEFU_EVENT_STREAM"] = "sql"
        os.environ.setdefault("KEFU_EVENTS_DB", str(VAR / "events.db"))


KEEP_ALIVE_SECONDS = "75"


def configure() -> dict[str, str]:
    """Resolve the environment shared by every child process."""
    load_dotenv()
    apply_secrets(os.environ.setdefault("KEFU_ENV", "development"))
    crm_port, actions_port, rasa_port = port("CRM_PORT", 8000), port("ACTIONS_PORT", 5055), port("RASA_PORT", 5005)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'kefu.db'}")
    os.environ.setdefault("CRM_URL", f"http://127.0.0.1:{crm_port}")
    os.environ.setdefault("RASA_URL", f"http://127.0.0.1:{rasa_port}")
    os.environ.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{actions_port}/webhook")
    split_redis_url()
    configure_event_stream()
    # Rasa keeps its connections to the action server open for aiohttp's 15 s; Sanic's default closes idle
    # ones after 5 s, and a turn that reuses a connection just closed gets "Cannot write to closing
    # transport": no answer at all (seen in the bench stage). The server must outlast the client.
    os.environ.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", KEEP_ALIVE_SECONDS)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        KEFU_VAR_DIR=str(VAR),
        CRM_PORT=str(crm_port),
        ACTIONS_PORT=str(actions_port),
        RASA_PORT=str(rasa_port),
    )
    return env
