"""Handoffs: the bot escalates (service token); agents claim, talk, transfer and resolve (console session).

Routes that only touch the database are plain `def` (they run in the threadpool). The four that talk
to Rasa (open, reply, retry, resolve) are `async`; their database work goes through the threadpool
and `live.py` commits each step before Rasa is called, so no write lock is held over the network.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from starlette.concurrency import run_in_threadpool

from crm_backend.api.deps import LanguageDep, ServiceAuth, SessionDep
from crm_backend.api.responses import error_responses
from crm_backend.campaign import service as campaign_service
from crm_backend.console import customer360
from crm_backend.console.deps import CurrentAgent
from crm_backend.copilot import service as copilot
from crm_backend.copilot import suggest
from crm_backend.copilot.schemas import FilledReplies, HandoffSummary, Suggestions, SuggestionUseIn
from crm_backend.core import idempotency
from crm_backend.core.bounds import INT_MAX, IdPath
from crm_backend.core.db import begin_write
from crm_backend.core.rasa import RasaUnavailable
from crm_backend.handoff import assignment, conversation, errors, gestures, live, present, service, tickets
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import Handoff, HandoffMessage
from crm_backend.handoff.schemas import (
    CouponOut,
    GestureIn,
    GestureLimitOut,
    GestureOut,
    HandoffCreate,
    HandoffCreated,
    HandoffDetail,
    HandoffOut,
    HandoffPage,
    MessageOut,
    ResolveOut,
    TextIn,
    TicketIn,
    TransferIn,
)
from crm_backend.handoff.settings import console_settings
from crm_backend.points.models import Reward

log = logging.getLogger(__name__)
router = APIRouter(prefix="/handoffs", tags=["handoffs"])

RESOLVED_INTENT = "EXTERNAL_handoff_resolved"


@router.post("", response_model=HandoffCreated, status_code=201)
def create_handoff(body: HandoffCreate, session: SessionDep, _: ServiceAuth) -> HandoffCreated:
    """Escalate a bot conversation to a human (called by `action_handoff_to_human`)."""
    begin_write(session)
    created = service.create_handoff(
        session, conversation_id=body.conversation_id, channel=body.channel, customer_id=body.customer_id,
        reason=body.reason, reason_code=body.reason_code, priority=body.priority,
        transcript=[t.model_dump() for t in body.transcript], language=body.language)
    if created.new:
        live.announce(session, "created", created.handoff.id)
        for handoff in assignment.auto_assign(session):
            live.announce(session, "assigned", handoff.id, agent_id=handoff.assigned_agent_id)
    return HandoffCreated(handoff_id=created.handoff.id, status=created.handoff.status,
                          expected_wait_minutes=created.expected_wait_minutes, agents_online=created.agents_online,
                          offer_callback=created.offer_callback)


@router.get("", response_model=HandoffPage)
def list_handoffs(session: SessionDep, agent: CurrentAgent, include_resolved: bool = False,
                  limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=INT_MAX)) -> HandoffPage:
    """The queue this agent may see, value customers first, then priority, then longest waiting."""
    rows = service.queue(session, agent=agent, include_resolved=include_resolved, limit=500)
    page = rows[offset:offset + limit]
    return HandoffPage(items=present.handoffs(session, page), total=len(rows), limit=limit, offset=offset)


def _detail(session: SessionDep, handoff: Handoff, language: str) -> HandoffDetail:
    customer = (customer360.build(session, customer_id=handoff.customer_id, language=language)
                if handoff.customer_id is not None else None)
    return HandoffDetail(handoff=present.handoffs(session, [handoff])[0],
                         messages=present.messages(session, service.messages(session, handoff_id=handoff.id)),
                         customer=customer)


@router.get("/{handoff_id}", response_model=HandoffDetail)
async def get_handoff(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent,
                      language: LanguageDep) -> HandoffDetail:
    """The whole conversation (bot turns included), the handoff reason and the customer 360 panel."""
    handoff = await run_in_threadpool(service.get_visible, session, handoff_id=handoff_id, agent=agent)
    return await run_in_threadpool(_detail, session, handoff, language)


@router.get("/{handoff_id}/summary", response_model=HandoffSummary)
def summary(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent, language: LanguageDep) -> HandoffSummary:
    """Why the bot escalated, the customer's key turns, what the bot collected, the mood, who the customer is."""
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    return copilot.summarize(session, handoff=handoff, language=language)


