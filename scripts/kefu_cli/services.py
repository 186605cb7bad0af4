"""Checks of the services `./kefu run` and `./kefu test` need: free ports, PostgreSQL, Redis.

Each failure is one line that names its own fix: a server that does not answer, a login it refuses, a
database that is missing (created when the login may), Redis that does not answer.
"""

from __future__ import annotations

import socket
import subprocess
import urllib.parse

from .common import CRM_BIN, ROOT, KefuError, redacted, say


def port_free(number: int) -> bool:
    """True when nothing listens on 127.0.0.1:`number` (ports in TIME_WAIT count as free, as for a server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", number))
        except OSError:
            return False
    return True


def check_database(env: dict[str, str]) -> None:
    """Raise KefuError naming the fix unless DATABASE_URL can be used; create a missing database."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite"):
        return
    parts = urllib.parse.urlsplit(url)
    server = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    user = urllib.parse.unquote(parts.username or "") or "the current user"
    shown = redacted(url)
    out = subprocess.run([str(CRM_BIN / "python"), "-m", "scripts.kefu_cli.dbprobe", url], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    outcome = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "unreachable"
    if outcome == "ok":
        return
    if outcome == "created":
        say(f"database {name!r} did not exist on {server}: created it")
        return
    if outcome == "auth":
        raise KefuError(f"PostgreSQL at {server} refused the login of {user} ({shown}) — fix the user or "
                        f"password in DATABASE_URL, or create that role (createuser -h {parts.hostname} {user})")
    if outcome == "missing":
        raise KefuError(f"database {name!r} does not exist on {server} and {user} may not create it — run "
                        f"`createdb -h {parts.hostname} -p {parts.port or 5432} {name}` or fix DATABASE_URL")
    raise KefuError(f"cannot reach the PostgreSQL server at {server} ({shown}) — start PostgreSQL or fix the "
                    f"host/port in DATABASE_URL")


def check_redis(url: str | None) -> None:
    if not url:
        return
    parts = urllib.parse.urlparse(url)
    host, port_number = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port_number), timeout=3) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError:
        answer = b""
    if not (answer.startswith(b"+PONG") or answer.startswith(b"-NOAUTH")):
        raise KefuError(f"cannot reach Redis at {host}:{port_number} ({redacted(url)}) — start Redis "
                        f"(redis-server) or fix the host/port in REDIS_URL")


def check_rabbitmq(env: dict[str, str]) -> None:
    """Services mode: RabbitMQ answers the AMQP 0-9-1 protocol header (a Connection.Start method frame)."""
    if env.get("KEFU_EVENT_STREAM") != "amqp":
        return
    host, port_number = env["RABBITMQ_HOST"], int(env["RABBITMQ_PORT"])
    try:
        with socket.create_connection((host, port_number), timeout=3) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            answer = s.recv(8)
    except OSError:
        answer = b""
    if not answer.startswith(b"\x01"):
        raise KefuError(f"cannot reach RabbitMQ at {host}:{port_number} ({redacted(env['RABBITMQ_URL'])}) — start "
                        "RabbitMQ (rabbitmq-server) or fix RABBITMQ_URL")
