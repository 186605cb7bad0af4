"""Paths and the one-line error every `./kefu` command reports."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("KEFU_CACHE", str(Path.home() / ".cache" / "kefu")))
VAR = Path(os.environ.get("KEFU_VAR_DIR", str(ROOT / "var")))
BOT_BIN = ROOT / ".venvs" / "bot" / "bin"
CRM_BIN = ROOT / ".venvs" / "crm" / "bin"
OPS_BIN = ROOT / ".venvs" / "ops" / "bin"


class KefuError(Exception):
    """A failure the user can fix; printed as one line naming the fix."""


def say(message: str) -> None:
    print(f"kefu: {message}", flush=True)


def redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url
