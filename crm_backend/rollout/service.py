"""Model versions: candidate trainings (requested by supervisors, run by the training worker), the gate,
promotion, rollback, and the repo model `./kefu run` trains.

The serving model is the version of the newest deployment; every Rasa instance pulls it from the model
server (`GET /api/v1/models/serving`) and loads it when its ETag (the archive's SHA-256) changes.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.annotation.export import to_yaml
from crm_backend.annotation.models import Annotation
from crm_backend.annotation.service import intents as domain_intents
from crm_backend.core.config import get_settings
from crm_backend.core.db import utcnow
from crm_backend.core.errors import ForbiddenError, ValidationFailed
from crm_backend.handoff.audit import audit
from crm_backend.rollout import archive, gate
from crm_backend.rollout.errors import GateRefused, NoServingModel, NotPromotable, VersionNotFound
from crm_backend.rollout.models import (
    ACTIVE_STATES,
    CANCELLED,
    EVALUATING,
    FAILED,
    QUEUED,
    READY,
    TRAINING,
    ModelDeployment,
    ModelVersion,
)

# A training whose worker has not reported for this long is failed, so the next one can start.
STALE_AFTER = timedelta(minutes=10)
# An intent's annotations are split once it has this many: every fifth (by text hash) is held out for the
# gate. Fewer are all trained on, so a supervisor's first few corrections take effect.
HOLDOUT_MIN = 5
HOLDOUT_EVERY = 5
MIN_OVERRIDE_REASON = 10


def get(session: Session, version_id: int) -> ModelVersion:
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise VersionNotFound(version_id)
    return version


def serving(session: Session) -> ModelDeployment | None:
    """The newest deployment: what every Rasa instance serves."""
    return session.scalars(select(ModelDeployment).order_by(ModelDeployment.id.desc()).limit(1)).first()


def serving_archive(session: Session) -> tuple[Path, str]:
    """Path and SHA-256 of the serving model's archive (NoServingModel before the first deployment)."""
    deployment = serving(session)
    if deployment is None:
        raise NoServingModel()
    version = get(session, deployment.version_id)
    assert version.sha256 is not None
    return archive.path_of(version.sha256), version.sha256


def versions(session: Session, *, limit: int, offset: int) -> tuple[list[ModelVersion], int]:
    total = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
    rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def deployments(session: Session, *, limit: int = 50) -> list[ModelDeployment]:
    return list(session.scalars(select(ModelDeployment).order_by(ModelDeployment.id.desc()).limit(limit)))


def deployed_ids(session: Session) -> set[int]:
    return set(session.scalars(select(ModelDeployment.version_id).distinct()))


def _fail_stale(session: Session) -> None:
    cutoff = utcnow() - STALE_AFTER
    for version in session.scalars(select(ModelVersion).where(ModelVersion.status.in_((TRAINING, EVALUATING)))):
        if (version.heartbeat_at or version.started_at or version.created_at) < cutoff:
            version.status, version.finished_at = FAILED, utcnow()
            version.error = "the training worker stopped reporting"


def request_training(session: Session, *, agent: Agent) -> ModelVersion:
    """Queue a candidate trained on data/ plus the annotations; one training at a time. Flushes."""
    _fail_stale(session)
    busy = session.scalars(select(ModelVersion).where(ModelVersion.status.in_(ACTIVE_STATES))).first()
    if busy is not None:
        raise NotPromotable(f"version {busy.id} is still {busy.status}: wait for it or cancel it",
                            f"版本 {busy.id} 仍在{_STATUS_ZH[busy.status]}：请等待或取消")
    version = ModelVersion(source="candidate", status=QUEUED, requested_by=agent.id, created_at=utcnow())
    session.add(version)
    session.flush()
    audit(session, agent=agent, action="model_train", details={"version": version.id})
    return version


_STATUS_ZH = {QUEUED: "排队", TRAINING: "训练", EVALUATING: "评估"}


def cancel(session: Session, *, version_id: int, agent: Agent) -> ModelVersion:
    """Stop a queued or running training; the serving model is untouched. Flushes."""
    version = get(session, version_id)
    if version.status not in ACTIVE_STATES:
        raise NotPromotable(f"version {version_id} is {version.status}, not training",
                            f"版本 {version_id} 当前不在训练中")
    version.status, version.finished_at, version.stage = CANCELLED, utcnow(), "cancelled"
    audit(session, agent=agent, action="model_cancel", details={"version": version_id})
    session.flush()
    return version


