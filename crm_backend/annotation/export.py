"""Annotations as Rasa NLU training data (`./kefu export-annotations`), for developers to commit.

Every annotation becomes an example of its intent (out-of-scope ones of `out_of_scope`); an intent the
domain no longer has is left out and reported, so the exported file always passes `rasa data validate`.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from crm_backend.annotation.models import Annotation
from crm_backend.annotation.service import intents
from crm_backend.core.db import get_sessionmaker

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "nlu" / "annotations.yml"


def _example(text: str) -> str:
    # One line per example: newlines would end the block, and a leading "-" or quote is fine inside it.
    return " ".join(text.split())


def to_yaml(rows: list[Annotation], known: set[str]) -> tuple[str, list[str]]:
    """The Rasa YAML text and the intents left out because the domain does not have them."""
    by_intent: dict[str, set[str]] = defaultdict(set)
    skipped = []
    for row in rows:
        if known and row.intent not in known:
            skipped.append(row.intent)
            continue
        by_intent[row.intent].add(_example(row.text))
    lines = ['version: "3.1"', "# Written by ./kefu export-annotations from the supervisors' NLU inbox.", "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in sorted(by_intent[intent])]
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n", sorted(set(skipped))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    with get_sessionmaker()() as session:
        rows = list(session.scalars(select(Annotation).order_by(Annotation.id)))
        known = set(intents(session))
    text, skipped = to_yaml(rows, known)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"{len(rows) - sum(1 for r in rows if r.intent in skipped)} annotations → {out}")
    if skipped:
        print(f"left out (not in the domain): {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
