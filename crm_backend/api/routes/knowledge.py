"""Knowledge base: supervisor editing API (console login + CSRF), bot answers (service token), public /help."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crm_backend.api.deps import CurrentSupervisor, SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.console import auth, pages
from crm_backend.core.bounds import IdPath
from crm_backend.core.pagination import Page, PageDep
from crm_backend.knowledge import bulk, service
from crm_backend.knowledge.markdown import render_html
from crm_backend.knowledge.models import CATEGORIES, Article
from crm_backend.knowledge.schemas import (
    AnswerArticle,
    AnswerIn,
    AnswerOut,
    ArticleIn,
    ArticleOut,
    ArticleSummary,
    ArticleUpdate,
    FeedbackIn,
    ImportIn,
    ImportResult,
    PreviewIn,
    PreviewOut,
    RevisionOut,
    SearchHitOut,
    StatsOut,
    StatusChange,
    UnansweredIn,
    UnansweredOut,
    VersionOut,
)
from crm_backend.knowledge.search import ANSWER_THRESHOLD

log = logging.getLogger(__name__)
router = APIRouter(prefix="/knowledge", tags=["knowledge"])
root_router = APIRouter(include_in_schema=False)
KNOWLEDGE = Path(service.__file__).parent
STATIC = KNOWLEDGE / "static"
templates = Jinja2Templates(directory=str(KNOWLEDGE / "templates"))


def article_out(article: Article) -> ArticleOut:
    versions = {lang: service.version_view(article, lang) for lang in ("zh", "en")}
    return ArticleOut(
        id=article.id, slug=article.slug, category=article.category, tags=list(article.tags),
        status=article.status,
        version=article.version, views=article.views, created_by=article.created_by, updated_by=article.updated_by,
        created_at=article.created_at, updated_at=article.updated_at, published_at=article.published_at,
        zh=VersionOut(**versions["zh"]) if versions["zh"] else None,
        en=VersionOut(**versions["en"]) if versions["en"] else None)


def article_url(slug: str, language: str) -> str:
    return f"/help/a/{quote(slug)}?lang={language}"


# ----------------------------------------------------------------------------- supervisors (console session)


@router.get("/articles", response_model=Page[ArticleSummary])
def list_articles(session: SessionDep, _supervisor: CurrentSupervisor, page: PageDep,
                  status: Annotated[Literal["draft", "published", "archived"] | None, Query()] = None,
                  category: str | None = None, q: str | None = None) -> Page[ArticleSummary]:
    """Articles for the editor, by category and slug; `q` matches the slug or a title."""
    rows, total = service.repository.listing(session, status=status, category=category, q=q, limit=page.limit,
                                             offset=page.offset)
    items = [ArticleSummary(id=a.id, slug=a.slug, category=a.category, status=a.status,
                            version=a.version, title_zh=(t.title if (t := a.translation("zh")) else None),
                            title_en=(t.title if (t := a.translation("en")) else None), updated_by=a.updated_by,
                            updated_at=a.updated_at) for a in rows]
    return Page[ArticleSummary](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/articles", status_code=201, response_model=ArticleOut)
def create_article(body: ArticleIn, session: SessionDep, supervisor: CurrentSupervisor) -> ArticleOut:
    """New article (409 `slug_taken`; 422 for an empty or oversized version or an unknown category)."""
    article = service.create_article(session, data=body, author=supervisor.username)
    session.commit()
    return article_out(article)


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get_article(article_id: IdPath, session: SessionDep, _supervisor: CurrentSupervisor) -> ArticleOut:
    return article_out(service.get_article(session, article_id=article_id))


@router.put("/articles/{article_id}", response_model=ArticleOut)
def update_article(article_id: IdPath, body: ArticleUpdate, session: SessionDep,
                   supervisor: CurrentSupervisor) -> ArticleOut:
    """Save an edit of version `version`; 409 `article_conflict` (with the diff) if someone saved since."""
    article = service.update_article(session, article_id=article_id, data=body, author=supervisor.username)
    session.commit()
    return article_out(article)


@router.post("/articles/{article_id}/status", response_model=ArticleOut)
def change_status(article_id: IdPath, body: StatusChange, session: SessionDep,
                  supervisor: CurrentSupervisor) -> ArticleOut:
    """Publish, unpublish (draft) or archive; a published article is answerable within seconds everywhere."""
    article = service.set_status(session, article_id=article_id, status=body.status, version=body.version,
                                 author=supervisor.username)
    session.commit()
    return article_out(article)


@router.get("/articles/{article_id}/revisions", response_model=list[RevisionOut])
def revisions(article_id: IdPath, session: SessionDep, _supervisor: CurrentSupervisor) -> list[RevisionOut]:
    service.get_article(session, article_id=article_id)
    return [RevisionOut.model_validate(r) for r in service.repository.revisions(session, article_id)]


@router.post("/preview", response_model=PreviewOut)
def preview(body: PreviewIn, _supervisor: CurrentSupervisor) -> PreviewOut:
    """The safe HTML the help centre will show for this Markdown."""
    return PreviewOut(html=render_html(body.body))


@router.post("/import", response_model=ImportResult)
def import_articles(body: ImportIn, session: SessionDep, supervisor: CurrentSupervisor) -> ImportResult:
    """Bulk create/update by slug from Markdown or CSV (format in knowledge/bulk.py); all or nothing."""
    items = bulk.parse_csv(body.content) if body.format == "csv" else bulk.parse_markdown(body.content)
    counts = service.import_articles(session, articles=items, author=supervisor.username, publish=body.publish)
    session.commit()
    return ImportResult(**counts)


@router.get("/export")
def export_articles(session: SessionDep, _supervisor: CurrentSupervisor,
                    format: Literal["markdown", "csv"] = "markdown") -> PlainTextResponse:
    """Every article in the import format."""
    media = "text/csv; charset=utf-8" if format == "csv" else "text/markdown; charset=utf-8"
    name = "knowledge.csv" if format == "csv" else "knowledge.md"
    return PlainTextResponse(service.export_articles(session, fmt=format), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/stats", response_model=StatsOut)
def stats(session: SessionDep, _supervisor: CurrentSupervisor) -> StatsOut:
    """Views, answers, helpful / not helpful per article; the top searches with no good answer; the questions whose
    answer did not help."""
    return StatsOut.model_validate(service.stats(session))


@router.get("/unanswered", response_model=list[UnansweredOut])
def list_unanswered(session: SessionDep, _supervisor: CurrentSupervisor) -> list[UnansweredOut]:
    """Questions recorded as not answered by the knowledge base, newest first."""
    return [UnansweredOut.model_validate(row) for row in service.repository.unanswered(session)]


@router.post("/unanswered", status_code=201, response_model=UnansweredOut)
def record_unanswered(body: UnansweredIn, session: SessionDep, supervisor: CurrentSupervisor) -> UnansweredOut:
    """Record a question the knowledge base does not answer: the bot declines it, and questions close to it,
    instead of answering with the nearest article (within a second on every CRM process)."""
    row = service.record_unanswered(session, question=body.question, language=body.language,
                                    author=supervisor.username)
    session.commit()
    return UnansweredOut.model_validate(row)


@router.delete("/unanswered/{question_id}", status_code=204, responses=error_responses(404))
def remove_unanswered(question_id: IdPath, session: SessionDep, _supervisor: CurrentSupervisor) -> Response:
    service.remove_unanswered(session, question_id=question_id)
    session.commit()
    return Response(status_code=204)


# ----------------------------------------------------------------------------- the bot (service token)


@router.post("/answer", response_model=AnswerOut, dependencies=[Depends(require_service_token)])
def answer(body: AnswerIn, session: SessionDep) -> AnswerOut:
    """The best passage for a customer's question, or `answered: false` below the confidence threshold."""
    result = service.answer(session, question=body.question, language=body.language, channel=body.channel,
                            conversation_id=body.conversation_id)
    session.commit()
    hit = result.hit
    if hit is None:
        return AnswerOut(answered=False, score=0.0)
    return AnswerOut(answered=True, other_language=result.other_language, score=hit.score, article=AnswerArticle(
        id=hit.article_id, slug=hit.slug, title=hit.title, language=hit.language,
        passage=hit.passage, url=article_url(hit.slug, hit.language), score=hit.score))


