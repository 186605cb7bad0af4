"""The first real conversation through every layer: REST channel → Rasa → action server → CRM over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.stack import Stack, text_of

WANG_WEI = 1  # demo customer: diamond VIP (crm_backend/demo/README.md)


def test_every_process_is_healthy(stack: Stack) -> None:
    assert httpx.get(f"{stack.crm_url}/health", timeout=10).json()["status"] == "ok"
    assert httpx.get(f"{stack.actions_url}/health", timeout=10).status_code == 200
    status = httpx.get(f"{stack.rasa_url}/status", params={"token": stack.rasa_token}, timeout=10)
    assert status.status_code == 200 and status.json()["model_file"]


def test_rasa_http_api_requires_the_token(stack: Stack) -> None:
    assert httpx.get(f"{stack.rasa_url}/status", timeout=10).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/status", params={"token": "wrong"}, timeout=10).status_code == 401


def test_crm_api_requires_the_service_token(stack: Stack) -> None:
    response = httpx.get(f"{stack.crm_url}/api/v1/customers/{WANG_WEI}/points", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_points_balance_comes_from_the_crm(stack: Stack) -> None:
    """A verified customer asks for their points; the answer carries the balance the CRM holds."""
    points = stack.crm("GET", f"/customers/{WANG_WEI}/points")
    assert points.status_code == 200, points.text
    balance = points.json()["balance"]
    token = stack.customer_token(WANG_WEI)
    reply = text_of(stack.chat("e2e-first-zh", "我的积分有多少", {"customer_token": token}))
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", reply)}
    assert balance in numbers, f"balance {balance} not in the bot's answer: {reply!r}"
    assert re.search(r"[\u4e00-\u9fff]", reply), f"a Chinese question gets a Chinese answer: {reply!r}"

    reply_en = text_of(stack.chat("e2e-first-en", "what is my points balance?", {"customer_token": token}))
    assert f"{balance:,}" in reply_en or str(balance) in reply_en, reply_en
    assert not re.search(r"[\u4e00-\u9fff]", reply_en.split(":")[0]), f"an English question gets English: {reply_en!r}"


def test_anonymous_customer_gets_no_account_data(stack: Stack) -> None:
    points = stack.crm("GET", f"/customers/{WANG_WEI}/points").json()["balance"]
    reply = text_of(stack.chat("e2e-anonymous", "how many points do I have?"))
    assert str(points) not in reply and f"{points:,}" not in reply
    assert reply, "the bot must still answer (ask the customer to verify)"


def test_terminal_chat_client(stack: Stack) -> None:
    """The README's terminal client: a verified demo customer asks for points and sees the CRM's balance."""
    balance = stack.crm("GET", f"/customers/{WANG_WEI}/points").json()["balance"]
    env = {**os.environ, "CUSTOMER_TOKEN_SECRET": stack.env["CUSTOMER_TOKEN_SECRET"]}
    done = subprocess.run([sys.executable, "scripts/chat.py", "--customer", str(WANG_WEI), "--rasa", stack.rasa_url],
                          input="what is my points balance?\n", capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2], env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "kefu> " in done.stdout and (f"{balance:,}" in done.stdout or str(balance) in done.stdout), done.stdout
