"""Scale-out drill: Debian's haproxy in front of 2 Rasa and 2 CRM processes (PostgreSQL + Redis).

One origin, as a real deployment serves it: haproxy routes `/socket.io` and `/webhooks` to the Rasa pair
(cookie stickiness, health checks, redispatch), `/shop` to a shop page embedding the widget, everything
else to the CRM pair. A second frontend refuses WebSocket upgrades, so its customers use socket.io's
long-polling fallback, which only works when every poll reaches the instance holding the session.

Rasa A and CRM A are the shared stack's (`./kefu run`); Rasa B (tests/e2e/channels_rasa.py) and CRM B are
started here. Customers: one on A over WebSocket, one on B over WebSocket, one on B over long-polling.
Rasa B is killed with SIGKILL mid-conversation: the customer on A goes on undisturbed; the customers on B
reconnect (to A), continue the same conversation with its slots, and no message is lost or answered twice.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kefu_ops.logs import conversation_ref
from tests.e2e.channels_rasa import rasa_b
from tests.e2e.stack import ROOT, Stack
from tests.e2e.widget_page import Widget, chromium

SHOP = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head>
<body><h1>A shop behind the load balancer</h1>
<script src="/widget/kefu-widget.js" data-server="{origin}"></script></body></html>"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} did not answer at {url}:\n{log.read_text(errors='replace')[-3000:]}")



class ShopHandler(BaseHTTPRequestHandler):
    """The shop page, pointing the widget at whichever haproxy frontend served it (its Host header)."""

    def do_GET(self) -> None:
        html = SHOP.format(origin=f"http://{self.headers['Host']}").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(html)))
        self.end_headers()
        self.wfile.write(html)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Balancer:
    ws_url: str
    poll_url: str
    stats_url: str

    def servers(self) -> dict[tuple[str, str], dict[str, str]]:
        text = httpx.get(f"{self.stats_url}/stats;csv", timeout=5).text.lstrip("# ")
        return {(row["pxname"], row["svname"]): row for row in csv.DictReader(io.StringIO(text))}

    def wait_status(self, backend: str, server: str, status: str, timeout: float = 30) -> None:
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            seen = self.servers().get((backend, server), {}).get("status")
            if seen == status:
                return
            time.sleep(0.25)
        raise AssertionError(f"haproxy never saw {backend}/{server} {status} (last: {seen})")


HAPROXY_CFG = """
global
  maxconn 1000
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout tunnel 1h
  option redispatch
  retries 3
frontend websocket
  bind 127.0.0.1:{ws}
  use_backend rasa if {{ path_beg /socket.io /webhooks }}
  use_backend shop if {{ path_beg /shop }}
  default_backend crm
frontend polling
  bind 127.0.0.1:{poll}
  # No WebSocket upgrades here: the widget falls back to long-polling.
  http-request deny deny_status 400 if {{ hdr(upgrade) -i websocket }}
  use_backend rasa if {{ path_beg /socket.io /webhooks }}
  use_backend shop if {{ path_beg /shop }}
  default_backend crm
frontend stats
  bind 127.0.0.1:{stats}
  stats enable
  stats uri /stats
backend rasa
  balance roundrobin
  cookie KEFU_RASA insert indirect nocache
  option httpchk GET /
  default-server inter 500ms fall 2 rise 2
  server a 127.0.0.1:{rasa_a} check cookie a
  server b 127.0.0.1:{rasa_b} check cookie b
backend crm
  balance roundrobin
  option httpchk GET /health
  default-server inter 1s fall 2 rise 2
  server a 127.0.0.1:{crm_a} check
  server b 127.0.0.1:{crm_b} check
backend shop
  server page 127.0.0.1:{shop}
