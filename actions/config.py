"""The action server's settings, from the environment (`./kefu run` exports the development secrets of .env.example).

Read on each use rather than at import, so a test or a restarted server sees the current environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSettings:
    crm_url: str
    crm_service_token: str
    customer_token_secret: str


def get_settings() -> ActionSettings:
    return ActionSettings(
        crm_url=os.environ.get("CRM_URL", "http://127.0.0.1:8000"),
        crm_service_token=os.environ.get("CRM_SERVICE_TOKEN", ""),
        customer_token_secret=os.environ.get("CUSTOMER_TOKEN_SECRET", ""),
    )
