"""A real CRM test server for the action tests: uvicorn + a temporary SQLite database, migrated and seeded.

Port 18030 (the bot engineer's range). Fails loudly when the server cannot start.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_helpers import SERVICE_TOKEN, TOKEN_SECRET

from testing.services import port_is_free

ROOT = Path(__file__).resolve().parents[2]
CRM_PYTHON = ROOT / ".venvs" / "crm" / "bin" / "python"
CRM_PORT = int(os.environ.get("KEFU_TEST_CRM_PORT", "18030"))


@pytest.fixture(scope="session")
def crm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `uvicorn crm_backend.main:app` (crm venv) on a fresh, seeded SQLite database."""
    if not CRM_PYTHON.exists():
        pytest.fail(f"CRM virtualenv missing at {CRM_PYTHON}: run ./kefu setup")
    if not port_is_free(CRM_PORT):
        pytest.fail(f"port {CRM_PORT} is busy: stop what runs there (or set KEFU_TEST_CRM_PORT) to start the CRM")
    workdir = tmp_path_factory.mktemp("crm")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEFU_ENV": "development",
           "DATABASE_URL": f"sqlite:///{workdir / 'crm.db'}", "CRM_SERVICE_TOKEN": SERVICE_TOKEN,
           "CUSTOMER_TOKEN_SECRET": TOKEN_SECRET, "OTP_SENDER": "outbox"}
    env.pop("REDIS_URL", None)
    for step in ("migrate", "seed"):
        done = subprocess.run([str(CRM_PYTHON), "-m", "crm_backend.cli", step], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            output = done.stdout[-2000:] + done.stderr[-2000:]
            pytest.fail(f"CRM test server: `crm_backend.cli {step}` failed:\n{output}")
    log = (workdir / "crm.log").open("w")
    proc = subprocess.Popen([str(CRM_PYTHON), "-m", "uvicorn", "crm_backend.main:app", "--host", "127.0.0.1",
                             "--port", str(CRM_PORT)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{CRM_PORT}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"CRM test server did not start on {url}:\n{(workdir / 'crm.log').read_text()[-3000:]}")
        time.sleep(0.5)
    saved = {k: os.environ.get(k) for k in ("CRM_URL", "CRM_SERVICE_TOKEN", "CUSTOMER_TOKEN_SECRET")}
    os.environ.update(CRM_URL=url, CRM_SERVICE_TOKEN=SERVICE_TOKEN, CUSTOMER_TOKEN_SECRET=TOKEN_SECRET)
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
