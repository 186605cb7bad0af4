"""Conversations fed by Rasa's event broker: list and transcript (console), figures, customer erasure."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crm_backend.api.deps import CurrentAgent, CurrentSupervisor, ServiceAuth, SessionDep
from crm_backend.console import auth, pages
from crm_backend.conversation import repository
from crm_backend.conversation.models import Outcome
from crm_backend.conversation.schemas import ConversationOut, ConversationPage, ErasureOut, TranscriptOut, TurnOut
from crm_backend.core.bounds import INT_MAX, IdPath
from crm_backend.core.db import begin_write
from crm_backend.core.errors import NotFoundError, ValidationFailed
from crm_backend.core.rasa import RasaUnavailable
from crm_backend.dashboard.service import default_period
from crm_backend.handoff import live
from crm_backend.handoff.settings import is_supervisor

router = APIRouter(prefix="/conversations", tags=["conversations"])
root_router = APIRouter(include_in_schema=False)


@root_router.get("/console/conversations")
def conversations_page(request: Request, session: SessionDep) -> Response:
    """Agents: their own conversations and the queue; supervisors: all, with the figures."""
    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is None:
        return RedirectResponse("/console/login?next=/console/conversations", status_code=303)
    row, agent = found
    start, end = default_period()
    return pages.render(request, "conversations.html", {
        "agent": agent, "csrf_token": row.csrf_token, "supervisor": is_supervisor(agent),
        "start": start.isoformat(), "end": end.isoformat()})


def _filters(start: date | None, end: date | None, channel: str | None, language: str | None, outcome: str | None,
             intent: str | None, has_handoff: bool | None, low_csat: bool, q: str | None) -> repository.Filters:
    if outcome and outcome not in Outcome.ALL:
        raise ValidationFailed(f"outcome must be one of {', '.join(Outcome.ALL)}",
                               f"outcome 必须是 {', '.join(Outcome.ALL)} 之一")
    if start and end and start > end:
        raise ValidationFailed("start must not be after end", "开始日期不能晚于结束日期")
    return repository.Filters(start=start, end=end, channel=channel, language=language, outcome=outcome,
                              intent=intent, has_handoff=has_handoff, low_csat=low_csat, q=(q or "").strip() or None)


@router.get("", response_model=ConversationPage)
def list_conversations(
    session: SessionDep, agent: CurrentAgent,
    start: date | None = None, end: date | None = None, channel: str | None = None, language: str | None = None,
    outcome: str | None = None, intent: str | None = None, has_handoff: bool | None = None,
    low_csat: Annotated[bool, Query(description="only CSAT ≤ 2")] = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> ConversationPage:
    """Agents see their own handed-off conversations and the queue; supervisors see all."""
    filters = _filters(start, end, channel, language, outcome, intent, has_handoff, low_csat, q)
    scope = None if is_supervisor(agent) else agent.id
    rows, total = repository.conversations(session, filters=filters, agent_id=scope, limit=limit, offset=offset)
    return ConversationPage(items=[ConversationOut.model_validate(row) for row in rows], total=total, limit=limit,
                            offset=offset)


@router.get("/figures")
def conversation_figures(session: SessionDep, _: CurrentSupervisor, start: date | None = None,
                         end: date | None = None) -> dict[str, object]:
    """Containment, fallback and handoff rates by language and channel with a daily trend; top intents."""
    default_start, default_end = default_period()
    start, end = start or default_start, end or default_end
    if start > end:
        raise ValidationFailed("start must not be after end", "开始日期不能晚于结束日期")
    if (end - start).days > 366:
        raise ValidationFailed("at most 366 days at once", "一次最多查询 366 天")
    return repository.figures(session, start=start, end=end)


@router.get("/{conversation_id}", response_model=TranscriptOut)
def get_conversation(conversation_id: IdPath, session: SessionDep, agent: CurrentAgent) -> TranscriptOut:
    """The transcript: each customer turn with its intent and confidence, the bot's replies and actions."""
    scope = None if is_supervisor(agent) else agent.id
    found = repository.get(session, conversation_id=conversation_id, agent_id=scope)
    if found is None:
        raise NotFoundError("Conversation not found", "未找到该会话")
    turns = repository.transcript(session, conversation_id=conversation_id)
    return TranscriptOut(conversation=ConversationOut.model_validate(found),
                         turns=[TurnOut.model_validate(turn) for turn in turns])


@router.delete("/customers/{customer_id}", response_model=ErasureOut)
async def erase_customer(customer_id: IdPath, session: SessionDep, _: ServiceAuth) -> ErasureOut:
    """A customer's erasure request: their stored turns and their Rasa trackers."""
    def delete() -> list[str]:
        begin_write(session)
        deleted = repository.delete_customer(session, customer_id=customer_id)
        session.commit()  # the turns are gone before Rasa is asked, and no write lock is held meanwhile
        return deleted

    senders = await run_in_threadpool(delete)
    rasa, failed = live.rasa_client(), []
    for sender in senders:
        try:
            await rasa.erase(sender)
        except RasaUnavailable:
            failed.append(sender)
    return ErasureOut(customer_id=customer_id, conversations_deleted=len(senders),
                      trackers_erased=len(senders) - len(failed), trackers_failed=failed)
