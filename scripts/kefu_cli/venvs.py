"""The two virtual environments (bot: Python 3.10 + Rasa, crm: Python 3.11), cached by lock-file hash."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from .common import CACHE, ROOT, VAR, KefuError, say

ENVIRONMENTS = {
    # name: (python version, lock file)
    "bot": ("3.10", ROOT / "requirements" / "bot.lock"),
    "crm": ("3.11", ROOT / "requirements" / "crm.lock"),
    # Deployment checks (kubernetes-validate, checkov): checkov pins packaging<24, the CRM's pytest needs >=24.
    "ops": ("3.11", ROOT / "requirements" / "ops.lock"),
}


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
    """Rewrite requirements/*.lock from the current environments."""
    for name, (_, lock_file) in ENVIRONMENTS.items():
        python = ROOT / ".venvs" / name / "bin" / "python"
        frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"],
                                capture_output=True, text=True, check=True).stdout
        lock_file.write_text(frozen)
        say(f"wrote {lock_file.relative_to(ROOT)} ({frozen.count('==')} packages)")
