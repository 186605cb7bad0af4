"""Model roll-out on SQLite and PostgreSQL: the training worker's API, the gate, promotion (with an admin's
audited override), rollback, refused archives, and the model server Rasa pulls (ETag, 304, token)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.annotation.models import Annotation
from crm_backend.core.db import utcnow
from crm_backend.handoff.models import AuditLog
from crm_backend.rollout import service
from crm_backend.rollout.models import ModelVersion
from testing.handoff import another_client, login

ROOT = Path(__file__).resolve().parents[3]
DOMAIN_INTENTS = sorted(i if isinstance(i, str) else next(iter(i))
                        for i in yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


def fake_model(folder: Path, name: str, *, intents: list[str] | None = None, filler: int = 1_500_000) -> Path:
    """A tar.gz shaped like a Rasa model: metadata.json with a domain, plus incompressible bytes."""
    path = folder / f"{name}.tar.gz"
    meta = json.dumps({"domain": {"intents": intents if intents is not None else DOMAIN_INTENTS},
                       "rasa_open_source_version": "3.6.21"}).encode()
    with tarfile.open(path, "w:gz") as out:
        for member, data in (("components/blob.bin", os.urandom(filler) + b"\x00" * 64), ("metadata.json", meta)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path


def scores(accuracy: float, f1: float = 1.0, version_id: int | None = None) -> dict[str, Any]:
    return {"version_id": version_id, "accuracy": accuracy,
            "splits": {"nlu_test": {"n": 100, "accuracy": accuracy}, "annotations": {"n": 0, "accuracy": 0.0}},
            "per_intent": {"greet": {"f1": f1, "support": 16}, "faq": {"f1": 0.98, "support": 112}}}


def serve_repo_model(session: Session, tmp_path: Path) -> ModelVersion:
    version, deployed = service.register_repo_model(session, path=fake_model(tmp_path, "repo"), fingerprint="abc")
    assert deployed
    session.flush()
    return version


def trained_candidate(client: TestClient, worker: dict[str, str], tmp_path: Path, *, after: dict[str, Any],
                      before: dict[str, Any] | None, intents: list[str] | None = None) -> int:
    """Queue a training as the logged-in supervisor and play the training worker's part to the end."""
    queued = client.post("/api/v1/models/trainings")
    assert queued.status_code == 202, queued.text
    claimed = client.post("/api/v1/models/trainings/claim", headers=worker)
    assert claimed.status_code == 200, claimed.text
    version_id = int(claimed.json()["id"])
    assert client.post(f"/api/v1/models/{version_id}/progress", headers=worker,
                       json={"stage": "training epoch 3/40", "progress": 0.3}).json()["status"] == "training"
    model = fake_model(tmp_path, f"candidate-{version_id}", intents=intents)
    with model.open("rb") as source:
        uploaded = client.put(f"/api/v1/models/{version_id}/archive", headers=worker,
                              files={"file": (model.name, source, "application/gzip")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["status"] == "evaluating"
    done = client.post(f"/api/v1/models/{version_id}/evaluation", headers=worker,
                       json={"before": before, "after": after, "train_seconds": 95.0})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ready"
    return version_id


def pull(client: TestClient, worker: dict[str, str], etag: str | None = None) -> Any:
    return client.get("/api/v1/models/serving", headers={**worker, **({"If-None-Match": etag} if etag else {})})


def test_the_model_server_serves_the_deployed_archive_with_its_hash_as_etag(
        client: TestClient, session: Session, service_headers: dict[str, str], tmp_path: Path) -> None:
    assert pull(client, service_headers).status_code == 404
    version = serve_repo_model(session, tmp_path)
    first = pull(client, service_headers)
    assert first.status_code == 200 and first.headers["etag"] == version.sha256
    assert first.content == (tmp_path / "repo.tar.gz").read_bytes()
    assert first.headers["filename"].endswith(".tar.gz")
    assert pull(client, service_headers, etag=version.sha256).status_code == 304  # Rasa already has it
    assert pull(client, service_headers, etag="something-else").status_code == 200
    assert client.get("/api/v1/models/serving").status_code == 401  # no token, no model
    # ./kefu run again with the same data/: the same version, nothing redeployed.
    again, deployed = service.register_repo_model(session, path=tmp_path / "repo.tar.gz", fingerprint="abc")
    assert again.id == version.id and not deployed


def test_train_promote_and_roll_back(client: TestClient, session: Session, service_headers: dict[str, str],
                                     tmp_path: Path) -> None:
    repo = serve_repo_model(session, tmp_path)
    session.add(Annotation(language="zh", text_key="a" * 40, text="扣款金额好像不对", intent="file_complaint",
                           decision="changed"))
    session.flush()
    login(client, "supervisor")
    queued = client.post("/api/v1/models/trainings")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    busy = client.post("/api/v1/models/trainings", headers={"Accept-Language": "zh"})
    assert busy.status_code == 409 and "排队" in busy.json()["error"]["message"]  # one training at a time
    claim = client.post("/api/v1/models/trainings/claim", headers=service_headers).json()
    assert claim["baseline_id"] == repo.id and claim["heldout"] == []
    assert "- intent: file_complaint" in claim["annotations_yaml"] and "扣款金额好像不对" in claim["annotations_yaml"]
    assert client.post("/api/v1/models/trainings/claim", headers=service_headers).status_code == 204
    # The supervisor cancels it: the worker learns it at its next report; nothing changed for Rasa.
    assert client.post(f"/api/v1/models/{claim['id']}/cancel").json()["status"] == "cancelled"
    assert client.post(f"/api/v1/models/{claim['id']}/progress", headers=service_headers,
                       json={"stage": "training", "progress": 0.5}).json()["status"] == "cancelled"
    assert pull(client, service_headers).headers["etag"] == repo.sha256

    candidate = trained_candidate(client, service_headers, tmp_path, before=scores(0.95, version_id=repo.id),
                                  after=scores(0.96))
    listed = client.get("/api/v1/models").json()
    assert listed["serving_id"] == repo.id
    row = next(v for v in listed["items"] if v["id"] == candidate)
    assert row["gate"]["passed"] and row["evaluation"]["after"]["accuracy"] == 0.96 and row["train_seconds"] == 95.0
    promoted = client.post(f"/api/v1/models/{candidate}/promote", json={})
    assert promoted.status_code == 200 and promoted.json()["action"] == "promote"
    new_sha = pull(client, service_headers).headers["etag"]
    assert new_sha != repo.sha256  # every Rasa instance sees a new ETag at its next pull
    assert client.post(f"/api/v1/models/{candidate}/promote", json={}).status_code == 409  # already serving

    back = client.post(f"/api/v1/models/{repo.id}/rollback")
    assert back.status_code == 200 and back.json()["action"] == "rollback"
    assert pull(client, service_headers).headers["etag"] == repo.sha256
    history = client.get("/api/v1/models").json()
    assert [d["action"] for d in history["deployments"]] == ["rollback", "promote", "repo"]
    assert history["deployments"][0]["agent_name"]
    assert client.post(f"/api/v1/models/{candidate}/rollback").status_code == 200  # and forward again
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.action.like("model_%"))))
    assert {"model_train", "model_cancel", "model_promote", "model_rollback", "model_repo"} <= actions


