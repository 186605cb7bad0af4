"""Fast scikit-learn level candidates: the same maths as `bot.classifiers`, without Rasa around it.

Used to choose the design and its hyper-parameters on a validation split carved from TRAIN;
the chosen configuration is then run as a real Rasa pipeline (see `rasa_runner`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from bench.banking77.data import Split


@dataclass
class Score:
    """Accuracy and macro-F1 of predictions against gold labels."""

    accuracy: float
    macro_f1: float


def score(gold: list[str], predicted: np.ndarray) -> Score:
    """Accuracy and macro-F1."""
    return Score(float(accuracy_score(gold, predicted)), float(f1_score(gold, predicted, average="macro")))


def validation_split(train: Split, fraction: float = 0.1, seed: int = 0) -> tuple[Split, Split]:
    """Stratified (fit, validation) split of the training set; the test set is never used for tuning."""
    fit_x, val_x, fit_y, val_y = train_test_split(
        train.texts, train.labels, test_size=fraction, stratify=train.labels, random_state=seed
    )
    return Split(list(fit_x), list(fit_y)), Split(list(val_x), list(val_y))


class SparseFeatures:
    """Word 1–2-gram and char_wb 2–5-gram sublinear tf-idf, each block l2-normalised."""

    def __init__(self) -> None:
        """Unfitted vectorizers."""
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)

    def fit_transform(self, texts: list[str]) -> scipy.sparse.csr_matrix:
        """Fit idf on `texts` and transform them."""
        return scipy.sparse.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr")

    def transform(self, texts: list[str]) -> scipy.sparse.csr_matrix:
        """Transform with the fitted idf."""
        return scipy.sparse.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")


def combine(
    sparse: scipy.sparse.csr_matrix | None, dense: np.ndarray | None, dense_weight: float
) -> scipy.sparse.csr_matrix:
    """hstack the sparse block and the l2-normalised dense block scaled by `dense_weight`."""
    blocks = []
    if sparse is not None:
        blocks.append(sparse)
    if dense is not None:
        blocks.append(scipy.sparse.csr_matrix(normalize(dense) * dense_weight))
    return scipy.sparse.hstack(blocks, format="csr")


@dataclass
class Candidate:
    """One design: which feature blocks, and the grid of (C, dense_weight) to tune."""

    name: str
    use_sparse: bool
    use_dense: bool
    grid: list[tuple[float, float]]


CANDIDATES = [
    Candidate("tfidf word1-2 + char_wb2-5 · LinearSVC", True, False, [(0.3, 0.0), (1.0, 0.0)]),
    Candidate("e5-small embeddings · LinearSVC", False, True, [(3.0, 1.0), (10.0, 1.0)]),
    Candidate(
        "tfidf word+char + e5-small · LinearSVC", True, True,
        [(0.3, 2.0), (1.0, 2.0), (0.3, 3.0), (1.0, 3.0), (0.3, 4.0)],
    ),
]


def _features(candidate: Candidate, texts: list[str], dense: np.ndarray | None, dense_weight: float,
              vectorizer: SparseFeatures | None, fit: bool) -> scipy.sparse.csr_matrix:
    sparse = None
    if candidate.use_sparse and vectorizer is not None:
        sparse = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
    return combine(sparse, dense if candidate.use_dense else None, dense_weight)


def tune(candidate: Candidate, fit: Split, val: Split, fit_dense: np.ndarray, val_dense: np.ndarray,
         log: Callable[[str], None]) -> tuple[float, float, float]:
    """Best (C, dense_weight) by validation accuracy; returns (C, dense_weight, val_accuracy)."""
    best = (0.0, 0.0, -1.0)
    for c, weight in candidate.grid:
        vectorizer = SparseFeatures()
        x_fit = _features(candidate, fit.texts, fit_dense, weight, vectorizer, fit=True)
        x_val = _features(candidate, val.texts, val_dense, weight, vectorizer, fit=False)
        model = LinearSVC(C=c, random_state=42).fit(x_fit, fit.labels)
        accuracy = float(accuracy_score(val.labels, model.predict(x_val)))
        log(f"  tune {candidate.name}: C={c} dense_weight={weight} -> val acc {accuracy:.4f}")
        if accuracy > best[2]:
            best = (c, weight, accuracy)
    return best


def evaluate(candidate: Candidate, c: float, dense_weight: float, train: Split, test: Split,
             train_dense: np.ndarray, test_dense: np.ndarray) -> tuple[Score, float, float]:
    """Fit on all of TRAIN, score on TEST; returns (score, fit seconds, predict seconds) without embedding time."""
    started = time.monotonic()
    vectorizer = SparseFeatures()
    x_train = _features(candidate, train.texts, train_dense, dense_weight, vectorizer, fit=True)
    model = LinearSVC(C=c, random_state=42).fit(x_train, train.labels)
    fit_seconds = time.monotonic() - started
    started = time.monotonic()
    predicted = model.predict(_features(candidate, test.texts, test_dense, dense_weight, vectorizer, fit=False))
    return score(test.labels, predicted), fit_seconds, time.monotonic() - started
