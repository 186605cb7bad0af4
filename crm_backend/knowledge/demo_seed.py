"""Load the demo shop's help articles (knowledge/demo/*.md, zh + en) and the questions it records as not answered
(knowledge/demo/unanswered.tsv) into an empty knowledge base."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.knowledge import service
from crm_backend.knowledge.evaluate import demo_articles, demo_unanswered
from crm_backend.knowledge.models import Article

AUTHOR = "demo"


def load_demo(session: Session) -> str:
    """Import and publish the demo articles unless articles exist; returns a one-line note."""
    if session.scalar(select(func.count()).select_from(Article)):
        return "knowledge base already has articles"
    counts = service.import_articles(session, articles=demo_articles(), author=AUTHOR, publish=True)
    recorded = demo_unanswered()
    for language, question in recorded:
        service.record_unanswered(session, question=question, language=language, author=AUTHOR)
    session.flush()
    return f"{counts['created']} help articles published, {len(recorded)} questions recorded as not answered"