def _split(rows: list[Annotation]) -> tuple[list[Annotation], list[Annotation]]:
    by_intent: dict[str, list[Annotation]] = {}
    for row in rows:
        by_intent.setdefault(row.intent, []).append(row)
    train: list[Annotation] = []
    heldout: list[Annotation] = []
    for group in by_intent.values():
        for row in group:
            held = len(group) >= HOLDOUT_MIN and int(row.text_key[:8], 16) % HOLDOUT_EVERY == 0
            (heldout if held else train).append(row)
    return train, heldout


def claim(session: Session) -> tuple[ModelVersion, dict[str, Any]] | None:
    """The oldest queued training, now marked running, with what the worker needs to run it. Flushes."""
    _fail_stale(session)
    query = select(ModelVersion).where(ModelVersion.status == QUEUED).order_by(ModelVersion.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    version = session.scalars(query).first()
    if version is None:
        return None
    rows = list(session.scalars(select(Annotation).order_by(Annotation.id)))
    train, heldout = _split(rows)
    known = set(domain_intents(session))
    text, skipped = to_yaml(train, known)
    deployment = serving(session)
    now = utcnow()
    version.status, version.started_at, version.heartbeat_at = TRAINING, now, now
    version.stage, version.progress = "starting", 0.0
    version.annotations, version.heldout_annotations = len(train), len(heldout)
    version.baseline_id = deployment.version_id if deployment else None
    session.flush()
    return version, {"annotations_yaml": text, "skipped_intents": skipped,
                     "heldout": [{"text": r.text, "intent": r.intent, "language": r.language} for r in heldout
                                 if not known or r.intent in known]}


def report(session: Session, *, version_id: int, stage: str, progress: float) -> ModelVersion:
    """The worker's progress; the returned status tells it whether it was cancelled. Flushes."""
    version = get(session, version_id)
    if version.status in (TRAINING, EVALUATING):
        version.stage, version.progress, version.heartbeat_at = stage[:200], max(0.0, min(progress, 1.0)), utcnow()
        session.flush()
    return version


def _running(session: Session, version_id: int) -> ModelVersion:
    version = get(session, version_id)
    if version.status not in (TRAINING, EVALUATING):
        raise NotPromotable(f"version {version_id} is {version.status}", f"版本 {version_id} 已不在训练中")
    return version


def attach_archive(session: Session, *, version_id: int, sha256: str, size: int) -> ModelVersion:
    """The trained archive arrived (already in the store); it must be a Rasa model. Flushes."""
    version = _running(session, version_id)
    archive.metadata(archive.path_of(sha256))  # a corrupt upload fails the training, not a later promotion
    version.sha256, version.size = sha256, size
    version.status, version.stage, version.heartbeat_at = EVALUATING, "evaluating", utcnow()
    session.flush()
    return version


def record_evaluation(session: Session, *, version_id: int, evaluation: dict[str, Any],
                      train_seconds: float) -> ModelVersion:
    """The worker's before/after figures and the gate's verdict on them; the candidate is ready. Flushes."""
    version = _running(session, version_id)
    if version.sha256 is None:
        raise NotPromotable("upload the model archive before its evaluation", "请先上传模型文件再提交评估")
    version.evaluation, version.gate = evaluation, gate.verdict(evaluation)
    version.status, version.stage, version.progress = READY, "ready", 1.0
    version.finished_at, version.train_seconds = utcnow(), train_seconds
    session.flush()
    return version


def fail(session: Session, *, version_id: int, error: str) -> ModelVersion:
    version = get(session, version_id)
    if version.status in ACTIVE_STATES:
        version.status, version.error, version.finished_at = FAILED, error[:4000], utcnow()
        session.flush()
    return version


def _expected_intents(session: Session) -> set[str] | None:
    """The serving model's intents (a candidate must have the same), else the domain file's."""
    deployment = serving(session)
    if deployment is not None:
        current = get(session, deployment.version_id)
        if current.sha256 and archive.path_of(current.sha256).is_file():
            try:
                return archive.intents_of(archive.metadata(archive.path_of(current.sha256)))
            except Exception:  # the serving archive itself is unreadable: fall back to the domain file
                pass
    path = get_settings().nlu_domain_file
    if not path.is_file():
        return None
    import yaml

    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}


