"""Train and test a real Rasa NLU pipeline on Banking77 with the Rasa CLI, timing both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.banking77.data import REPO

RASA = Path(sys.executable).with_name("rasa")


@dataclass
class RasaResult:
    """Figures of one `rasa train nlu` + `rasa test nlu` run."""

    accuracy: float
    macro_f1: float
    train_seconds: float
    test_seconds: float
    seconds_per_epoch: float | None
    confidence_thresholds: dict[str, dict[str, float]]


def _run(cmd: list[str], log: Path) -> float:
    """Run `cmd` at low priority with the repo on PYTHONPATH; return wall seconds."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        # No training cache: a component restored from an earlier run would shorten the timing.
        "RASA_MAX_CACHE_SIZE": "0",
    }
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            ["nice", "-n", "10", *cmd], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    elapsed = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed with exit {code}; see {log}")
    return elapsed


def _epoch_seconds(log: Path) -> float | None:
    # Rasa's tqdm bar ends with e.g. "Epochs: 100%|██| 2/2 [02:41<00:00, 80.5s/it, ...]".
    matches = re.findall(r"Epochs: 100%.*?\[(\d+):(\d+)<", log.read_text(errors="replace"))
    if not matches:
        return None
    minutes, seconds = matches[-1]
    total = re.findall(r"Epochs: 100%\|[^|]*\|\s*(\d+)/\1", log.read_text(errors="replace"))
    epochs = int(total[-1]) if total else 1
    return (int(minutes) * 60 + int(seconds)) / epochs


def train_and_test(name: str, config_yaml: str, train_yml: Path, test_yml: Path, work: Path) -> RasaResult:
    """Write `config_yaml`, train on `train_yml`, evaluate on `test_yml`; everything under `work/name`."""
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    config.write_text(config_yaml, encoding="utf-8")
    train_log = folder / "train.log"
    train_seconds = _run(
        [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(train_yml), "--out", str(folder),
         "--fixed-model-name", "model"],
        train_log,
    )
    test_seconds = _run(
        [str(RASA), "test", "nlu", "--model", str(folder / "model.tar.gz"), "--nlu", str(test_yml),
         "--out", str(folder / "report"), "--no-plot", "--successes", "--no-warnings"],
        folder / "test.log",
    )
    report = json.loads((folder / "report" / "intent_report.json").read_text())
    return RasaResult(
        accuracy=float(report["accuracy"]),
        macro_f1=float(report["macro avg"]["f1-score"]),
        train_seconds=train_seconds,
        test_seconds=test_seconds,
        seconds_per_epoch=_epoch_seconds(train_log),
        confidence_thresholds=_thresholds(folder / "report"),
    )


def _thresholds(report: Path) -> dict[str, dict[str, float]]:
    """For FallbackClassifier thresholds: share of messages kept and their accuracy at each cut-off."""
    predictions = []
    for name, correct in (("intent_successes.json", True), ("intent_errors.json", False)):
        path = report / name
        if path.exists():
            rows = json.loads(path.read_text())
            predictions += [(float(row["intent_prediction"]["confidence"]), correct) for row in rows]
    out = {}
    for cut in (0.3, 0.5, 0.7):
        kept = [correct for confidence, correct in predictions if confidence >= cut]
        out[str(cut)] = {
            "kept": len(kept) / len(predictions) if predictions else 0.0,
            "accuracy_of_kept": sum(kept) / len(kept) if kept else 0.0,
        }
    return out
