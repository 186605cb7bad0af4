"""The Rasa model: trained only when its inputs change, cached by fingerprint across checkouts."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .common import BOT_BIN, CACHE, ROOT, VAR, KefuError, say

RASA_TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]
# What the trained model depends on; bot/channels (transport) and bot/server.py (how Rasa is started) are not.
FINGERPRINT_INPUTS = ["domain.yml", "domain", *RASA_TRAINING_DATA, "bot"]
FINGERPRINT_EXCLUDE = ["bot/channels", "bot/server.py", "bot/training_worker.py", "bot/evaluation.py"]
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


def train(env: dict[str, str], config: Path, fp: str, model: Path) -> None:
    log = VAR / "log" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    say(f"training the Rasa model (inputs changed, fingerprint {fp}); log: {log}")
    started = time.monotonic()
    cmd = [str(BOT_BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml",
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
    say(f"model trained in {time.monotonic() - started:.0f} s → {model.relative_to(ROOT)}")


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
    train(env, config, fp, model)
    (CACHE / "models").mkdir(parents=True, exist_ok=True)
    # Another checkout may restore this model while it is copied: publish it whole or not at all.
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")
    shutil.copy2(model, partial)
    partial.replace(cached)
    return model
