"""Scoring of the hybrid index on the demo articles plus a supervisor's new article that lists no customer questions."""

from __future__ import annotations

import pytest

from crm_backend.knowledge.evaluate import demo_index, demo_unanswered
from crm_backend.knowledge.search import (
    ANSWER_THRESHOLD,
    QUESTIONLESS_OFFSET,
    Doc,
    SearchIndex,
    embed_questions,
    embed_version,
)

GIFT_WRAP = {
    "zh": ("可以提供礼品包装吗？", "可以。结算时勾选“礼品包装”，每件收费 10 元，包装内不含价格单。"),
    "en": ("Do you offer gift wrapping?",
           "Yes. Tick Gift wrapping at checkout; it costs ¥10 per item and no price list is included."),
}


def gift_wrapping(saved_at: float) -> list[Doc]:
    return [Doc(10_000, "gift-wrapping", "general", language, title, body, ("礼品包装", "gift wrap"),
                *embed_version(title, body, ["礼品包装", "gift wrap"]), saved_at=saved_at)
            for language, (title, body) in GIFT_WRAP.items()]


@pytest.fixture(scope="module")
def demo() -> SearchIndex:
    """The demo articles (saved at 0) and the questions the demo records as not answered (recorded at 1)."""
    return demo_index()


@pytest.fixture(scope="module")
def mixed_index(demo: SearchIndex) -> SearchIndex:
    """… plus a supervisor's new article, saved after the questions were recorded."""
    return SearchIndex([*demo.docs, *gift_wrapping(saved_at=2.0)], demo.unanswered)


@pytest.mark.parametrize(("question", "language"), [("礼物可以帮忙包装吗", "zh"), ("能帮忙包装成礼物吗", "zh"),
                                                    ("can you wrap my present", "en"),
                                                    ("is gift wrap available, it's for my mum", "en")])
def test_a_new_article_without_customer_questions_answers_a_paraphrase(
        mixed_index: SearchIndex, question: str, language: str) -> None:
    top = mixed_index.search(question, language=language, limit=1)[0]
    assert top.slug == "gift-wrapping" and top.language == language
    assert top.score >= ANSWER_THRESHOLD, f"{question!r} scored {top.score}"


@pytest.mark.parametrize(("question", "language", "slug"), [
    ("下单后多久发货", "zh", "shipping-dispatch-time"), ("how soon will my order ship", "en", "shipping-dispatch-time"),
    ("积分什么时候过期", "zh", "points-expiry"), ("do my points expire", "en", "points-expiry")])
def test_the_offset_does_not_take_questions_from_articles_that_list_them(
        mixed_index: SearchIndex, question: str, language: str, slug: str) -> None:
    top = mixed_index.search(question, language=language, limit=1)[0]
    assert top.slug == slug and top.score >= ANSWER_THRESHOLD


@pytest.mark.parametrize(("question", "language"), [("明天上海会下雨吗", "zh"), ("tell me a joke about cats", "en")])
def test_unrelated_questions_are_still_declined(mixed_index: SearchIndex, question: str, language: str) -> None:
    top = mixed_index.search(question, language=language, limit=1)[0]
    assert top.score < ANSWER_THRESHOLD, f"{question!r} → {top.slug} {top.score}"


def test_only_versions_without_questions_get_the_offset(mixed_index: SearchIndex) -> None:
    asked = [d for d in mixed_index.docs if d.questions]
    assert len(asked) == len(mixed_index.docs) - 2 and QUESTIONLESS_OFFSET > 0
    offsets = {d.slug: float(mixed_index._questionless[i]) for i, d in enumerate(mixed_index.docs)}
    assert offsets["gift-wrapping"] == pytest.approx(QUESTIONLESS_OFFSET) and offsets["points-expiry"] == 0.0


@pytest.mark.parametrize(("question", "language"), [
    ("淘宝客服电话是多少", "zh"), ("我在拼多多上买的东西怎么退", "zh"), ("京东的客服电话多少", "zh"),
    ("What's Amazon's customer service number?", "en"), ("how do I track my taobao order", "en"),
    ("what time does IKEA close today?", "en")])
def test_a_question_about_another_shop_is_declined(mixed_index: SearchIndex, question: str, language: str) -> None:
    top = mixed_index.search(question, language=language, limit=1)[0]
    assert top.score < ANSWER_THRESHOLD, f"{question!r} → {top.slug} {top.score}"


@pytest.mark.parametrize(("question", "language"), [("京东物流一般几天到", "zh"),
                                                    ("does JD Logistics deliver my order?", "en")])
def test_an_article_that_names_the_other_shop_still_answers(
        mixed_index: SearchIndex, question: str, language: str) -> None:
    top = mixed_index.search(question, language=language, limit=1)[0]
    assert top.slug == "shipping-delivery-time" and top.score >= ANSWER_THRESHOLD, f"{top.slug} {top.score}"


def test_a_recorded_question_and_its_paraphrases_are_declined_but_the_article_keeps_its_own(demo: SearchIndex) -> None:
    nothing_recorded = SearchIndex(demo.docs)
    for question in ("发票能开成英文的吗", "发票可以开英文吗？"):
        assert nothing_recorded.search(question, language="zh", limit=1)[0].score >= ANSWER_THRESHOLD
        top = demo.search(question, language="zh", limit=1)[0]
        assert top.score < ANSWER_THRESHOLD, f"{question!r} → {top.slug} {top.score}"
    top = demo.search("电子发票在哪开", language="zh", limit=1)[0]
    assert top.slug == "invoices-request" and top.score >= ANSWER_THRESHOLD


def test_an_article_saved_after_the_question_was_recorded_answers_it(demo: SearchIndex) -> None:
    recorded = "能帮忙包装成礼物吗，送人的"
    assert ("zh", recorded) in [(language, q) for language, q in demo_unanswered()]
    before = SearchIndex([*demo.docs, *gift_wrapping(saved_at=0.5)], demo.unanswered)
    assert before.search(recorded, language="zh", limit=1)[0].score < ANSWER_THRESHOLD
    after = SearchIndex([*demo.docs, *gift_wrapping(saved_at=2.0)],
                        [(embed_questions([recorded]), 1.0)])
    top = after.search(recorded, language="zh", limit=1)[0]
    assert top.slug == "gift-wrapping" and top.score >= ANSWER_THRESHOLD