@router.get("/{handoff_id}/canned", response_model=FilledReplies)
def canned(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent,
           lang: Literal["zh", "en"] | None = None) -> FilledReplies:
    """Canned replies filled for this handoff's customer, in the conversation's language unless `lang` is given."""
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    return FilledReplies(items=copilot.filled_replies(session, handoff=handoff, language=lang or handoff.language))


@router.get("/{handoff_id}/suggestions", response_model=Suggestions)
def suggestions(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent,
                text: str | None = Query(None, max_length=2000)) -> Suggestions:
    """The top 3 replies for the customer's latest message (or `text`), in the conversation's language."""
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    query, items, failed = suggest.suggest(session, handoff=handoff, text=text)
    return Suggestions(query=query, items=items, unavailable=failed)


@router.post("/{handoff_id}/suggestions/uses", status_code=204)
def suggestion_used(handoff_id: IdPath, body: SuggestionUseIn, session: SessionDep, agent: CurrentAgent) -> None:
    """The agent inserted a suggestion (`edited` when they changed it before sending): ranking learns from it."""
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    begin_write(session)
    suggest.record_use(session, handoff=handoff, agent_id=agent.id, source=body.source, key=body.key,
                       edited=body.edited)


@router.get("/{handoff_id}/gestures", response_model=GestureLimitOut)
def gesture_limit(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent) -> GestureLimitOut:
    """The most goodwill points this agent may grant this conversation's customer at once."""
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    customer = gestures.customer_of(session, handoff)
    limit = gestures.limit_for(console_settings(session)["gesture_limits"], role=agent.role, tier=customer.tier)
    return GestureLimitOut(limit=limit, tier=customer.tier, role=agent.role,
                           coupons=[coupon_out(r) for r in gestures.coupons_within(session, limit=limit)])


@router.post("/{handoff_id}/gestures", response_model=GestureOut, status_code=201,
             responses=error_responses(404, 409, 422))
def grant_gesture(handoff_id: IdPath, body: GestureIn, session: SessionDep, agent: CurrentAgent,
                  idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]
                  ) -> GestureOut:
    """Grant goodwill points or a coupon within the agent's limits; the same Idempotency-Key grants once."""
    def write() -> GestureOut:
        handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
        granted = gestures.grant(session, handoff=handoff, agent=agent, points_to_grant=body.points,
                                 reward_code=body.reward_code, reason=body.reason.strip(), key=idempotency_key,
                                 limits=console_settings(session)["gesture_limits"])
        live.announce(session, "gesture", handoff_id)
        return GestureOut(entry_id=granted.entry.id, points=granted.entry.points, value_points=granted.value,
                          coupon=coupon_out(granted.reward) if granted.reward is not None else None,
                          balance_after=granted.entry.balance_after, limit=granted.limit, ticket_no=handoff.ticket_no)

    return idempotency.run_once(session, scope=f"gesture:{handoff_id}", key=idempotency_key,
                                payload=body.model_dump(mode="json"), model=GestureOut, write=write)


@router.post("/{handoff_id}/claim", response_model=HandoffOut, responses=error_responses(409))
def claim(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent) -> HandoffOut:
    """Take an unassigned conversation; 409 `conflict` when another agent was faster."""
    begin_write(session)
    handoff = assignment.claim(session, handoff_id=handoff_id, agent=agent)
    live.announce(session, "claimed", handoff_id, agent_id=agent.id)
    return present.handoffs(session, [handoff])[0]


@router.post("/{handoff_id}/transfer", response_model=HandoffOut, responses=error_responses(409))
def transfer(handoff_id: IdPath, body: TransferIn, session: SessionDep, agent: CurrentAgent) -> HandoffOut:
    """Give the conversation to another agent, to a supervisor, or back to the queue."""
    begin_write(session)
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    assignment.transfer(session, handoff=handoff, actor=agent, to_agent_id=None if body.to_queue else body.agent_id,
                        to_supervisor=body.to_supervisor and not body.to_queue)
    live.announce(session, "transferred", handoff_id, agent_id=handoff.assigned_agent_id)
    return present.handoffs(session, [handoff])[0]


@router.post("/{handoff_id}/messages", response_model=MessageOut, status_code=201, responses=error_responses(409))
async def reply(handoff_id: IdPath, body: TextIn, session: SessionDep, agent: CurrentAgent) -> MessageOut:
    """Send a reply to the customer on their channel; if Rasa is unreachable it stays queued (`pending`)."""
    def store() -> tuple[HandoffMessage, Handoff]:
        begin_write(session)
        message = conversation.add_reply(session, handoff_id=handoff_id, agent=agent, text=body.text.strip())
        return message, service.get_visible(session, handoff_id=handoff_id, agent=agent)

    message, handoff = await run_in_threadpool(store)
    await live.deliver(session, message=message, handoff=handoff)
    live.announce(session, "message", handoff_id)
    return await run_in_threadpool(lambda: present.messages(session, [message])[0])


