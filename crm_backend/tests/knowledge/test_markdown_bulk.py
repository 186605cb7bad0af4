"""Safe Markdown rendering, tokens, and the bulk Markdown/CSV formats (no database)."""

from __future__ import annotations

import pytest

from crm_backend.knowledge.bulk import parse_csv, parse_markdown, to_csv, to_markdown
from crm_backend.knowledge.errors import ImportFailed
from crm_backend.knowledge.evaluate import demo_articles
from crm_backend.knowledge.markdown import plain_text, render_html
from crm_backend.knowledge.text import tokens

CATEGORIES_NEEDED = {"shipping", "returns", "payments", "invoices", "membership", "points", "account", "privacy",
                     "stores", "product-care", "after-sales"}


def test_unsafe_html_in_markdown_is_shown_as_text_and_script_links_are_dropped() -> None:
    html = render_html('Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) **ok**')
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html
    assert "&lt;script&gt;" in html and "<strong>ok</strong>" in html
    assert plain_text("**Bold** text\n\n- one\n- two") == "Bold text\none\ntwo"


def test_tokens_cut_chinese_with_jieba_and_stem_english() -> None:
    assert "运费" in tokens("不满99要付运费吗") and "吗" not in tokens("不满99要付运费吗")
    assert tokens("Returned parcels") == ["return", "parcel"]
    assert {"快递", "order"} <= set(tokens("我的order快递到哪了"))  # mixed input keeps both languages
    # A suffixed word meets its base form: a doubled consonant and a final 'e' are dropped too.
    assert tokens("shipping charged cancelled") == tokens("ship charge cancel")


def test_demo_content_has_80_articles_per_language_in_every_category() -> None:
    articles = demo_articles()
    assert sum("zh" in a.versions for a in articles) >= 80
    assert sum("en" in a.versions for a in articles) >= 80
    assert {a.category for a in articles} >= CATEGORIES_NEEDED
    assert len({a.slug for a in articles}) == len(articles)


def test_markdown_and_csv_round_trip_every_demo_article() -> None:
    articles = demo_articles()
    for text, parse in ((to_markdown(articles), parse_markdown), (to_csv(articles), parse_csv)):
        again = parse(text)
        assert [(a.slug, a.category, a.tags, a.versions) for a in again] == [
            (a.slug, a.category, a.tags, a.versions) for a in articles]


@pytest.mark.parametrize(("text", "fragment"), [
    ("just some text", "No article found"),
    ("---\nslug: x\ncategory: shipping\n---\nno sections here\n", "no '=== zh: title'"),
    ("---\nslug: x\ncategory: [unclosed\n---\n=== en: T\nbody\n", "not valid YAML"),
])
def test_malformed_markdown_import_names_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_markdown(text)
    assert fragment in caught.value.message_en and caught.value.message_zh != caught.value.message_en


def test_csv_without_the_columns_is_refused() -> None:
    with pytest.raises(ImportFailed, match="missing columns"):
        parse_csv("slug,title\nx,y\n")


def test_shipped_vectors_cover_every_demo_version_so_seeding_needs_no_embedding() -> None:
    from crm_backend.knowledge import search

    search._precomputed.cache_clear()
    shipped = search._precomputed()
    missing = [(a.slug, lang) for a in demo_articles() for lang, (title, body, questions) in a.versions.items()
               if f"b{search.version_key(title, body, a.tags)}" not in shipped
               or any(f"q{search.question_key(q)}" not in shipped for q in questions)]
    assert missing == [], f"run `python -m crm_backend.knowledge.precompute`: {missing[:5]}"


def test_every_demo_version_lists_the_customers_questions_it_answers() -> None:
    thin = [(a.slug, lang) for a in demo_articles() for lang, version in a.versions.items()
            if len(version.questions) < 5]
    assert thin == []


def test_questions_sit_under_the_title_and_the_body_starts_after_them() -> None:
    text = ("---\nslug: umbrella\ncategory: stores\n---\n=== zh: 门店可以借伞吗？\n? 下雨了能借把伞吗\n? 借伞要押金吗\n"
            "可以，免费借用。\n? 这一行是正文\n\n=== en: Can I borrow an umbrella?\nYes, for free.\n")
    [article] = parse_markdown(text)
    assert article.versions["zh"].questions == ("下雨了能借把伞吗", "借伞要押金吗")
    assert article.versions["zh"].body == "可以，免费借用。\n? 这一行是正文"
    assert article.versions["en"].questions == () and article.versions["en"].body == "Yes, for free."
    # A CSV written before the questions column existed still imports.
    [old] = parse_csv("slug,category,tags,status,language,title,body\numbrella,stores,,,en,Umbrella?,Yes.\n")
    assert old.versions["en"] == ("Umbrella?", "Yes.", ())