@router.post("/feedback", status_code=201, dependencies=[Depends(require_service_token)],
             responses=error_responses(404))
def feedback(body: FeedbackIn, session: SessionDep) -> dict[str, Any]:
    """"Did this answer your question?" — recorded against the article."""
    row = service.record_feedback(session, article_id=body.article_id, helpful=body.helpful, language=body.language,
                                  channel=body.channel, conversation_id=body.conversation_id)
    session.commit()
    return {"id": row.id, "article_id": row.article_id, "helpful": row.helpful}


@router.get("/search", response_model=list[SearchHitOut])
def search(session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=300)],
           lang: Literal["zh", "en"] = "zh", limit: Annotated[int, Query(ge=1, le=20)] = 5) -> list[SearchHitOut]:
    """Public search of published articles (the help centre's search box)."""
    hits = service.search(session, query=q, language=lang, limit=limit)
    return [SearchHitOut(id=h.article_id, slug=h.slug, category=h.category, title=h.title,
                         language=h.language, passage=h.passage, score=h.score)
            for h in hits if h.score >= ANSWER_THRESHOLD / 2]


# ----------------------------------------------------------------------------- public help centre

TEXT = {
    "zh": {"help": "帮助中心", "search": "搜索", "placeholder": "输入您的问题", "categories": "分类",
           "no_results": "没有找到相关文章，您可以咨询在线客服。", "results": "搜索结果", "back": "返回帮助中心",
           "helpful": "这篇文章解决了您的问题吗？", "yes": "是", "no": "否", "thanks": "感谢您的反馈！",
           "other_language": "本文暂无中文版本，以下为英文内容。", "chat": "咨询在线客服",
           "updated": "更新于"},
    "en": {"help": "Help centre", "search": "Search", "placeholder": "Type your question", "categories": "Categories",
           "no_results": "No matching article; our chat assistant can help.", "results": "Search results",
           "back": "Back to the help centre", "helpful": "Did this answer your question?", "yes": "Yes", "no": "No",
           "thanks": "Thanks for your feedback!", "other_language": "This article is only available in Chinese.",
           "chat": "Chat with us", "updated": "Updated"},
}
CATEGORY_NAMES = {
    "shipping": ("配送与物流", "Shipping"), "returns": ("退换货", "Returns"), "payments": ("支付", "Payments"),
    "invoices": ("发票", "Invoices"), "membership": ("会员与等级", "Membership and tiers"),
    "points": ("积分规则", "Points"), "account": ("账号与安全", "Account and security"),
    "privacy": ("隐私", "Privacy"), "stores": ("门店与联系", "Stores and contact"),
    "product-care": ("商品保养", "Product care"), "after-sales": ("售后服务", "After-sales"),
    "general": ("其他", "General"),
}


