"""Model archives on disk: stored by content hash, checked before Rasa is ever told to load one.

A Rasa 3 model is a tar.gz whose `metadata.json` carries the domain it was trained with. An archive that
does not open, has no metadata, or was trained on a domain with other intents than the serving model's
is refused: Rasa would fail to load it (and keep the old model silently), or answer with intents the
action server does not know.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path
from typing import IO, Any

from crm_backend.core.config import get_settings
from crm_backend.rollout.errors import ArchiveRefused

CHUNK = 1 << 20


def store_dir() -> Path:
    """Where archives live (one file per content hash); shared by every CRM process of a host."""
    folder = Path(get_settings().kefu_var_dir) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(sha256: str) -> Path:
    return store_dir() / f"{sha256}.tar.gz"


def save_stream(stream: IO[bytes], *, limit: int) -> tuple[str, int]:
    """Copy an archive into the store (at most `limit` bytes); returns its hash and size."""
    digest = hashlib.sha256()
    partial = store_dir() / f".upload-{os.getpid()}-{id(stream)}"
    size = 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArchiveRefused(f"the model archive is larger than {limit // CHUNK} MB",
                                         f"模型文件超过 {limit // CHUNK} MB")
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        partial.replace(path_of(sha))  # published whole or not at all
        return sha, size
    finally:
        partial.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def metadata(path: Path) -> dict[str, Any]:
    """The model's `metadata.json`; ArchiveRefused when the archive is not a Rasa model."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = next((m for m in archive if m.name.lstrip("./") == "metadata.json"), None)
            if member is None:
                raise ArchiveRefused("the file is not a Rasa model (no metadata.json)",
                                     "该文件不是 Rasa 模型（缺少 metadata.json）")
            source = archive.extractfile(member)
            assert source is not None
            return dict(json.loads(source.read()))
    except (tarfile.TarError, OSError, EOFError, ValueError, UnicodeDecodeError) as error:
        raise ArchiveRefused(f"the model file is corrupt ({type(error).__name__})",
                             f"模型文件已损坏（{type(error).__name__}）") from error


def intents_of(meta: dict[str, Any]) -> set[str]:
    domain = meta.get("domain") or {}
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}


def check(path: Path, *, sha256: str, expected_intents: set[str] | None) -> None:
    """Refuse an archive that is missing, changed on disk, corrupt, or of another domain."""
    if not path.is_file():
        raise ArchiveRefused("the model file is missing from the model store", "模型库中找不到该模型文件")
    if file_sha256(path) != sha256:
        raise ArchiveRefused("the model file changed on disk since it was stored (checksum mismatch)",
                             "模型文件在存储后被改动（校验和不一致）")
    intents = intents_of(metadata(path))
    if not intents:
        raise ArchiveRefused("the model has no domain", "该模型没有领域定义（domain）")
    if expected_intents and intents != expected_intents:
        missing, extra = sorted(expected_intents - intents), sorted(intents - expected_intents)
        raise ArchiveRefused(
            f"the model was trained on another domain (intents missing: {', '.join(missing[:5]) or '-'}; "
            f"unknown: {', '.join(extra[:5]) or '-'})",
            f"该模型基于其他领域训练（缺少意图：{'、'.join(missing[:5]) or '无'}；"
            f"多出意图：{'、'.join(extra[:5]) or '无'}）")
