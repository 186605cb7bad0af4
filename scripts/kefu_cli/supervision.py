"""Child processes: each in its own process group, health-checked, and never outliving `./kefu`."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .common import ROOT, VAR, KefuError


@dataclass
class Child:
    name: str
    label: str
    cmd: list[str]
    port: int  # 0: the child serves nothing (a queue worker)
    health: str  # a URL answering 2xx, or "log:<line>" for a child that prints <line> once ready
    proc: subprocess.Popen | None = None
    log: Path | None = None


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def ready(child: Child) -> bool:
    if child.health.startswith("log:"):
        try:
            return child.health[len("log:"):] in (child.log.read_text(errors="replace") if child.log else "")
        except OSError:
            return False
    return http_ok(child.health)


def crash_message(child: Child) -> str:
    code = child.proc.returncode if child.proc else None
    return (f"the {child.label} exited unexpectedly (exit {code}; see {child.log}) — fix the error in its log; "
            f"every other Kefu process was stopped")


class Supervisor:
    """Starts children in their own process groups and guarantees none outlive it."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: list[Child] = []
        (VAR / "log").mkdir(parents=True, exist_ok=True)
        (VAR / "run").mkdir(parents=True, exist_ok=True)

    def start(self, child: Child) -> None:
        child.log = VAR / "log" / f"{child.name}.log"
        out = child.log.open("w")
        child.proc = subprocess.Popen(child.cmd, cwd=ROOT, env=self.env, stdout=out,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        (VAR / "run" / f"{child.name}.pid").write_text(str(child.proc.pid))
        self.children.append(child)

    def crashed(self) -> Child | None:
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                return child
        return None

    def wait_healthy(self, child: Child, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = self.crashed()
            if dead is not None:
                raise KefuError(crash_message(dead))
            if ready(child):
                return
            time.sleep(0.5)
        raise KefuError(f"the {child.label} did not become healthy within {timeout:.0f} s (see {child.log}) — "
                        f"check its log; a slow machine may need KEFU_START_TIMEOUT")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.proc is not None and child.proc.poll() is None:
                try:
                    os.killpg(child.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # The group may hold grandchildren (uvicorn/sanic workers) even after the leader exited.
            try:
                os.killpg(child.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.proc.wait()
            (VAR / "run" / f"{child.name}.pid").unlink(missing_ok=True)
