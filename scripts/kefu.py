"""Kefu's commands: run the whole product, test it, build its environments.

Standard library only: this runs before any virtual environment exists. The work is in scripts/kefu_cli/
(config, venvs, model, services, supervision, stack, stages).

    ./kefu run      start CRM (8000), action server (5055) and Rasa (5005)
    ./kefu test     the whole test suite against real PostgreSQL and Redis
    ./kefu setup    only create/update the two virtual environments
    ./kefu train    only (re)train the Rasa model if its inputs changed
    ./kefu lock     rewrite requirements/*.lock from the current environments
    ./kefu export-annotations [file]
                    write the NLU inbox's annotations as Rasa YAML (default data/nlu/annotations.yml)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.kefu_cli.common import CRM_BIN, ROOT, KefuError
from scripts.kefu_cli.config import configure
from scripts.kefu_cli.model import ensure_model
from scripts.kefu_cli.stack import run
from scripts.kefu_cli.stages import test
from scripts.kefu_cli.venvs import lock, setup


def handle_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def train() -> int:
    env = configure()
    setup()
    ensure_model(env)
    return 0


def setup_only() -> int:
    configure()
    setup()
    return 0


def lock_only() -> int:
    lock()
    return 0


def export_annotations() -> int:
    """The supervisors' annotations (from the CRM database ./kefu run uses) as training data to commit."""
    env = configure()
    setup()
    return subprocess.run([str(CRM_BIN / "python"), "-m", "crm_backend.annotation.export", *sys.argv[2:3]],
                          cwd=ROOT, env=env).returncode


COMMANDS = {"run": run, "test": test, "setup": setup_only, "train": train, "lock": lock_only,
            "export-annotations": export_annotations}


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "help"
    signal.signal(signal.SIGTERM, handle_sigterm)
    # A shell starting us in the background (CI runners, `nohup … &`) sets SIGINT to "ignore", which
    # Python then keeps: Ctrl-C from a supervising test would do nothing. Always make it stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if command not in COMMANDS:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    try:
        return COMMANDS[command]()
    except KefuError as error:
        print(f"kefu: error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
