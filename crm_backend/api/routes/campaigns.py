"""Campaigns (service token): ask the bot to run the NPS survey in many conversations."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from crm_backend.api.deps import ServiceAuth, SessionDep
from crm_backend.campaign import service
from crm_backend.campaign.schemas import CampaignResult, Failed, NpsCampaign
from crm_backend.handoff import live

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.post("/nps", response_model=CampaignResult)
async def nps_campaign(body: NpsCampaign, session: SessionDep, _: ServiceAuth) -> CampaignResult:
    """Trigger `EXTERNAL_nps_survey` in each conversation (or each customer's latest one)."""
    failed: list[Failed] = []
    by_conversation: dict[str, int | None] = {}
    if body.customer_ids is not None:
        latest = await run_in_threadpool(service.latest_conversations, session, customer_ids=body.customer_ids)
        for customer_id in dict.fromkeys(body.customer_ids):
            if customer_id in latest:
                by_conversation.setdefault(latest[customer_id], customer_id)
            else:
                failed.append(Failed(customer_id=customer_id, reason=service.NO_CONVERSATION))
    else:
        by_conversation = dict.fromkeys(body.conversation_ids or [])
    missed = await service.send_all(session, rasa=live.rasa_client(), intent=service.NPS_INTENT,
                                    conversation_ids=list(by_conversation))
    failed += [Failed(conversation_id=cid, customer_id=by_conversation[cid], reason=reason)
               for cid, reason in missed.items()]
    return CampaignResult(triggered=len(by_conversation) - len(missed), failed=failed)