def _deploy(session: Session, *, version: ModelVersion, action: str, agent: Agent | None,
            reason: str | None) -> ModelDeployment:
    assert version.sha256 is not None
    archive.check(archive.path_of(version.sha256), sha256=version.sha256,
                  expected_intents=_expected_intents(session))
    deployment = ModelDeployment(version_id=version.id, action=action, reason=reason,
                                 agent_id=agent.id if agent else None, at=utcnow())
    session.add(deployment)
    audit(session, agent=agent, action=f"model_{action}",
          details={"version": version.id, "sha256": version.sha256, "reason": reason})
    session.flush()
    return deployment


def promote(session: Session, *, version_id: int, agent: Agent, override_reason: str | None = None
            ) -> ModelDeployment:
    """Serve a candidate that passed the gate; an admin may override a refusal with a written reason."""
    version = get(session, version_id)
    current = serving(session)
    if version.status != READY or version.sha256 is None:
        raise NotPromotable(f"version {version_id} is {version.status}: only a ready model can be promoted",
                            f"版本 {version_id} 尚未就绪，不能上线")
    if current is not None and current.version_id == version.id:
        raise NotPromotable(f"version {version_id} is already serving", f"版本 {version_id} 已在服务中")
    verdict = dict(version.gate or {"passed": False, "reasons_en": ["not evaluated"], "reasons_zh": ["未评估"]})
    reasons_en, reasons_zh = list(verdict.get("reasons_en", [])), list(verdict.get("reasons_zh", []))
    if version.source == "candidate" and (current.version_id if current else None) != version.baseline_id:
        reasons_en.append("the serving model changed since this candidate was evaluated: train again")
        reasons_zh.append("评估之后线上模型已更换：请重新训练")
    reason = (override_reason or "").strip()
    if reasons_en and not reason:
        raise GateRefused(reasons_en, reasons_zh)
    if reasons_en:
        if agent.role != "admin":
            raise ForbiddenError("Only an admin may override the gate", "只有管理员可以越过门禁")
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationFailed(f"write why the gate is overridden (at least {MIN_OVERRIDE_REASON} characters)",
                                   f"请写明越过门禁的理由（至少 {MIN_OVERRIDE_REASON} 个字符）")
        return _deploy(session, version=version, action="override", agent=agent, reason=reason)
    return _deploy(session, version=version, action="promote", agent=agent, reason=reason or None)


def rollback(session: Session, *, version_id: int, agent: Agent) -> ModelDeployment:
    """Serve again a version that served before (one click: it passed, or was let through, then)."""
    version = get(session, version_id)
    current = serving(session)
    if current is not None and current.version_id == version.id:
        raise NotPromotable(f"version {version_id} is already serving", f"版本 {version_id} 已在服务中")
    if version.id not in deployed_ids(session):
        raise NotPromotable(f"version {version_id} never served: promote it through the gate instead",
                            f"版本 {version_id} 从未上线过：请通过门禁上线")
    return _deploy(session, version=version, action="rollback", agent=agent,
                   reason=f"v{current.version_id}" if current else None)  # the version rolled back from


def register_repo_model(session: Session, *, path: Path, fingerprint: str) -> tuple[ModelVersion, bool]:
    """The model `./kefu run` trained from data/: stored, and served if it is new (developers' data wins
    over earlier candidates: it is newer). Returns the version and whether it was deployed now."""
    sha = archive.file_sha256(path)
    version = session.scalars(select(ModelVersion).where(ModelVersion.sha256 == sha)).first()
    if version is None:
        target = archive.path_of(sha)
        if not target.is_file():
            partial = target.with_name(f".{target.name}.copy")
            shutil.copyfile(path, partial)
            partial.replace(target)
        archive.metadata(target)
        now = utcnow()
        version = ModelVersion(source="repo", status=READY, stage="ready", progress=1.0, fingerprint=fingerprint,
                               sha256=sha, size=path.stat().st_size, created_at=now, finished_at=now,
                               gate={"passed": True, "reasons_en": [], "reasons_zh": []})
        session.add(version)
        session.flush()
    elif serving(session) is not None:
        return version, False
    session.add(ModelDeployment(version_id=version.id, action="repo", agent_id=None, at=utcnow(),
                                reason=fingerprint))  # of data/, config and components
    audit(session, agent=None, action="model_repo", details={"version": version.id, "sha256": sha})
    session.flush()
    return version, True
