"""The supervisors' NLU inbox: poorly understood customer messages, and the intents supervisors give them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from crm_backend.annotation import service, topics
from crm_backend.annotation.schemas import (
    AnnotationOut,
    AnnotationPage,
    AnnotationsIn,
    FlagIn,
    FlagOut,
    InboxPage,
    IntentsOut,
    TopicsOut,
)
from crm_backend.api.deps import CurrentAgent, CurrentSupervisor, SessionDep
from crm_backend.api.responses import error_responses
from crm_backend.console import pages
from crm_backend.core.bounds import OffsetQuery
from crm_backend.core.db import begin_write

router = APIRouter(prefix="/nlu", tags=["nlu"])
root_router = APIRouter(include_in_schema=False)
Language = Literal["zh", "en"]


@root_router.get("/console/nlu")
def inbox_page(request: Request, session: SessionDep) -> Response:
    """The NLU inbox page (supervisors)."""
    return pages.supervisor_page(request, session, "nlu.html", "/console/nlu")


@router.get("/inbox", response_model=InboxPage)
def inbox(session: SessionDep, _: CurrentSupervisor, language: Language | None = None,
          channel: Annotated[str | None, Query(max_length=32)] = None,
          days: Annotated[int, Query(ge=1, le=366)] = 30, limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: OffsetQuery = 0) -> InboxPage:
    """Distinct messages the bot fell back on, understood with low confidence, or that the customer rephrased
    or followed with a request for a human; most frequent first, annotated ones left out."""
    items, total = service.inbox(session, language=language, channel=channel or None, days=days, limit=limit,
                                 offset=offset)
    return InboxPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/topics", response_model=TopicsOut)
def unknown_topics(session: SessionDep, _: CurrentSupervisor, language: Language | None = None,
                   days: Annotated[int, Query(ge=1, le=366)] = 28,
                   min_size: Annotated[int, Query(ge=1, le=1000)] = 2) -> TopicsOut:
    """Unrecognised messages grouped by meaning (e5 vectors), largest group first, with this week's trend."""
    items, total = topics.topics(session, days=days, language=language, min_size=min_size)
    return TopicsOut(items=items, unrecognised=total, days=days)


@router.get("/intents", response_model=IntentsOut)
def intents(session: SessionDep, _: CurrentSupervisor) -> IntentsOut:
    """The intents a message may be given."""
    return IntentsOut(items=service.intents(session))


@router.post("/annotations", response_model=list[AnnotationOut], status_code=201)
def annotate(body: AnnotationsIn, session: SessionDep, supervisor: CurrentSupervisor) -> list[AnnotationOut]:
    """Give one or many messages an intent, or mark them out of scope; the last decision on a message wins."""
    begin_write(session)
    rows = service.annotate(session, items=body.items, agent=supervisor)
    return [AnnotationOut.model_validate(row) for row in rows]


@router.post("/flags", response_model=FlagOut, status_code=201, responses=error_responses(
    404, notes={404: "not_found (conversation), message_not_found (no such customer message in it)"}))
def flag(body: FlagIn, session: SessionDep, agent: CurrentAgent) -> FlagOut:
    """An agent flags a customer message of a handed-off conversation as misunderstood by the bot."""
    begin_write(session)
    return FlagOut.model_validate(service.flag_misunderstood(session, handoff_id=body.handoff_id,
                                                             message_id=body.message_id, agent=agent))


@router.get("/annotations", response_model=AnnotationPage)
def list_annotations(session: SessionDep, _: CurrentSupervisor, language: Language | None = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: OffsetQuery = 0) -> AnnotationPage:
    """Annotations, newest first."""
    rows, total = service.list_annotations(session, language=language, limit=limit, offset=offset)
    return AnnotationPage(items=[AnnotationOut.model_validate(r) for r in rows], total=total, limit=limit,
                          offset=offset)