@router.post("/{handoff_id}/messages/{message_id}/retry", response_model=MessageOut)
async def retry(handoff_id: IdPath, message_id: IdPath, session: SessionDep, agent: CurrentAgent) -> MessageOut:
    """Try again to deliver a queued reply."""
    def find() -> tuple[Handoff, HandoffMessage]:
        handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
        message = session.get(HandoffMessage, message_id)
        if message is None or message.handoff_id != handoff_id or message.role != "agent":
            raise errors.HandoffNotFound(handoff_id)
        return handoff, message

    handoff, message = await run_in_threadpool(find)
    if message.delivery != "delivered":
        await live.deliver(session, message=message, handoff=handoff)

        def record() -> None:
            begin_write(session)
            audit(session, agent=agent, action="retry", handoff_id=handoff_id, details={"message": message_id})

        await run_in_threadpool(record)
        live.announce(session, "delivery", handoff_id)
    return await run_in_threadpool(lambda: present.messages(session, [message])[0])


@router.post("/{handoff_id}/notes", response_model=MessageOut, status_code=201)
def note(handoff_id: IdPath, body: TextIn, session: SessionDep, agent: CurrentAgent) -> MessageOut:
    """An internal note, visible to agents only."""
    begin_write(session)
    message = conversation.add_note(session, handoff_id=handoff_id, agent=agent, text=body.text.strip())
    live.announce(session, "message", handoff_id)
    return present.messages(session, [message])[0]


@router.post("/{handoff_id}/ticket", response_model=HandoffOut, responses=error_responses(409))
def ticket(handoff_id: IdPath, body: TicketIn, session: SessionDep, agent: CurrentAgent) -> HandoffOut:
    """Link an existing ticket, or open one from the conversation."""
    begin_write(session)
    handoff = service.get_visible(session, handoff_id=handoff_id, agent=agent)
    if body.ticket_no:
        ticket_no = tickets.existing(session, ticket_no=body.ticket_no)
    else:
        ticket_no = tickets.create_for_handoff(session, handoff=handoff, agent=agent, description=body.description,
                                               severity=body.severity)
    conversation.link_ticket(session, handoff=handoff, agent=agent, ticket_no=ticket_no)
    live.announce(session, "ticket", handoff_id)
    return present.handoffs(session, [handoff])[0]


@router.post("/{handoff_id}/resolve", response_model=ResolveOut, responses=error_responses(409))
async def resolve(handoff_id: IdPath, session: SessionDep, agent: CurrentAgent) -> ResolveOut:
    """Resolve once: hand the conversation back to the bot, which asks the CSAT question."""
    handoff = await run_in_threadpool(service.get_visible, session, handoff_id=handoff_id, agent=agent)

    def close() -> bool:
        begin_write(session)
        changed = conversation.resolve(session, handoff_id=handoff_id, agent=agent)
        session.commit()  # the bot must not take the conversation back before it is resolved for the console
        return changed

    changed = await run_in_threadpool(close)
    csat = False
    if changed:
        rasa = live.rasa_client()
        try:
            await rasa.resume(handoff.conversation_id)
            await rasa.trigger_intent(handoff.conversation_id, RESOLVED_INTENT)
            csat = True
        except RasaUnavailable as failure:
            log.warning("could not hand %s back to the bot: %s", handoff.conversation_id, failure)
            error = str(failure)

            def keep() -> None:
                begin_write(session)
                audit(session, agent=agent, action="resume_failed", handoff_id=handoff_id,
                      details={"error": error[:300]})
                campaign_service.keep_for_retry(session, conversation_id=handoff.conversation_id,
                                                intent=RESOLVED_INTENT, resume_first=True, error=error)

            await run_in_threadpool(keep)
        live.announce(session, "resolved", handoff_id)

    def answer() -> ResolveOut:
        session.refresh(handoff)
        return ResolveOut(resolved=changed, csat_requested=csat, handoff=present.handoffs(session, [handoff])[0])

    return await run_in_threadpool(answer)


def coupon_out(reward: Reward) -> CouponOut:
    return CouponOut(code=reward.code, name_zh=reward.name_zh, name_en=reward.name_en, value_points=reward.cost_points)
