"""Customer verification: one-time codes and verified channel identities (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import SessionDep, SettingsDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core.security import create_customer_token
from crm_backend.customer.service import get_customer
from crm_backend.identity import service
from crm_backend.identity.schemas import (
    CustomerRef,
    CustomerTokenIn,
    CustomerTokenOut,
    OtpSendIn,
    OtpSendOut,
    OtpVerifyIn,
)

router = APIRouter(prefix="/identity", tags=["identity"], dependencies=[Depends(require_service_token)])


@router.post("/otp", response_model=OtpSendOut, responses=error_responses(423, 429))
def send_otp(body: OtpSendIn, session: SessionDep, settings: SettingsDep) -> OtpSendOut:
    """Send a 6-digit code; the answer is the same whether or not the phone is a customer's."""
    expires_in = service.send_code(session, settings=settings, phone=body.phone, channel=body.channel,
                                   sender_id=body.sender_id)
    return OtpSendOut(sent=True, expires_in=expires_in)


@router.post("/otp/verify", response_model=CustomerRef, responses=error_responses(400, 423))
def verify_otp(body: OtpVerifyIn, session: SessionDep, settings: SettingsDep) -> CustomerRef:
    """Check the code and link channel + sender to the customer; 400 `otp_invalid`, 423 `otp_locked`."""
    customer_id = service.verify_code(session, settings=settings, phone=body.phone, code=body.code,
                                      channel=body.channel, sender_id=body.sender_id)
    return CustomerRef(customer_id=customer_id)


@router.get("/channels/{channel}/{sender_id}", response_model=CustomerRef)
def channel_customer(channel: str, sender_id: str, session: SessionDep) -> CustomerRef:
    """The verified customer behind a channel user; 404 when not verified."""
    return CustomerRef(customer_id=service.customer_for_channel(session, channel=channel, sender_id=sender_id))


@router.post("/customer-token", response_model=CustomerTokenOut, responses=error_responses(404))
def issue_customer_token(body: CustomerTokenIn, session: SessionDep, settings: SettingsDep) -> CustomerTokenOut:
    """Sign a customer token (HS256, `sub` = customer id) for a shopper the website has logged in."""
    get_customer(session, customer_id=body.customer_id)
    token = create_customer_token(body.customer_id, settings.customer_token_secret, body.ttl_seconds)
    return CustomerTokenOut(token=token, expires_in=body.ttl_seconds)
