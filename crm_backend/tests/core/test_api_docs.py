"""/docs and /openapi.json exist in development, and elsewhere only when API_DOCS switches them on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crm_backend.core.config import Settings
from crm_backend.main import create_app


def production(*, api_docs: bool = False) -> Settings:
    return Settings(kefu_env="production", crm_service_token="a" * 32, customer_token_secret="b" * 32,
                    crm_secret_key="c" * 32, rasa_auth_token="d" * 32, api_docs=api_docs)


@pytest.mark.parametrize(("settings", "shown"), [
    (Settings(), True),
    (production(), False),
    (production(api_docs=True), True),
])
def test_docs_follow_the_environment(settings: Settings, shown: bool) -> None:
    with TestClient(create_app(settings)) as client:
        for path in ("/docs", "/openapi.json", "/redoc"):
            expected = 200 if shown and path != "/redoc" else 404
            assert client.get(path).status_code == expected, path
