"""Kefu's commands: run the whole product, test it, build its environments.

Standard library only: this runs before any virtual environment exists.

    ./kefu run      start CRM (8000), action server (5055) and Rasa (5005)
    ./kefu test     the whole test suite against real PostgreSQL and Redis
    ./kefu setup    only create/update the two virtual environments
    ./kefu train    only (re)train the Rasa model if its inputs changed
    ./kefu lock     rewrite requirements/*.lock from the current environments
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("KEFU_CACHE", str(Path.home() / ".cache" / "kefu")))
VAR = Path(os.environ.get("KEFU_VAR_DIR", str(ROOT / "var")))

ENVIRONMENTS = {
    # name: (python version, lock file)
    "bot": ("3.10", ROOT / "requirements" / "bot.lock"),
    "crm": ("3.11", ROOT / "requirements" / "crm.lock"),
}

# Development defaults. Any other KEFU_ENV refuses to start while one of these is still in use.
DEV_SECRETS = {
    "CRM_SERVICE_TOKEN": "dev-service-token",
    "RASA_AUTH_TOKEN": "dev-rasa-token",
    "CUSTOMER_TOKEN_SECRET": "dev-customer-token-secret",
    "CRM_SECRET_KEY": "dev-crm-secret-key",
}

RASA_TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]
# What the trained model depends on; bot/channels (transport) and bot/server.py (how Rasa is started) are not.
FINGERPRINT_INPUTS = ["domain.yml", "domain", *RASA_TRAINING_DATA, "bot"]
FINGERPRINT_EXCLUDE = ["bot/channels", "bot/server.py"]


class KefuError(Exception):
    """A failure the user can fix; printed as one line naming the fix."""


def say(message: str) -> None:
    print(f"kefu: {message}", flush=True)


# --------------------------------------------------------------------------- configuration


def load_dotenv() -> None:
    """Fill unset variables from ./.env (KEY=VALUE lines), so a developer can keep settings there."""
    path = ROOT / ".env"
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise KefuError(f"{name}={raw!r} is not a port number — set it to an integer such as {default}") from None


def configure_event_broker() -> None:
    """Services mode: Rasa's Pika broker (endpoints.services.yml) and the CRM meet on RabbitMQ."""
    os.environ["KEFU_EVENT_STREAM"] = "amqp"
    rabbit = urllib.parse.urlparse(os.environ.setdefault("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    os.environ["RABBITMQ_HOST"] = rabbit.hostname or "127.0.0.1"
    os.environ["RABBITMQ_PORT"] = str(rabbit.port or 5672)
    os.environ["RABBITMQ_USER"] = urllib.parse.unquote(rabbit.username or "guest")
    os.environ["RABBITMQ_PASSWORD"] = urllib.parse.unquote(rabbit.password or "guest")
    os.environ.setdefault("KEFU_EVENTS_EXCHANGE", "rasa-exchange")
    os.environ.setdefault("KEFU_EVENTS_QUEUE", "kefu_events")


def configure() -> dict[str, str]:
    """Resolve the environment shared by every child process."""
    load_dotenv()
    mode = os.environ.setdefault("KEFU_ENV", "development")
    for key, placeholder in DEV_SECRETS.items():
        value = os.environ.get(key)
        if mode == "development":
            os.environ.setdefault(key, placeholder)
        elif not value or value == placeholder or value.startswith("dev-") or value.startswith("change-me"):
            raise KefuError(f"{key} must be set to a real secret when KEFU_ENV={mode} (see .env.example)")
    crm_port, actions_port, rasa_port = port("CRM_PORT", 8000), port("ACTIONS_PORT", 5055), port("RASA_PORT", 5005)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'kefu.db'}")
    os.environ.setdefault("CRM_URL", f"http://127.0.0.1:{crm_port}")
    os.environ.setdefault("RASA_URL", f"http://127.0.0.1:{rasa_port}")
    os.environ.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{actions_port}/webhook")
    if os.environ.get("REDIS_URL"):
        redis = urllib.parse.urlparse(os.environ["REDIS_URL"])
        os.environ["REDIS_HOST"] = redis.hostname or "127.0.0.1"
        os.environ["REDIS_PORT"] = str(redis.port or 6379)
        os.environ["REDIS_DB"] = (redis.path or "/0").lstrip("/") or "0"
        os.environ["REDIS_PASSWORD"] = urllib.parse.unquote(redis.password or "")
        configure_event_broker()
    else:
        os.environ["KEFU_EVENT_STREAM"] = "sql"  # Rasa's SQL event broker (endpoints.yml) into this file
        os.environ.setdefault("KEFU_EVENTS_DB", str(VAR / "events.db"))
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        KEFU_VAR_DIR=str(VAR),
        CRM_PORT=str(crm_port),
        ACTIONS_PORT=str(actions_port),
        RASA_PORT=str(rasa_port),
    )
    return env


def redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


# --------------------------------------------------------------------------- environments


def find_python(version: str) -> str:
    """Locate a working interpreter for `version` (a pyenv shim that errors does not count)."""
    override = os.environ.get("KEFU_PYTHON" + version.replace(".", ""))
    candidates: list[str] = [override] if override else []
    if not override:
        found = shutil.which(f"python{version}")
        if found:
            candidates.append(found)
        for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")):
            if root:
                candidates += sorted(str(p) for p in Path(root).glob(f"versions/{version}.*/bin/python{version}"))
        candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    hint = f"KEFU_PYTHON{version.replace('.', '')}"
    raise KefuError(
        f"python{version} not found — install Python {version} (e.g. `pyenv install {version}` or "
        f"`apt-get install python{version} python{version}-venv`) or set {hint}=/path/to/python{version}"
    )


def install_venv(name: str, python: str, exact: str, lock: Path, target: Path, marker: Path) -> None:
    """Install the venv of `name` into `target` unless a complete one is already there."""
    if marker.exists():
        return
    if target.exists():
        shutil.rmtree(target)
    started = time.monotonic()
    packages = sum(1 for line in lock.read_text().splitlines() if "==" in line)
    say(f"installing the {name} environment (Python {exact.split()[0]}, {packages} pinned packages) …")
    target.parent.mkdir(parents=True, exist_ok=True)
    log = VAR / "log" / f"install-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        steps = [
            [python, "-m", "venv", str(target)],
            [str(target / "bin" / "python"), "-m", "pip", "install", "--no-deps",
             "--disable-pip-version-check", "-r", str(lock)],
        ]
        for step in steps:
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise KefuError(
                    f"installing the {name} environment failed (see {log}) — check network access to "
                    f"the package index and {lock.relative_to(ROOT)}"
                )
    marker.write_text(exact + "\n")
    say(f"{name} environment ready in {time.monotonic() - started:.0f} s")


