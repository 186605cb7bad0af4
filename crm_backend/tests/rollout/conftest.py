"""Roll-out tests share the handoff tests' per-test bus and login-limiter state, and get their own model store."""

from pathlib import Path

import pytest

from crm_backend.rollout import archive
from crm_backend.tests.handoff.fixtures import fresh_state

__all__ = ["fresh_state"]


@pytest.fixture(autouse=True)
def model_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setattr(archive, "store_dir", lambda: folder)
    return folder