"""


@pytest.fixture(scope="module")
def crm_b(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second CRM process on the stack's PostgreSQL and Redis."""
    port = free_port()
    log = tmp_path_factory.mktemp("crm-b") / "crm-b.log"
    env = {**stack.env, "PYTHONPATH": str(ROOT), "CRM_PORT": str(port)}
    with log.open("wb") as out:
        process = subprocess.Popen([str(ROOT / ".venvs/crm/bin/python"), "-m", "uvicorn", "crm_backend.main:app",
                                    "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 90, "CRM B", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def balancer(stack: Stack, crm_b: str, request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Balancer]:
    binary = shutil.which("haproxy")
    if binary is None:
        pytest.fail("haproxy not found: install Debian's `haproxy` package (apt-get install -y haproxy)")
    b = rasa_b(stack, request)
    shop = ThreadingHTTPServer(("127.0.0.1", 0), ShopHandler)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    ports = {"ws": free_port(), "poll": free_port(), "stats": free_port()}
    workdir = tmp_path_factory.mktemp("haproxy")
    config = workdir / "haproxy.cfg"
    config.write_text(HAPROXY_CFG.format(**ports, rasa_a=stack.rasa_port, rasa_b=b.url.rsplit(":", 1)[1],
                                         crm_a=stack.crm_port, crm_b=crm_b.rsplit(":", 1)[1],
                                         shop=shop.server_address[1]))
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = workdir / "haproxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)
    lb = Balancer(f"http://127.0.0.1:{ports['ws']}", f"http://127.0.0.1:{ports['poll']}",
                  f"http://127.0.0.1:{ports['stats']}")
    try:
        wait_http(f"{lb.stats_url}/stats", 30, "haproxy", log)
        for backend, server in (("rasa", "a"), ("rasa", "b"), ("crm", "a"), ("crm", "b")):
            lb.wait_status(backend, server, "UP")
        yield lb
    finally:
        process.terminate()
        process.wait(timeout=30)
        shop.shutdown()
        shop.server_close()


class Customer:
    """One browser context pinned to a Rasa instance by haproxy's cookie."""

    def __init__(self, browser: Any, base_url: str, instance: str) -> None:
        self.context = browser.new_context(locale="en-US")
        self.context.add_cookies([{"name": "KEFU_RASA", "value": instance, "url": base_url}])
        self.page = self.context.new_page()
        self.page.goto(f"{base_url}/shop")
        self.widget = Widget(self.page).open()
        # Record every time the widget shows "connection lost".
        self.page.evaluate("""() => {
            window.kefuOfflineSeen = 0;
            const panel = document.querySelector('.kefu-panel');
            new MutationObserver(() => { if (panel.classList.contains('kefu-offline')) window.kefuOfflineSeen++; })
              .observe(panel, {attributes: true, attributeFilter: ['class']});
        }""")

    @property
    def session(self) -> str:
        return self.widget.session_id

    def went_offline(self) -> int:
        return int(self.page.evaluate("() => window.kefuOfflineSeen"))

    def wait_online(self, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function("() => !document.querySelector('.kefu-panel').classList.contains('kefu-offline')",
                                    timeout=timeout_ms)


def tracker(stack: Stack, session: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{session}/tracker", params={"token": stack.rasa_token},
                         timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def turns(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(user text, number of widget bubbles answering it) for every user message of a tracker.

    Rasa's socket.io channel sends each paragraph of a bot text ("\n\n") as its own message.
    """
    result: list[tuple[str, int]] = []
    for event in events:
        if event["event"] == "user":
            result.append((event.get("text") or "", 0))
        elif event["event"] == "bot" and result and (event.get("text") or event.get("data")):
            bubbles = len([part for part in (event.get("text") or "").strip().split("\n\n") if part]) or 1
            text, count = result[-1]
            result[-1] = (text, count + bubbles)
    return result


def test_kill_one_rasa_behind_haproxy(stack: Stack, balancer: Balancer, request: pytest.FixtureRequest,
                                      artifacts: Path) -> None:
    b = rasa_b(stack, request)
    with chromium() as browser:
        on_a = Customer(browser, balancer.ws_url, "a")
        on_b = Customer(browser, balancer.ws_url, "b")
        polling_b = Customer(browser, balancer.poll_url, "b")
        customers = {"a/websocket": on_a, "b/websocket": on_b, "b/polling": polling_b}
        first = {"a/websocket": "hello", "b/websocket": "你好", "b/polling": "hi there"}
        for name, customer in customers.items():
            assert customer.widget.send(first[name]), f"{name}: no answer to the first message"
        shown_before = {name: len(c.widget.bot_texts()) for name, c in customers.items()}

        # Each customer is where haproxy's cookie put them: the instance's own log names the conversation.
        rasa_a_log = (stack.var_dir / "log" / "rasa.log").read_text(errors="replace")
        rasa_b_log = b.log.read_text(errors="replace")
        assert f"[{conversation_ref(on_a.session)}]" in rasa_a_log
        for customer in (on_b, polling_b):
            assert f"[{conversation_ref(customer.session)}]" in rasa_b_log
            assert f"[{conversation_ref(customer.session)}]" not in rasa_a_log
        polling_transport = polling_b.page.evaluate("() => performance.getEntriesByType('resource')"
                                                    ".filter(e => e.name.includes('transport=polling')).length")
        assert polling_transport > 2, "the polling customer should talk to Rasa through long-polling requests"
        slots_before = {name: tracker(stack, c.session)["slots"] for name, c in customers.items()}

        os.killpg(b.process.pid, signal.SIGKILL)
        b.process.wait(timeout=10)
        b.standin.stop()  # frees its port: a later test that needs Rasa B starts a new one with its stand-in
        balancer.wait_status("rasa", "b", "DOWN")

        # The customer on A goes on as if nothing happened.
        assert on_a.widget.send("what are your opening hours"), "the customer on A got no answer"
        # The customers on B reconnect (haproxy redispatches them to A) and continue the same conversation.
        for name in ("b/websocket", "b/polling"):
            customer = customers[name]
            customer.wait_online()
            assert customer.session == tracker(stack, customer.session)["sender_id"]
            assert customer.widget.send("how do I earn points" if name == "b/websocket" else "积分怎么获得"), \
                f"{name}: no answer after the reconnect"
        on_b.widget.screenshot(artifacts / "drill-b-customer-after-rasa-b-killed.png")

        assert on_a.went_offline() == 0, "the customer on A saw the connection drop"
        for name, customer in customers.items():
            events = tracker(stack, customer.session)["events"]
            said = turns(events)
            texts = [text for text, _ in said]
            assert len(texts) == len(set(texts)) == 2, f"{name}: messages lost or recorded twice: {said}"
            assert all(answers >= 1 for _, answers in said), f"{name}: a message went unanswered: {said}"
            # What the widget shows matches the tracker: nothing answered twice.
            assert len(customer.widget.bot_texts()) - shown_before[name] == said[1][1], name
            # Slots survive the kill: whatever the second turn did not set itself is as it was before.
            assert slots_before[name].get("language") in ("zh", "en"), f"{name}: no language slot before the kill"
            second = max(i for i, event in enumerate(events) if event["event"] == "user")
            set_since = {event["name"] for event in events[second:] if event["event"] == "slot"}
            slots = tracker(stack, customer.session)["slots"]
            kept = {slot: value for slot, value in slots_before[name].items() if slot not in set_since}
            assert kept and all(slots[slot] == value for slot, value in kept.items()), f"{name}: slots changed"

    served = balancer.servers()
    assert int(served[("crm", "a")]["stot"]) > 0 and int(served[("crm", "b")]["stot"]) > 0, \
        "both CRM processes should have served the shop's widget and API requests"
