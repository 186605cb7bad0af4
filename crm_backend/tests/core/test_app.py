"""App skeleton: health, auth, the JSON error shape, language choice, body limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from crm_backend.core.config import ENV_EXAMPLE, Settings
from crm_backend.core.i18n import pick_language

REPO = Path(__file__).resolve().parents[3]


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_lists_customer_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/customers/{customer_id}" in paths


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_service_routes_need_the_token(client, headers):
    response = client.get("/api/v1/customers/1", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_route_has_error_shape(client):
    response = client.get("/api/v1/nope", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"] == "未找到"


def test_validation_error_shape(client, service_headers):
    response = client.get("/api/v1/customers/abc", headers=service_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_oversized_payload_is_413(client, service_headers):
    big = "x" * (Settings().max_body_bytes + 10)
    response = client.post("/api/v1/customers/1/redemptions", content=big, headers=service_headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(("header", "expected"), [
    (None, "en"), ("zh-CN", "zh"), ("en-US,zh;q=0.8", "en"), ("fr, zh-TW;q=0.5", "zh"), ("de", "en"),
    ("zh;q=0, en", "en"),
])
def test_pick_language(header, expected):
    assert pick_language(header) == expected


def test_production_refuses_dev_secrets():
    with pytest.raises(ValueError, match="CRM_SERVICE_TOKEN"):
        Settings(kefu_env="production", customer_token_secret="x" * 32, crm_secret_key="y" * 32,
                 rasa_auth_token="z" * 32)


def test_production_accepts_real_secrets():
    settings = Settings(kefu_env="production", crm_service_token="a" * 32, customer_token_secret="b" * 32,
                        crm_secret_key="c" * 32, rasa_auth_token="d" * 32)
    assert not settings.is_development


def test_chunked_body_over_limit_is_413(client, service_headers):
    limit = Settings().max_body_bytes
    chunks = iter([b"{" + b" " * (limit // 2), b" " * (limit // 2 + 10) + b"}"])
    response = client.post("/api/v1/customers/1/redemptions", content=chunks,
                           headers={**service_headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_small_chunked_body_reaches_the_route(client, service_headers):
    chunks = iter([b'{"reward_code": ', b'"SOLDOUT"}'])
    response = client.post("/api/v1/customers/1/redemptions", content=chunks,
                           headers={**service_headers, "Content-Type": "application/json"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"


def test_database_busy_is_503(app, client, service_headers):
    from sqlalchemy.exc import OperationalError

    from crm_backend.core.db import get_session

    def busy():
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    previous = app.dependency_overrides[get_session]
    app.dependency_overrides[get_session] = busy
    try:
        response = client.get("/api/v1/customers/1", headers=service_headers)
    finally:
        app.dependency_overrides[get_session] = previous
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "1"


def test_development_secrets_come_from_env_example(monkeypatch):
    for name in ("CRM_SERVICE_TOKEN", "CUSTOMER_TOKEN_SECRET", "CRM_SECRET_KEY", "RASA_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    example = dotenv_values(ENV_EXAMPLE)
    settings = Settings(kefu_env="development")
    assert settings.crm_service_token == example["CRM_SERVICE_TOKEN"]
    assert settings.customer_token_secret == example["CUSTOMER_TOKEN_SECRET"]
    assert settings.crm_secret_key == example["CRM_SECRET_KEY"]
    assert settings.rasa_auth_token == example["RASA_AUTH_TOKEN"]


def test_an_empty_secret_is_refused_even_in_development():
    with pytest.raises(ValueError, match="CRM_SECRET_KEY not set"):
        Settings(kefu_env="development", crm_secret_key=" ")


def test_development_secrets_are_written_only_in_env_example():
    """One definition: no other file of the repository spells a development secret out."""
    values = [v for v in dotenv_values(ENV_EXAMPLE).values() if v and v.startswith("dev-")]
    assert len(values) == 4, values
    # What the repository holds or would take in: tracked files and untracked ones that .gitignore keeps.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    offenders = []
    for name in filter(None, listed):
        path = REPO / name
        if path == ENV_EXAMPLE or not path.is_file():
            continue
        if path.suffix in {".gz", ".png", ".db", ".pyc", ".woff", ".woff2", ".ico", ".jpg", ".npz"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{name}: {value}" for value in values if value in text]
    assert offenders == []
