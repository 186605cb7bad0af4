"""Articles through the HTTP API on SQLite and PostgreSQL: editing, conflicts, import/export, answers, figures."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from testing.handoff import login

GIFT_WRAP: dict[str, Any] = {
    "slug": "gift-wrapping", "category": "general", "tags": ["礼品包装", "gift wrap"], "status": "draft",
    "zh": {"title": "可以提供礼品包装吗？", "body": "可以。结算时勾选“礼品包装”，每件收费 10 元，包装内不含价格单。"},
    "en": {"title": "Do you offer gift wrapping?",
           "body": "Yes. Tick Gift wrapping at checkout; it costs ¥10 per item and no price list is included."},
}


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/knowledge/articles", json={**GIFT_WRAP, **overrides})
    assert response.status_code == 201, response.text
    return dict(response.json())


def edit_body(article: dict[str, Any], *, en_body: str, version: int | None = None) -> dict[str, Any]:
    return {"version": article["version"] if version is None else version, "category": article["category"],
            "tags": article["tags"], "zh": {"title": article["zh"]["title"], "body": article["zh"]["body"]},
            "en": {"title": article["en"]["title"], "body": en_body}}


def test_editing_needs_a_supervisor_login(client: TestClient) -> None:
    assert client.get("/api/v1/knowledge/articles").status_code == 401
    login(client, "agent1")
    response = client.post("/api/v1/knowledge/articles", json=GIFT_WRAP, headers={"Accept-Language": "zh"})
    assert response.status_code == 403 and response.json()["error"]["message"] == "仅限主管"


def test_create_edit_and_revision_history_with_authors(supervisor: TestClient) -> None:
    article = create(supervisor, zh={"title": "礼品包装", "body": "<script>alert(1)</script>**可以**"})
    assert article["version"] == 1 and article["created_by"] == "supervisor"
    assert "<script>" not in article["zh"]["html"] and "&lt;script&gt;" in article["zh"]["html"]
    saved = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}",
                           json=edit_body(article, en_body="Yes, ¥10 per item.")).json()
    assert saved["version"] == 2 and saved["en"]["body"] == "Yes, ¥10 per item."
    history = supervisor.get(f"/api/v1/knowledge/articles/{article['id']}/revisions").json()
    assert [(r["version"], r["author"]) for r in history] == [(2, "supervisor"), (1, "supervisor")]
    assert history[1]["snapshot"]["versions"]["en"]["body"] == GIFT_WRAP["en"]["body"]


def test_second_save_of_a_stale_version_is_refused_with_the_diff(supervisor: TestClient) -> None:
    article = create(supervisor)
    first = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}",
                           json=edit_body(article, en_body="Gift wrapping is free this month."))
    assert first.status_code == 200
    stale = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}",
                           json=edit_body(article, en_body="Gift wrapping costs ¥12."),
                           headers={"Accept-Language": "zh-CN"})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "article_conflict" and "版本 2" in error["message"]
    details = error["details"]
    assert details["current_version"] == 2 and details["your_version"] == 1
    assert details["diff"]["changed_since_yours"] == ["en.body"]
    assert "-Gift wrapping is free this month." in details["diff"]["fields"]["en.body"]
    assert "+Gift wrapping costs ¥12." in details["diff"]["fields"]["en.body"]
    kept = supervisor.get(f"/api/v1/knowledge/articles/{article['id']}").json()
    assert kept["en"]["body"] == "Gift wrapping is free this month." and kept["version"] == 2


def test_empty_oversized_and_duplicate_articles_are_refused_in_both_languages(supervisor: TestClient) -> None:
    empty = supervisor.post("/api/v1/knowledge/articles", json={**GIFT_WRAP, "zh": {"title": "标题", "body": "  "}},
                            headers={"Accept-Language": "zh"})
    assert empty.status_code == 422 and empty.json()["error"]["message"] == "中文版本需要标题和正文"
    huge = supervisor.post("/api/v1/knowledge/articles", json={**GIFT_WRAP, "en": {"title": "T", "body": "x" * 20_001}})
    assert huge.status_code == 422 and "longer than 20,000 characters" in huge.json()["error"]["message"]
    neither = supervisor.post("/api/v1/knowledge/articles", json={**GIFT_WRAP, "zh": None, "en": None})
    assert neither.status_code == 422 and "Chinese or an English version" in neither.json()["error"]["message"]
    create(supervisor)
    again = supervisor.post("/api/v1/knowledge/articles", json=GIFT_WRAP)
    assert again.status_code == 409 and again.json()["error"]["code"] == "slug_taken"
    listed = supervisor.get("/api/v1/knowledge/articles?q=gift").json()
    assert listed["total"] == 1


def test_customer_questions_are_saved_kept_on_an_edit_without_them_and_exported(supervisor: TestClient) -> None:
    questions = ["送人的礼物能包起来吗", "包装要另外付钱吗"]
    article = create(supervisor, zh={**GIFT_WRAP["zh"], "questions": [*questions, " ", questions[0]]})
    assert article["zh"]["questions"] == questions and article["en"]["questions"] == []
    # An edit that does not send the questions (an older API client) keeps them; an empty list clears them.
    kept = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}",
                          json=edit_body(article, en_body="Yes, ¥10 per item.")).json()
    assert kept["zh"]["questions"] == questions and kept["version"] == 2
    revisions = supervisor.get(f"/api/v1/knowledge/articles/{article['id']}/revisions").json()
    assert revisions[0]["snapshot"]["versions"]["zh"]["questions"] == questions
    assert "? 送人的礼物能包起来吗\n? 包装要另外付钱吗\n可以。" in supervisor.get("/api/v1/knowledge/export").text
    too_many = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}", headers={"Accept-Language": "zh"},
                              json={**edit_body(kept, en_body="Yes."),
                                    "zh": {**GIFT_WRAP["zh"], "questions": [f"问法{i}" for i in range(31)]}})
    assert too_many.status_code == 422 and "最多 30 个常见问法" in too_many.json()["error"]["message"]
    cleared = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}",
                             json={**edit_body(kept, en_body="Yes."), "zh": {**GIFT_WRAP["zh"], "questions": []}})
    assert cleared.json()["zh"]["questions"] == [] and cleared.json()["version"] == 3


def test_published_article_is_answered_for_the_bot_and_unpublished_is_not(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    article = create(supervisor)
    question = {"question": "do you do gift wrapping for presents?", "language": "en", "conversation_id": "c1"}
    draft = supervisor.post("/api/v1/knowledge/answer", json=question, headers=service_headers).json()
    assert draft["answered"] is False
    published = supervisor.post(f"/api/v1/knowledge/articles/{article['id']}/status",
                                json={"version": 1, "status": "published"}).json()
    assert published["status"] == "published" and published["version"] == 2
    answer = supervisor.post("/api/v1/knowledge/answer", json=question, headers=service_headers).json()
    assert answer["answered"] is True and answer["article"]["slug"] == "gift-wrapping"
    assert answer["article"]["url"] == "/help/a/gift-wrapping?lang=en" and "¥10" in answer["article"]["passage"]
    zh = supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                         json={"question": "礼物可以帮忙包装吗", "language": "zh"}).json()
    assert zh["answered"] is True and zh["article"]["language"] == "zh"
    assert zh["article"]["title"] == "可以提供礼品包装吗？"
    supervisor.post(f"/api/v1/knowledge/articles/{article['id']}/status", json={"version": 2, "status": "draft"})
    gone = supervisor.post("/api/v1/knowledge/answer", json=question, headers=service_headers).json()
    assert gone["answered"] is False


def test_only_the_other_language_is_used_with_a_note(supervisor: TestClient, service_headers: dict[str, str]) -> None:
    article = create(supervisor, zh=None, status="published")
    assert article["zh"] is None
    answer = supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                             json={"question": "礼品包装怎么收费", "language": "zh"}).json()
    assert answer["answered"] is True and answer["other_language"] is True and answer["article"]["language"] == "en"


def test_unrelated_question_is_declined_and_listed_as_a_content_gap(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    create(supervisor, status="published")
    for _ in range(2):
        declined = supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                                   json={"question": "what is the capital of Australia", "language": "en"}).json()
        assert declined == {"answered": False, "article": None, "other_language": False, "score": 0.0}
    gaps = supervisor.get("/api/v1/knowledge/stats").json()["gaps"]
    assert gaps[0]["query"] == "what is the capital of australia" and gaps[0]["count"] == 2


def test_answers_views_and_feedback_are_counted_per_article(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    article = create(supervisor, status="published")
    supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                    json={"question": "gift wrapping price", "language": "en"})
    for helpful in (True, False, False):
        response = supervisor.post("/api/v1/knowledge/feedback", headers=service_headers, json={
            "article_id": article["id"], "helpful": helpful, "language": "en", "conversation_id": "c9"})
        assert response.status_code == 201
    page = supervisor.get("/help/a/gift-wrapping?lang=en")
    assert page.status_code == 200 and "Do you offer gift wrapping?" in page.text
    row = next(a for a in supervisor.get("/api/v1/knowledge/stats").json()["articles"] if a["id"] == article["id"])
    assert (row["views"], row["answers"], row["helpful"], row["not_helpful"]) == (1, 1, 1, 2)
    assert supervisor.post("/api/v1/knowledge/feedback", json={"article_id": article["id"], "helpful": True,
                                                               "language": "en"}).status_code == 401
    missing = supervisor.post("/api/v1/knowledge/feedback", headers=service_headers,
                              json={"article_id": 999_999, "helpful": True, "language": "en"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "article_not_found"


def test_questions_whose_answer_did_not_help_are_listed_with_their_article(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    article = create(supervisor, status="published")
    asked = {"Will you gift wrap it?": ("c1", "c2"), "礼物可以帮忙包装吗": ("c3",)}
    for question, conversations in asked.items():
        language = "en" if question.isascii() else "zh"
        for conversation in conversations:
            answer = supervisor.post("/api/v1/knowledge/answer", headers=service_headers, json={
                "question": question, "language": language, "conversation_id": conversation}).json()
            assert answer["answered"] is True and answer["article"]["id"] == article["id"]
            supervisor.post("/api/v1/knowledge/feedback", headers=service_headers, json={
                "article_id": article["id"], "helpful": False, "language": language,
                "conversation_id": conversation})
    # Helpful answers, and feedback that cannot be tied to a question (no conversation, or one that was never
    # answered with this article), are not listed.
    supervisor.post("/api/v1/knowledge/answer", headers=service_headers, json={
        "question": "do you wrap gifts", "language": "en", "conversation_id": "c4"})
    unlinked: list[tuple[str | None, bool]] = [("c4", True), (None, False), ("never-asked", False)]
    for other, helpful in unlinked:
        supervisor.post("/api/v1/knowledge/feedback", headers=service_headers, json={
            "article_id": article["id"], "helpful": helpful, "language": "en", "conversation_id": other})
    unhelpful = supervisor.get("/api/v1/knowledge/stats").json()["unhelpful"]
    assert unhelpful == [
        {"query": "will you gift wrap it?", "language": "en", "article_id": article["id"], "slug": "gift-wrapping",
         "count": 2},
        {"query": "礼物可以帮忙包装吗", "language": "zh", "article_id": article["id"], "slug": "gift-wrapping",
         "count": 1}]


def test_bulk_import_then_export_in_csv_and_markdown(supervisor: TestClient) -> None:
    markdown = ("---\nslug: store-wifi\ncategory: stores\ntags: wifi, 无线网络\n---\n=== zh: 门店有 Wi-Fi 吗？\n"
                "有，网络名 Kefu-Guest，无需密码。\n\n=== en: Is there Wi-Fi in the stores?\n"
                "Yes: join Kefu-Guest, no password needed.\n")
    result = supervisor.post("/api/v1/knowledge/import", json={"format": "markdown", "content": markdown,
                                                               "publish": True}).json()
    assert result == {"created": 1, "updated": 0, "unchanged": 0}
    again = supervisor.post("/api/v1/knowledge/import", json={"format": "markdown", "content": markdown}).json()
    assert again["unchanged"] == 1
    exported = supervisor.get("/api/v1/knowledge/export?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "store-wifi,stores,\"wifi, 无线网络\",published,zh,门店有 Wi-Fi 吗？" in exported.text
    edited = exported.text.replace("no password needed.", "password on the receipt.")
    updated = supervisor.post("/api/v1/knowledge/import", json={"format": "csv", "content": edited}).json()
    assert supervisor.get("/api/v1/knowledge/articles?status=published").json()["total"] == 1
    assert updated["updated"] == 1
    md = supervisor.get("/api/v1/knowledge/export").text
    assert "=== en: Is there Wi-Fi in the stores?\nYes: join Kefu-Guest, password on the receipt." in md
    bad = supervisor.post("/api/v1/knowledge/import", json={"format": "csv", "content": "a,b\n1,2\n"},
                          headers={"Accept-Language": "zh"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "import_failed" and "CSV 缺少列" in \
        bad.json()["error"]["message"]


def test_help_centre_pages_search_and_feedback(supervisor: TestClient) -> None:
    create(supervisor, status="published",
           en={"title": "Do you offer gift wrapping?", "body": "Yes <b onmouseover=x>¥10</b> [x](javascript:alert(1))"})
    home = supervisor.get("/help?lang=zh")
    assert home.status_code == 200 and "帮助中心" in home.text and "/help/a/gift-wrapping" in home.text
    article = supervisor.get("/help/a/gift-wrapping?lang=en")
    assert "&lt;b onmouseover=x&gt;" in article.text and "href=\"javascript" not in article.text
    assert "Did this answer your question?" in article.text
    found = supervisor.get("/help/search?q=gift+wrapping+cost&lang=en")
    assert 'data-testid="results"' in found.text and "/help/a/gift-wrapping" in found.text
    none = supervisor.get("/help/search?q=who+won+the+football+match&lang=en")
    assert 'data-testid="no-results"' in none.text
    thanks = supervisor.post("/help/a/gift-wrapping/feedback", data={"helpful": "no"}, follow_redirects=False)
    assert thanks.status_code == 303 and thanks.headers["location"] == "/help/a/gift-wrapping?thanks=1"
    assert supervisor.get("/help/a/no-such-article").status_code == 404
    assert supervisor.get("/help/c/shipping?lang=en").status_code == 200
    assert supervisor.get("/help/static/help.css").status_code == 200
    assert supervisor.get("/help/static/..%2Fmodels.py").status_code == 404


def test_console_editor_page_is_for_logged_in_supervisors(client: TestClient) -> None:
    assert client.get("/console/knowledge", follow_redirects=False).headers["location"].startswith("/console/login")
    login(client, "agent1")
    assert client.get("/console/knowledge", follow_redirects=False).headers["location"] == "/console"
    login(client, "supervisor")
    page = client.get("/console/knowledge?lang=zh")
    assert page.status_code == 200 and 'data-testid="kb-form"' in page.text and "/help/static/editor.js" in page.text
    preview = client.post("/api/v1/knowledge/preview", json={"body": "# T\n<script>x</script>"})
    assert preview.json()["html"] == "<h1>T</h1>\n<p>&lt;script&gt;x&lt;/script&gt;</p>\n"


def test_a_question_recorded_as_not_answered_is_declined_until_the_article_is_saved_again(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    article = create(supervisor, status="published")
    near_miss = {"question": "Can you gift wrap a parcel going abroad?", "language": "en", "conversation_id": "c5"}
    assert supervisor.post("/api/v1/knowledge/answer", json=near_miss, headers=service_headers).json()["answered"]
    recorded = supervisor.post("/api/v1/knowledge/unanswered",
                               json={"question": "  Can you gift wrap a parcel   going abroad? ", "language": "en"})
    assert recorded.status_code == 201 and recorded.json()["question"] == "Can you gift wrap a parcel going abroad?"
    again = supervisor.post("/api/v1/knowledge/unanswered",
                            json={"question": "Can you gift wrap a parcel going abroad?", "language": "en"})
    assert again.json()["id"] == recorded.json()["id"]
    assert [r["id"] for r in supervisor.get("/api/v1/knowledge/unanswered").json()] == [recorded.json()["id"]]
    # Declined, and so is a close paraphrase; the article still answers what it does answer.
    for question in (near_miss["question"], "can you gift-wrap a parcel that goes abroad"):
        answer = supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                                 json={"question": question, "language": "en"}).json()
        assert answer["answered"] is False, question
    plain = supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                            json={"question": "Do you offer gift wrapping?", "language": "en"}).json()
    assert plain["answered"] is True and plain["article"]["slug"] == "gift-wrapping"
    # The supervisor adds the missing fact: the article answers the recorded question again.
    edited = supervisor.put(f"/api/v1/knowledge/articles/{article['id']}", json=edit_body(
        article, en_body="Yes, ¥10 per item, for parcels going abroad too.")).json()
    assert edited["version"] == 2
    answer = supervisor.post("/api/v1/knowledge/answer", json=near_miss, headers=service_headers).json()
    assert answer["answered"] is True and answer["article"]["slug"] == "gift-wrapping"


def test_recorded_questions_are_removed_and_validated(
        supervisor: TestClient, service_headers: dict[str, str]) -> None:
    create(supervisor, status="published")
    question = {"question": "礼品包装能选颜色吗", "language": "zh"}
    row = supervisor.post("/api/v1/knowledge/unanswered", json=question).json()
    assert row["author"] == "supervisor" and row["language"] == "zh"
    assert supervisor.post("/api/v1/knowledge/answer", headers=service_headers,
                           json=question).json()["answered"] is False
    assert supervisor.delete(f"/api/v1/knowledge/unanswered/{row['id']}").status_code == 204
    assert supervisor.post("/api/v1/knowledge/answer", headers=service_headers, json=question).json()["answered"]
    missing = supervisor.delete(f"/api/v1/knowledge/unanswered/{row['id']}", headers={"Accept-Language": "zh"})
    assert missing.status_code == 404 and "未找到记录的问题" in missing.json()["error"]["message"]
    for bad in ({"question": "   ", "language": "zh"}, {"question": "x" * 301, "language": "en"},
                {"question": "ok?", "language": "fr"}):
        assert supervisor.post("/api/v1/knowledge/unanswered", json=bad).status_code == 422, bad


def test_recording_questions_needs_a_supervisor(client: TestClient) -> None:
    assert client.get("/api/v1/knowledge/unanswered").status_code == 401
    login(client, "agent1")
    refused = client.post("/api/v1/knowledge/unanswered", headers={"Accept-Language": "zh"},
                          json={"question": "礼品包装能选颜色吗", "language": "zh"})
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "仅限主管"
