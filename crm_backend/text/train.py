"""Train the spaCy text classifiers: ``python -m crm_backend.text.train``.

One blank pipeline per language (``spacy.blank("zh")`` segments by character, no downloads) and
task, each with an exclusive ``textcat``. Models go to ``var/text_models/<data fingerprint>/<lang>_<task>``.
"""

import random
import shutil
import tempfile
import time
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example as SpacyExample

from crm_backend.text.data import LABELS, LANGUAGES, TASKS, Example, Task, data_fingerprint, load_examples, models_root

EPOCHS = 15
SEED = 7

# Bag-of-n-grams + a small CNN over hashed prefix/suffix/shape features: the n-grams carry the
# vocabulary, the subword features tolerate typos ("delivry", "refnd").
TEXTCAT_MODEL = {
    "@architectures": "spacy.TextCatEnsemble.v2",
    "linear_model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
    },
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 64,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [2000, 1000, 1000, 500],
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 64,
            "window_size": 1,
            "maxout_pieces": 3,
            "depth": 2,
        },
    },
}


def normalise(text: str) -> str:
    """The form the classifiers see: lower-cased, surrounding blanks removed."""
    return text.strip().lower()


def train_one(language: str, task: Task, examples: list[Example]) -> Language:
    """Train one exclusive text classifier for ``task`` on ``examples``."""
    spacy.util.fix_random_seed(SEED)
    nlp = spacy.blank(language)
    textcat = nlp.add_pipe("textcat", config={"model": TEXTCAT_MODEL})
    for label in LABELS[task]:
        textcat.add_label(label)  # type: ignore[attr-defined]
    data = [
        SpacyExample.from_dict(
            nlp.make_doc(normalise(e.text)),
            {"cats": {label: float(label == e.label(task)) for label in LABELS[task]}},
        )
        for e in examples
    ]
    optimizer = nlp.initialize(lambda: data)
    rng = random.Random(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(data)
        for batch in spacy.util.minibatch(data, size=8):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def train_all(target: Path | None = None) -> Path:
    """Train every language × task and write them atomically under ``target`` (default: the cache dir)."""
    target = target or models_root() / data_fingerprint()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".training-", dir=target.parent))
    try:
        for language in LANGUAGES:
            examples = load_examples(language, "train")
            for task in TASKS:
                train_one(language, task, examples).to_disk(tmp / f"{language}_{task}")
        try:
            tmp.rename(target)
        except OSError:
            # Another process finished first; its models come from the same data.
            if not target.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def main() -> None:
    """Train and print where the models went and how long it took."""
    started = time.perf_counter()
    target = train_all()
    print(f"text models written to {target} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