def _help_page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = pages.language(request)
    response = templates.TemplateResponse(request, name, {
        "lang": lang, "t": TEXT[lang], "categories": [(c, CATEGORY_NAMES[c][0 if lang == "zh" else 1])
                                                      for c in CATEGORIES], **context},
        status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(pages.LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    response.headers["Content-Security-Policy"] = pages.CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _titled(articles: list[Article], lang: str) -> list[dict[str, str]]:
    out = []
    for article in articles:
        version = article.translation(lang) or article.translation("en" if lang == "zh" else "zh")
        if version is not None:
            out.append({"slug": article.slug, "title": version.title, "category": article.category})
    return out


@root_router.get("/help")
def help_home(request: Request, session: SessionDep) -> Response:
    lang = pages.language(request)
    articles = _titled(list(service.repository.published(session)), lang)
    by_category: dict[str, list[dict[str, str]]] = {}
    for item in articles:
        by_category.setdefault(item["category"], []).append(item)
    return _help_page(request, "help_home.html", {"by_category": by_category})


@root_router.get("/help/c/{category}")
def help_category(category: str, request: Request, session: SessionDep) -> Response:
    if category not in CATEGORIES:
        return _help_page(request, "help_missing.html", {}, status_code=404)
    lang = pages.language(request)
    articles = [a for a in service.repository.published(session) if a.category == category]
    return _help_page(request, "help_category.html", {
        "category": category, "category_name": CATEGORY_NAMES[category][0 if lang == "zh" else 1],
        "articles": _titled(articles, lang)})


@root_router.get("/help/a/{slug}")
def help_article(slug: str, request: Request, session: SessionDep) -> Response:
    lang = pages.language(request)
    article = service.repository.by_slug(session, slug)
    if article is None or article.status != "published":
        return _help_page(request, "help_missing.html", {}, status_code=404)
    version = article.translation(lang) or article.translation("en" if lang == "zh" else "zh")
    assert version is not None  # a saved article always has a version
    service.record_view(session, article=article)
    session.commit()
    return _help_page(request, "help_article.html", {
        "article": article, "title": version.title, "html": render_html(version.body),
        "other_language": version.language != lang, "thanks": request.query_params.get("thanks") == "1",
        "category_name": CATEGORY_NAMES.get(article.category, (article.category, article.category))[
            0 if lang == "zh" else 1]})


@root_router.post("/help/a/{slug}/feedback")
def help_feedback(slug: str, request: Request, session: SessionDep,
                  helpful: Annotated[Literal["yes", "no"], Form()]) -> Response:
    lang = pages.language(request)
    article = service.get_published(session, slug=slug)
    service.record_feedback(session, article_id=article.id, helpful=helpful == "yes", language=lang,
                            channel="help", conversation_id=None)
    session.commit()
    return RedirectResponse(f"/help/a/{quote(slug)}?thanks=1", status_code=303)


@root_router.get("/help/search")
def help_search(request: Request, session: SessionDep, q: str = "") -> Response:
    lang = pages.language(request)
    query = q.strip()[:300]
    hits = []
    if query:
        result = service.answer(session, question=query, language=lang, channel="help", limit=10)
        session.commit()
        # Weaker matches are listed under a confident one, never on their own.
        hits = [h for h in result.hits if h.score >= (ANSWER_THRESHOLD / 2 if result.answered else ANSWER_THRESHOLD)]
    return _help_page(request, "help_search.html", {"q": query, "hits": hits})


STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@root_router.get("/help/static/{name}")
def help_static(name: str) -> Response:
    """help.css and the console editor's script (plain names only, no traversal)."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return Response(status_code=404)
    return Response(path.read_bytes(), media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


# ----------------------------------------------------------------------------- console editor page


@root_router.get("/console/knowledge")
def editor_page(request: Request, session: SessionDep) -> Response:
    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is None:
        return RedirectResponse("/console/login?next=/console/knowledge", status_code=303)
    row, agent = found
    if agent.role not in ("supervisor", "admin"):
        return RedirectResponse("/console", status_code=303)
    return pages.render(request, "knowledge.html", {"agent": agent, "csrf_token": row.csrf_token,
                                                    "categories": CATEGORIES})
