"""Suggestion quality on the held-out copilot sets: `python -m crm_backend.copilot.evaluate [--gate] [folder]`.

Each line of a `<lang>.tsv` is `customer message<TAB>reply a good agent would send<TAB>right suggestions`
(`canned:<code>` / `kb:<slug>`, comma-separated). A message counts when one of its right suggestions is in
the top 3, ranked exactly as the console ranks them (canned replies and the demo help articles; earlier
agent replies do not exist offline). Two sets: `heldout/` (written by the author of the cues) and
`heldout/independent/` (written by someone who never saw the ranking code); the figures are per set and for
both together. Writes bench/results/copilot_heldout.json. With `--gate`, exit status 1 when a language is
under 85 % on both sets together (not yet met: `./kefu test` reports the figures without the gate).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from crm_backend.copilot.suggest import canned_suggestions, knowledge_suggestions, rank
from crm_backend.knowledge.evaluate import demo_index
from crm_backend.knowledge.search import SearchIndex

HELDOUT = Path(__file__).parents[1] / "tests" / "copilot" / "heldout"
RESULTS = Path(__file__).parents[2] / "bench" / "results" / "copilot_heldout.json"
GATE_TOP3 = 0.85


def read_set(path: Path) -> list[tuple[str, set[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            message, _reply, right = line.split("\t")
            rows.append((message.strip(), {r.strip() for r in right.split(",") if r.strip()}))
    return rows


@dataclass
class Result:
    language: str
    total: int = 0
    in_top3: int = 0
    top1: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top3_share(self) -> float:
        return self.in_top3 / self.total if self.total else 0.0


def evaluate(index: SearchIndex, rows: list[tuple[str, set[str]]], *, language: str) -> Result:
    slugs = {str(doc.article_id): doc.slug for doc in index.docs}
    result = Result(language)
    for message, right in rows:
        top = rank(canned_suggestions(message, language, {}) + knowledge_suggestions(index, message, language), {})
        names = [f"canned:{s.key}" if s.source == "canned" else f"kb:{slugs[s.key]}" for s in top]
        result.total += 1
        if right & set(names):
            result.in_top3 += 1
            result.top1 += names[0] in right
        else:
            result.misses.append(f"{message} → {names} expected {sorted(right)}")
    return result


def main(argv: list[str]) -> int:
    gate = "--gate" in argv
    args = [a for a in argv if a != "--gate"]
    folder = Path(args[0]) if args else HELDOUT
    sets = [folder] + sorted(p for p in folder.iterdir() if p.is_dir())
    started = time.monotonic()
    index = demo_index()
    print(f"index: {index.size} article versions in {time.monotonic() - started:.1f} s")
    figures: dict[str, dict[str, dict[str, float | int]]] = {}
    passed = True
    for language in ("zh", "en"):
        together = Result(language)
        for path in sets:
            result = evaluate(index, read_set(path / f"{language}.tsv"), language=language)
            name = path.name if path != folder else "author"
            figures.setdefault(name, {})[language] = {"messages": result.total, "in_top3": result.in_top3,
                                                      "first": result.top1, "top3_share": round(result.top3_share, 4)}
            print(f"{language} [{name}]: right suggestion in the top 3 for {result.in_top3}/{result.total} = "
                  f"{result.top3_share:.1%} (first: {result.top1})")
            for miss in result.misses:
                print(f"   {miss}")
            together.total += result.total
            together.in_top3 += result.in_top3
            together.top1 += result.top1
        figures.setdefault("both", {})[language] = {"messages": together.total, "in_top3": together.in_top3,
                                                    "first": together.top1,
                                                    "top3_share": round(together.top3_share, 4)}
        print(f"{language} [both]: {together.in_top3}/{together.total} = {together.top3_share:.1%}")
        passed = passed and together.top3_share >= GATE_TOP3
    verdict = "PASSED" if passed else "MISSED"
    print(f"gate (top-3 ≥ {GATE_TOP3:.0%} per language, both sets): {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"gate_top3": GATE_TOP3, "gate": verdict, "sets": figures}, indent=2) + "\n")
    return 1 if gate and not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