def ensure_venv(name: str) -> Path:
    """Create or reuse the cached venv for `name`, keyed by its lock file and interpreter."""
    version, lock = ENVIRONMENTS[name]
    python = find_python(version)
    exact = subprocess.run(
        [python, "-c", "import sys, platform; print(sys.version.split()[0], platform.machine())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    key = hashlib.sha256(lock.read_bytes() + exact.encode()).hexdigest()[:16]
    target = CACHE / "venvs" / f"{name}-{key}"
    marker = target / ".kefu-complete"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two checkouts sharing the cache must not install into the same folder at once.
    with (CACHE / "venvs" / f"{name}-{key}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        install_venv(name, python, exact, lock, target, marker)
    link = ROOT / ".venvs" / name
    link.parent.mkdir(exist_ok=True)
    if not (link.is_symlink() and os.readlink(link) == str(target)):
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    return target


def setup() -> dict[str, Path]:
    started = time.monotonic()
    venvs = {name: ensure_venv(name) for name in ENVIRONMENTS}
    say(f"environments up to date ({time.monotonic() - started:.1f} s)")
    return venvs


def lock() -> None:
    for name, (_, lock_file) in ENVIRONMENTS.items():
        python = ROOT / ".venvs" / name / "bin" / "python"
        frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"],
                                capture_output=True, text=True, check=True).stdout
        lock_file.write_text(frozen)
        say(f"wrote {lock_file.relative_to(ROOT)} ({frozen.count('==')} packages)")


# --------------------------------------------------------------------------- model


# Lines of `rasa train` output worth showing as progress (the rest is per-node and per-batch noise).
TRAINING_MILESTONES = ("Starting to train component", "Your Rasa model")


def fingerprint(config: Path) -> str:
    digest = hashlib.sha256(config.read_bytes())
    for name in FINGERPRINT_INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            if any(rel.startswith(ex) for ex in FINGERPRINT_EXCLUDE) or "__pycache__" in rel:
                continue
            digest.update(rel.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def rasa_config() -> Path:
    return Path(os.environ.get("KEFU_RASA_CONFIG", str(ROOT / "config.yml"))).resolve()


def ensure_model(env: dict[str, str]) -> Path:
    """Train the Rasa model only when config, domain, data or custom components changed."""
    config = rasa_config()
    fp = fingerprint(config)
    model = ROOT / "models" / f"kefu-{fp}.tar.gz"
    cached = CACHE / "models" / model.name
    if model.exists():
        say(f"model up to date ({model.relative_to(ROOT)})")
        return model
    model.parent.mkdir(exist_ok=True)
    if cached.exists():
        shutil.copy2(cached, model)
        say(f"model restored from cache ({model.relative_to(ROOT)})")
        return model
    log = VAR / "log" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    say(f"training the Rasa model (inputs changed, fingerprint {fp}); log: {log}")
    started = time.monotonic()
    cmd = [str(ROOT / ".venvs/bot/bin/rasa"), "train", "--config", str(config), "--domain", "domain.yml",
           "--data", *RASA_TRAINING_DATA, "--out", "models", "--fixed-model-name", f"kefu-{fp}"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                out.write(line)
                progress = line.strip()
                # Rasa prints one line per graph node and epoch bars; show the stage, not the noise.
                if any(m in progress for m in TRAINING_MILESTONES) or "Epochs:" in progress[:10]:
                    print(f"  [{time.monotonic() - started:5.0f} s] {progress[:110]}", flush=True)
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGTERM)
            raise
        code = proc.wait()
    if code != 0 or not model.exists():
        raise KefuError(f"model training failed (exit {code}; see {log}) — "
                        "fix config.yml, domain.yml or data/ and run again")
    (CACHE / "models").mkdir(parents=True, exist_ok=True)
    # Another checkout may restore this model while it is copied: publish it whole or not at all.
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")
    shutil.copy2(model, partial)
    partial.replace(cached)
    say(f"model trained in {time.monotonic() - started:.0f} s → {model.relative_to(ROOT)}")
    return model


# --------------------------------------------------------------------------- processes


@dataclass
class Child:
    name: str
    label: str
    cmd: list[str]
    port: int
    health: str
    proc: subprocess.Popen | None = None
    log: Path | None = None


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
    url = env["DATABASE_URL"]
    if url.startswith("sqlite"):
        return
    probe = ("import sys, sqlalchemy as sa; "
             "sa.create_engine(sys.argv[1], connect_args={'connect_timeout': 5}).connect().close()")
    out = subprocess.run([str(ROOT / ".venvs/crm/bin/python"), "-c", probe, url], capture_output=True, text=True,
                         timeout=30, env=env)
    if out.returncode != 0:
        raise KefuError(f"cannot reach the database at {redacted(url)} — start PostgreSQL or fix DATABASE_URL")


def check_redis(env: dict[str, str]) -> None:
    url = env.get("REDIS_URL")
    if not url:
        return
    host, port_number = env["REDIS_HOST"], int(env["REDIS_PORT"])
    try:
        with socket.create_connection((host, port_number), timeout=3) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError:
        answer = b""
    if not (answer.startswith(b"+PONG") or answer.startswith(b"-NOAUTH")):
        raise KefuError(f"cannot reach Redis at {redacted(url)} — start Redis or fix REDIS_URL")


def check_rabbitmq(env: dict[str, str]) -> None:
    if env.get("KEFU_EVENT_STREAM") != "amqp":
        return
    try:  # the AMQP 0-9-1 protocol header; a broker answers with a Connection.Start method frame (type 1)
        with socket.create_connection((env["RABBITMQ_HOST"], int(env["RABBITMQ_PORT"])), timeout=3) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            answer = s.recv(8)
    except OSError:
        answer = b""
    if not answer.startswith(b"\x01"):
        raise KefuError(f"cannot reach RabbitMQ at {redacted(env['RABBITMQ_URL'])} — "
                        "start RabbitMQ or fix RABBITMQ_URL")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


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
            if http_ok(child.health):
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


def crash_message(child: Child) -> str:
    code = child.proc.returncode if child.proc else None
    return (f"the {child.label} exited unexpectedly (exit {code}; see {child.log}) — fix the error in its log; "
            f"every other Kefu process was stopped")


def build_children(env: dict[str, str], model: Path) -> list[Child]:
    crm_port, actions_port, rasa_port = int(env["CRM_PORT"]), int(env["ACTIONS_PORT"]), int(env["RASA_PORT"])
    bot, crm = ROOT / ".venvs/bot/bin", ROOT / ".venvs/crm/bin"
    endpoints = "endpoints.services.yml" if env.get("REDIS_URL") else "endpoints.yml"
    rasa_cmd = [str(bot / "python"), "-m", "bot.server", "run", "--enable-api", "--auth-token", env["RASA_AUTH_TOKEN"],
                "--cors", "*", "--port", str(rasa_port), "--interface", "127.0.0.1", "--model", str(model),
                "--endpoints", endpoints, "--credentials", env.get("KEFU_CREDENTIALS", "credentials.yml")]
    return [
        Child("crm", "CRM backend", [str(crm / "python"), "-m", "uvicorn", "crm_backend.main:app", "--host",
                                     "127.0.0.1", "--port", str(crm_port), "--proxy-headers"],
              crm_port, f"http://127.0.0.1:{crm_port}/health"),
        Child("actions", "action server", [str(bot / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                           "--port", str(actions_port)],
              actions_port, f"http://127.0.0.1:{actions_port}/health"),
        Child("rasa", "Rasa server", rasa_cmd, rasa_port,
              f"http://127.0.0.1:{rasa_port}/status?token={urllib.parse.quote(env['RASA_AUTH_TOKEN'])}"),
    ]


def prepare_database(env: dict[str, str]) -> None:
    python = str(ROOT / ".venvs/crm/bin/python")
    steps = (("migrate", "applying database migrations"), ("seed", "loading demo data if the database is empty"))
    for step, what in steps:
        say(what)
        out = subprocess.run([python, "-m", "crm_backend.cli", step], cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            log = VAR / "log" / f"{step}.log"
            log.write_text(out.stdout + out.stderr)
            raise KefuError(f"`crm_backend.cli {step}` failed (see {log}) — check DATABASE_URL and the migrations")
        if out.stdout.strip():
            print("  " + out.stdout.strip().replace("\n", "\n  "), flush=True)


def print_banner(env: dict[str, str], started: float) -> None:
    crm, rasa = env["CRM_URL"], env["RASA_URL"]
    backends = (f"PostgreSQL/DB {redacted(env['DATABASE_URL'])}" if not env["DATABASE_URL"].startswith("sqlite")
                else f"SQLite {env['DATABASE_URL'][len('sqlite:///'):]}")
    stores = f"Redis {redacted(env['REDIS_URL'])}" if env.get("REDIS_URL") else "in-memory tracker and lock stores"
    print(f"""
Kefu is up in {time.monotonic() - started:.0f} s  ({backends}; {stores})
  Website chat page   {crm}/demo
  Agent console       {crm}/console       (agent1 / agent1-pass, supervisor / supervisor-pass)
  API docs            {crm}/docs
  Rasa HTTP API       {rasa}              (token: RASA_AUTH_TOKEN)
Chat from the terminal:
  curl -s {rasa}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{{"sender": "me", "message": "你好"}}'
  or: .venvs/bot/bin/rasa shell  (another terminal, stack stopped) — see README.md
Press Ctrl-C to stop everything.
""", flush=True)


def run() -> int:
    env = configure()
    started = time.monotonic()
    supervisor: Supervisor | None = None
    try:
        for name in ("CRM_PORT", "ACTIONS_PORT", "RASA_PORT"):
            number = env[name]
            if not port_free(int(number)):
                raise KefuError(f"port {number} is already in use — "
                                f"stop the process using it or set {name} to a free port")
        setup()
        check_database(env)
        check_redis(env)
        check_rabbitmq(env)
        model = ensure_model(env)
        prepare_database(env)
        supervisor = Supervisor(env)
        timeout = float(env.get("KEFU_START_TIMEOUT", "240"))
        for child in build_children(env, model):
            say(f"starting the {child.label} on port {child.port}")
            supervisor.start(child)
        for child in supervisor.children:
            supervisor.wait_healthy(child, timeout)
            say(f"{child.label} healthy")
        print_banner(env, started)
        while True:
            dead = supervisor.crashed()
            if dead is not None:
                raise KefuError(crash_message(dead))
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping …")
        if supervisor:
            supervisor.stop()
        say("stopped")
        return 0
    except KefuError as error:
        if supervisor:
            supervisor.stop()
        print(f"kefu: error: {error}", file=sys.stderr, flush=True)
        return 1


def handle_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


# --------------------------------------------------------------------------- tests


@dataclass
class Stage:
    name: str
    cmd: list[str]
    junit: Path | None = None


def junit_counts(path: Path) -> tuple | None:
    if not path.exists():
        return None
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


def test() -> int:
    env = configure()
    setup()
    env.setdefault("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    env.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    pg, redis = env["TEST_DATABASE_URL"], env["TEST_REDIS_URL"]
    try:
        check_database({**env, "DATABASE_URL": pg})
        probe = {**env, "REDIS_URL": redis}
        parsed = urllib.parse.urlparse(redis)
        probe.update(REDIS_HOST=parsed.hostname or "127.0.0.1", REDIS_PORT=str(parsed.port or 6379))
        check_redis(probe)
    except KefuError as error:
        print(f"kefu: error: {error} (the test suite needs real PostgreSQL and Redis; see README.md)", file=sys.stderr)
        return 1
    print(f"kefu test: backends: PostgreSQL {redacted(pg)} · Redis {redacted(redis)} · SQLite (temporary files)",
          flush=True)
    reports = VAR / "test"
    reports.mkdir(parents=True, exist_ok=True)
    bot, crm = str(ROOT / ".venvs/bot/bin"), str(ROOT / ".venvs/crm/bin")
    try:
        model = ensure_model(env)
    except KefuError as error:
        print(f"kefu: error: {error}", file=sys.stderr)
        return 1
    data = ["--data", *RASA_TRAINING_DATA]
    stages = [
        Stage("ruff", [f"{crm}/ruff", "check", "crm_backend", "actions", "bot", "scripts", "tests", "bench"]),
        Stage("mypy", [f"{crm}/mypy", "crm_backend"]),
        Stage("crm tests", [f"{crm}/python", "-m", "pytest", "crm_backend/tests", "-q", "-p", "no:cacheprovider",
                            f"--junitxml={reports / 'crm.xml'}"], reports / "crm.xml"),
        Stage("rasa data validate", [f"{bot}/rasa", "data", "validate", "--domain", "domain.yml", *data,
                                     "--fail-on-warnings"]),
        Stage("nlu held-out test", [f"{bot}/python", "scripts/check_nlu_gates.py", "--model", str(model)]),
        Stage("story tests", [f"{bot}/rasa", "test", "core", "--model", str(model), "--stories", "tests/stories",
                              "--fail-on-prediction-errors", "--out", str(VAR / "reports" / "core")]),
        Stage("bot tests", [f"{bot}/python", "-m", "pytest", "tests/bot", "tests/actions", "tests/channels", "-q",
                            "-p", "no:cacheprovider", f"--junitxml={reports / 'bot.xml'}"], reports / "bot.xml"),
        Stage("end-to-end tests", [f"{crm}/python", "-m", "pytest", "tests/e2e", "tests/test_compose.py", "-q",
                                   "-p", "no:cacheprovider", f"--junitxml={reports / 'e2e.xml'}"], reports / "e2e.xml"),
    ]
    # Benchmarks report figures (bench/results/*.json) and fail only when they cannot run: speed targets are
    # compared in their output, never asserted by a timed test. The Banking77 study (~20 min) runs by hand.
    if env.get("KEFU_SKIP_BENCH") != "1":
        stages += [
            Stage("bench crm points", [f"{crm}/python", "bench/crm_points.py", "--seconds", "5"]),
            Stage("bench crm rescore", [f"{crm}/python", "bench/crm_rescore.py"]),
            Stage("bench handoff live", [f"{crm}/python", "bench/handoff_live.py"]),
            Stage("bench channels", [f"{bot}/python", "bench/channels_latency.py"]),
            Stage("bench bot latency", [f"{bot}/python", "bench/bot_latency.py", "--model", str(model)]),
        ]
    only = [s.strip() for s in env.get("KEFU_TEST_ONLY", "").split(",") if s.strip()]
    passed = failed = skipped = 0
    results = []
    for stage in stages:
        if only and not any(o in stage.name for o in only):
            continue
        if stage.junit and stage.junit.exists():
            stage.junit.unlink()
        print(f"\n===== {stage.name}: {' '.join(stage.cmd)}", flush=True)
        started = time.monotonic()
        code = subprocess.run(stage.cmd, cwd=ROOT, env={**env, "MODEL_PATH": str(model)}).returncode
        counts = junit_counts(stage.junit) if stage.junit else None
        if counts:
            passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]
        else:
            passed, failed = passed + (code == 0), failed + (code != 0)
        if code != 0 and counts and counts[1] == 0:
            failed += 1  # the runner failed without a failing test: collection error, crash …
        results.append((stage.name, code, time.monotonic() - started))
    print("\n===== summary", flush=True)
    for name, code, seconds in results:
        print(f"  {'ok  ' if code == 0 else 'FAIL'}  {name:<22} {seconds:6.1f} s", flush=True)
    print(f"kefu test: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 0 if failed == 0 and all(code == 0 for _, code, _ in results) else 1


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "help"
    signal.signal(signal.SIGTERM, handle_sigterm)
    # A shell starting us in the background (CI runners, `nohup … &`) sets SIGINT to "ignore", which
    # Python then keeps: Ctrl-C from a supervising test would do nothing. Always make it stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if command == "run":
            return run()
        if command == "test":
            return test()
        if command == "setup":
            configure()
            setup()
            return 0
        if command == "train":
            env = configure()
            setup()
            ensure_model(env)
            return 0
        if command == "lock":
            lock()
            return 0
    except KefuError as error:
        print(f"kefu: error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
