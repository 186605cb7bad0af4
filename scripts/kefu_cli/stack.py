"""`./kefu run`: check the services, prepare database and model, start the three servers (and, in services mode,
the playbook worker), print the banner."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from .common import BOT_BIN, CRM_BIN, ROOT, VAR, KefuError, redacted, say
from .config import configure
from .model import ensure_model
from .services import check_database, check_rabbitmq, check_redis, port_free
from .supervision import Child, Supervisor, crash_message
from .venvs import setup

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
WORKER_READY = "playbook worker ready"  # printed by crm_backend.playbook.worker
TRAINING_READY = "training worker ready"  # printed by bot.training_worker
MODEL_SERVER_PATH = "/api/v1/models/serving"


def build_children(env: dict[str, str], model: Path) -> list[Child]:
    crm_port, actions_port, rasa_port = int(env["CRM_PORT"]), int(env["ACTIONS_PORT"]), int(env["RASA_PORT"])
    endpoints = "endpoints.services.yml" if env.get("REDIS_URL") else "endpoints.yml"
    rasa_cmd = [str(BOT_BIN / "python"), "-m", "bot.server", "run", "--enable-api", "--auth-token",
                env["RASA_AUTH_TOKEN"], "--cors", "*", "--port", str(rasa_port), "--interface", "127.0.0.1",
                "--model", str(model), "--endpoints", endpoints,
                "--credentials", env.get("KEFU_CREDENTIALS", "credentials.yml")]
    # Services mode queues playbook deliveries on Redis, so a worker must consume them; in embedded mode the
    # CRM process runs them itself.
    worker_cmd = [str(CRM_BIN / "python"), "-m", "crm_backend.playbook.worker"]
    worker = [Child("playbook-worker", "playbook worker", worker_cmd, 0, f"log:{WORKER_READY}")
              ] if env.get("REDIS_URL") else []
    # Candidates are trained by their own process at the lowest CPU priority, never by a serving Rasa.
    trainer = Child("training-worker", "training worker", [str(BOT_BIN / "python"), "-m", "bot.training_worker"],
                    0, f"log:{TRAINING_READY}")
    return [
        Child("crm", "CRM backend", [str(CRM_BIN / "python"), "-m", "uvicorn", "crm_backend.main:app", "--host",
                                     "127.0.0.1", "--port", str(crm_port), "--no-proxy-headers"],
              crm_port, f"http://127.0.0.1:{crm_port}/health"),
        Child("actions", "action server", [str(BOT_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                           "--port", str(actions_port)],
              actions_port, f"http://127.0.0.1:{actions_port}/health"),
        Child("rasa", "Rasa server", rasa_cmd, rasa_port,
              f"http://127.0.0.1:{rasa_port}/status?token={urllib.parse.quote(env['RASA_AUTH_TOKEN'])}"),
        trainer,
        *worker,
    ]


def prepare_database(env: dict[str, str]) -> None:
    steps = (("migrate", "applying database migrations"), ("seed", "loading demo data if the database is empty"))
    for step, what in steps:
        say(what)
        out = subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", step], cwd=ROOT, env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            log = VAR / "log" / f"{step}.log"
            log.write_text(out.stdout + out.stderr)
            raise KefuError(f"`crm_backend.cli {step}` failed (see {log}) — check DATABASE_URL and the migrations")
        if out.stdout.strip():
            print("  " + out.stdout.strip().replace("\n", "\n  "), flush=True)


def register_model(env: dict[str, str], model: Path) -> None:
    """Store the model trained from data/ in the CRM's model store; it serves if it is new."""
    fingerprint = model.name[len("kefu-"):-len(".tar.gz")]
    out = subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.cli", "register-model", str(model),
                          "--fingerprint", fingerprint], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        log = VAR / "log" / "register-model.log"
        log.write_text(out.stdout + out.stderr)
        raise KefuError(f"registering the model with the CRM failed (see {log})")
    print("  " + out.stdout.strip(), flush=True)


def banner(env: dict[str, str], seconds: float) -> str:
    """What to open and type while the stack runs: every command here works against the running stack."""
    crm, rasa = env["CRM_URL"], env["RASA_URL"]
    backends = (f"PostgreSQL/DB {redacted(env['DATABASE_URL'])}" if not env["DATABASE_URL"].startswith("sqlite")
                else f"SQLite {env['DATABASE_URL'][len('sqlite:///'):]}")
    stores = f"Redis {redacted(env['REDIS_URL'])}" if env.get("REDIS_URL") else "in-memory tracker and lock stores"
    # The CRM serves its API docs in development only (API_DOCS=true switches them on elsewhere).
    docs = f"  API docs            {crm}/docs\n" if env.get("KEFU_ENV", "development") == "development" else ""
    chat = "python3 scripts/chat.py" + ("" if rasa == DEFAULT_RASA_URL else f" --rasa {rasa}")
    return f"""
Kefu is up in {seconds:.0f} s  ({backends}; {stores})
  Website chat page   {crm}/demo
  Agent console       {crm}/console       (agent1 / agent1-pass, supervisor / supervisor-pass)
{docs}  Rasa HTTP API       {rasa}              (token: RASA_AUTH_TOKEN)
Chat from another terminal while this runs:
  {chat}
      (add --customer 1 to chat as a verified customer; /restart starts over, /quit leaves)
  curl -s {rasa}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{{"sender": "me", "message": "你好"}}'
Press Ctrl-C to stop everything.
"""


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
        check_redis(env.get("REDIS_URL"))
        check_rabbitmq(env)
        model = ensure_model(env)
        prepare_database(env)
        register_model(env, model)
        # Every Rasa instance pulls the serving model from the CRM (promotions and rollbacks need no restart).
        env.setdefault("KEFU_MODEL_SERVER_URL", env["CRM_URL"].rstrip("/") + MODEL_SERVER_PATH)
        supervisor = Supervisor(env)
        timeout = float(env.get("KEFU_START_TIMEOUT", "240"))
        crm, *others = build_children(env, model)
        # The CRM first: Rasa's first model pull at start-up must find it up.
        for group in ([crm], others):
            for child in group:
                say(f"starting the {child.label}" + (f" on port {child.port}" if child.port else ""))
                supervisor.start(child)
            for child in group:
                supervisor.wait_healthy(child, timeout)
                say(f"{child.label} healthy")
        print(banner(env, time.monotonic() - started), flush=True)
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