def test_a_refused_candidate_needs_an_admin_and_a_written_reason(
        app: FastAPI, client: TestClient, session: Session, service_headers: dict[str, str], tmp_path: Path) -> None:
    repo = serve_repo_model(session, tmp_path)
    login(client, "supervisor")
    candidate = trained_candidate(client, service_headers, tmp_path, before=scores(0.95, 0.90, version_id=repo.id),
                                  after=scores(0.95, 0.86))
    refused = client.post(f"/api/v1/models/{candidate}/promote", json={}, headers={"Accept-Language": "zh"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "gate_refused"
    assert "greet" in refused.json()["error"]["message"] and "门禁" in refused.json()["error"]["message"]
    not_admin = client.post(f"/api/v1/models/{candidate}/promote", json={"override_reason": "peak season, ok"})
    assert not_admin.status_code == 403
    with another_client(app) as admin:
        login(admin, "admin")
        short = admin.post(f"/api/v1/models/{candidate}/promote", json={"override_reason": "ok"})
        assert short.status_code == 422
        reason = "greet F1 loss is one example; the complaint fix matters more"
        done = admin.post(f"/api/v1/models/{candidate}/promote", json={"override_reason": reason})
        assert done.status_code == 200 and done.json()["action"] == "override" and done.json()["reason"] == reason
    audited = session.scalars(select(AuditLog).where(AuditLog.action == "model_override")).one()
    assert reason in audited.details
    assert pull(client, service_headers).headers["etag"] != repo.sha256


def test_corrupt_and_foreign_models_are_refused_with_a_clear_message(
        client: TestClient, session: Session, service_headers: dict[str, str], tmp_path: Path,
        model_store: Path) -> None:
    repo = serve_repo_model(session, tmp_path)
    login(client, "supervisor")
    client.post("/api/v1/models/trainings")
    version_id = client.post("/api/v1/models/trainings/claim", headers=service_headers).json()["id"]
    garbage = client.put(f"/api/v1/models/{version_id}/archive", headers=service_headers,
                         files={"file": ("x.tar.gz", b"\x1f\x8b not really gzip \x00", "application/gzip")})
    assert garbage.status_code == 422 and "corrupt" in garbage.json()["error"]["message"]
    client.post(f"/api/v1/models/{version_id}/failure", headers=service_headers, json={"error": "bad upload"})

    # Trained on another domain: stored, evaluated, but never served.
    foreign = trained_candidate(client, service_headers, tmp_path, before=scores(0.9, version_id=repo.id),
                                after=scores(0.95), intents=["greet", "order_pizza"])
    refused = client.post(f"/api/v1/models/{foreign}/promote", json={}, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "another domain" in refused.json()["error"]["message"]
    assert "order_pizza" in refused.json()["error"]["message"]

    # A good candidate whose file was damaged on disk after it was stored.
    good = trained_candidate(client, service_headers, tmp_path, before=scores(0.9, version_id=repo.id),
                             after=scores(0.95))
    stored = model_store / f"{session.get(ModelVersion, good).sha256}.tar.gz"  # type: ignore[union-attr]
    stored.write_bytes(stored.read_bytes()[:1000])
    damaged = client.post(f"/api/v1/models/{good}/promote", json={}, headers={"Accept-Language": "zh"})
    assert damaged.status_code == 422 and "校验和" in damaged.json()["error"]["message"]
    assert pull(client, service_headers).headers["etag"] == repo.sha256  # still the old model


def test_a_candidate_evaluated_against_an_older_model_must_be_retrained(
        client: TestClient, session: Session, service_headers: dict[str, str], tmp_path: Path) -> None:
    repo = serve_repo_model(session, tmp_path)
    login(client, "supervisor")
    first = trained_candidate(client, service_headers, tmp_path, before=scores(0.9, version_id=repo.id),
                              after=scores(0.95))
    second = trained_candidate(client, service_headers, tmp_path, before=scores(0.9, version_id=repo.id),
                               after=scores(0.96))
    assert client.post(f"/api/v1/models/{first}/promote", json={}).status_code == 200
    stale = client.post(f"/api/v1/models/{second}/promote", json={})
    assert stale.status_code == 409 and "train again" in stale.json()["error"]["message"]


def test_only_supervisors_and_the_worker_token_reach_the_api(client: TestClient, session: Session,
                                                             tmp_path: Path) -> None:
    serve_repo_model(session, tmp_path)
    assert client.get("/api/v1/models").status_code == 401
    assert client.post("/api/v1/models/trainings/claim").status_code == 401
    login(client, "agent1")
    assert client.get("/api/v1/models").status_code == 403
    assert client.post("/api/v1/models/trainings").status_code == 403
    assert client.get("/console/models", follow_redirects=False).headers["location"] == "/console"


def test_a_training_whose_worker_vanished_is_failed_and_a_new_one_may_start(
        client: TestClient, session: Session, service_headers: dict[str, str]) -> None:
    login(client, "supervisor")
    client.post("/api/v1/models/trainings")
    claimed = client.post("/api/v1/models/trainings/claim", headers=service_headers).json()
    version = session.get(ModelVersion, claimed["id"])
    assert version is not None
    version.heartbeat_at = utcnow() - timedelta(minutes=11)
    session.flush()
    again = client.post("/api/v1/models/trainings")
    assert again.status_code == 202
    session.refresh(version)
    assert version.status == "failed" and "stopped reporting" in (version.error or "")


@pytest.mark.parametrize("count, held", [(4, 0), (10, 2)])
def test_annotations_are_held_out_only_once_an_intent_has_enough(session: Session, count: int, held: int) -> None:
    rows = [Annotation(language="en", text_key=f"{i:08x}" + "0" * 32, text=f"m{i}", intent="greet",
                       decision="changed") for i in range(count)]
    train, heldout = service._split(rows)
    assert len(heldout) == held and len(train) + len(heldout) == count
