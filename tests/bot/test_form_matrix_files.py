"""The generated form matrix (tests/e2e/form_matrix.yml, tests/stories/test_form_matrix.yml) is current."""

from __future__ import annotations

from scripts import generate_form_matrix as matrix


def test_generated_files_are_current() -> None:
    for path, text in ((matrix.DIALOGUES, matrix.render_dialogues()), (matrix.STORIES, matrix.render_stories())):
        assert path.read_text(encoding="utf-8") == text, \
            f"{path.name} is stale: run python scripts/generate_form_matrix.py and commit the output"


def test_matrix_covers_every_form_language_and_step() -> None:
    cases = matrix.dialogues()
    forms = {"complaint_form", "verify_form", "redeem_form", "csat_form", "nps_form", "suggestion_form"}
    for form in forms:
        for lang in matrix.LANGS:
            kinds = {t["kind"] for c in cases if (c["form"], c["lang"]) == (form, lang) for t in c["turns"]}
            assert {"opening", "answer", "question"} <= kinds and kinds & {"cancel", "cancel-confirm"}, (form, lang)
    assert len({c["id"] for c in cases}) == len(cases), "case ids must be unique"
