"""Model roll-out: supervisors train candidates and promote or roll back versions; the training worker
claims and reports trainings; every Rasa instance pulls the serving model from `GET /models/serving`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from crm_backend.agent.models import Agent
from crm_backend.api.deps import CurrentSupervisor, ServiceAuth, SessionDep, SettingsDep
from crm_backend.api.responses import error_responses
from crm_backend.console import pages
from crm_backend.core.bounds import IdPath, OffsetQuery
from crm_backend.core.db import begin_write
from crm_backend.rollout import archive, service
from crm_backend.rollout.schemas import (
    ClaimOut,
    DeploymentOut,
    EvaluationIn,
    FailureIn,
    ProgressIn,
    ProgressOut,
    PromoteIn,
    VersionOut,
    VersionsPage,
)

router = APIRouter(prefix="/models", tags=["models"])
root_router = APIRouter(include_in_schema=False)


@root_router.get("/console/models")
def models_page(request: Request, session: SessionDep) -> Response:
    """The model versions page (supervisors): train, gate figures, promote, roll back."""
    return pages.supervisor_page(request, session, "models.html", "/console/models")


def _out(version: object, serving_id: int | None, deployed: set[int]) -> VersionOut:
    out = VersionOut.model_validate(version)
    out.serving, out.served_before = out.id == serving_id, out.id in deployed
    return out


@router.get("", response_model=VersionsPage)
def list_versions(session: SessionDep, _: CurrentSupervisor, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                  offset: OffsetQuery = 0) -> VersionsPage:
    """Every model version, newest first, with the serving one and the deployment history."""
    rows, total = service.versions(session, limit=limit, offset=offset)
    current = service.serving(session)
    serving_id = current.version_id if current else None
    deployed = service.deployed_ids(session)
    history = service.deployments(session)
    names = dict(session.execute(select(Agent.id, Agent.display_name)
                                 .where(Agent.id.in_({d.agent_id for d in history if d.agent_id}))).tuples().all())
    return VersionsPage(items=[_out(r, serving_id, deployed) for r in rows], total=total, limit=limit,
                        offset=offset, serving_id=serving_id,
                        deployments=[DeploymentOut.model_validate(d).model_copy(
                            update={"agent_name": names.get(d.agent_id or 0)}) for d in history])


@router.post("/trainings", response_model=VersionOut, status_code=202,
             responses=error_responses(409, notes={409: "not_promotable: a training is already running"}))
def train(session: SessionDep, supervisor: CurrentSupervisor) -> VersionOut:
    """Queue a candidate trained on data/ plus the annotations (the training worker picks it up)."""
    begin_write(session)
    return _out(service.request_training(session, agent=supervisor), None, set())


@router.post("/{version_id}/cancel", response_model=VersionOut, responses=error_responses(409))
def cancel(version_id: IdPath, session: SessionDep, supervisor: CurrentSupervisor) -> VersionOut:
    """Stop a queued or running training; the serving model is untouched."""
    begin_write(session)
    return _out(service.cancel(session, version_id=version_id, agent=supervisor), None, set())


@router.post("/{version_id}/promote", response_model=DeploymentOut, responses=error_responses(
    409, 422, notes={409: "gate_refused, not_promotable", 422: "model_refused: corrupt or of another domain"}))
def promote(version_id: IdPath, body: PromoteIn, session: SessionDep, supervisor: CurrentSupervisor) -> DeploymentOut:
    """Serve a candidate that passed the gate (an admin may override a refusal with a written reason)."""
    begin_write(session)
    return DeploymentOut.model_validate(service.promote(session, version_id=version_id, agent=supervisor,
                                                        override_reason=body.override_reason))


@router.post("/{version_id}/rollback", response_model=DeploymentOut, responses=error_responses(409, 422))
def rollback(version_id: IdPath, session: SessionDep, supervisor: CurrentSupervisor) -> DeploymentOut:
    """Serve again a version that served before."""
    begin_write(session)
    return DeploymentOut.model_validate(service.rollback(session, version_id=version_id, agent=supervisor))


@router.get("/serving", responses={200: {"content": {"application/gzip": {}}}, 304: {"description": "Not Modified"},
                                   **error_responses(404, notes={404: "no_model: nothing deployed yet"})})
def serving_model(session: SessionDep, _: ServiceAuth,
                  if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """Rasa's model server: the serving archive, with its SHA-256 as ETag (304 when Rasa already has it)."""
    path, sha = service.serving_archive(session)
    if if_none_match and if_none_match.strip('"') == sha:
        return Response(status_code=304, headers={"etag": sha})
    return FileResponse(path, media_type="application/gzip",
                        headers={"etag": sha, "filename": f"kefu-{sha[:16]}.tar.gz"})


@router.post("/trainings/claim", response_model=ClaimOut, responses={204: {"description": "No training queued"}})
def claim(session: SessionDep, _: ServiceAuth) -> Response | ClaimOut:
    """The training worker takes the oldest queued training (204 when there is none)."""
    begin_write(session)
    claimed = service.claim(session)
    if claimed is None:
        return Response(status_code=204)
    version, payload = claimed
    return ClaimOut(id=version.id, baseline_id=version.baseline_id, annotations=version.annotations, **payload)


@router.post("/{version_id}/progress", response_model=ProgressOut)
def progress(version_id: IdPath, body: ProgressIn, session: SessionDep, _: ServiceAuth) -> ProgressOut:
    """The worker's progress; `status` "cancelled" tells it to stop."""
    begin_write(session)
    version = service.report(session, version_id=version_id, stage=body.stage, progress=body.progress)
    return ProgressOut(id=version.id, status=version.status)


@router.put("/{version_id}/archive", response_model=VersionOut, responses=error_responses(409, 413, 422))
def upload_archive(version_id: IdPath, session: SessionDep, settings: SettingsDep, _: ServiceAuth,
                   file: Annotated[UploadFile, File()]) -> VersionOut:
    """The trained model archive (multipart `file`); refused unless it is a Rasa model."""
    sha, size = archive.save_stream(file.file, limit=settings.model_upload_limit_mb << 20)
    begin_write(session)
    return _out(service.attach_archive(session, version_id=version_id, sha256=sha, size=size), None, set())


@router.post("/{version_id}/evaluation", response_model=VersionOut, responses=error_responses(409))
def evaluation(version_id: IdPath, body: EvaluationIn, session: SessionDep, _: ServiceAuth) -> VersionOut:
    """Before/after figures on the held-out examples; the gate's verdict is computed here."""
    begin_write(session)
    figures = body.model_dump(exclude={"train_seconds"})
    return _out(service.record_evaluation(session, version_id=version_id, evaluation=figures,
                                          train_seconds=body.train_seconds), None, set())


@router.post("/{version_id}/failure", response_model=VersionOut)
def failure(version_id: IdPath, body: FailureIn, session: SessionDep, _: ServiceAuth) -> VersionOut:
    """The training failed; the serving model is untouched."""
    begin_write(session)
    return _out(service.fail(session, version_id=version_id, error=body.error), None, set())
