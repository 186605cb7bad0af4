"""Playbooks (supervisors/admins, console login), the opt-out the bot calls (service token), widget outreach."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from crm_backend.api.deps import CurrentCustomerId, LanguageDep, ServiceAuth, SessionDep
from crm_backend.api.responses import error_responses
from crm_backend.console import auth, pages
from crm_backend.console.deps import CurrentSupervisor
from crm_backend.core.bounds import IdPath, IdQuery
from crm_backend.playbook import delivery, service, templates
from crm_backend.playbook.config import get_outreach_settings
from crm_backend.playbook.queue import get_queue
from crm_backend.playbook.schemas import (
    Measurement,
    OptOutIn,
    OptOutOut,
    PlaybookIn,
    PlaybookOut,
    PreferencesIn,
    PreferencesOut,
    RunOut,
)

router = APIRouter(tags=["playbooks"])
root_router = APIRouter(include_in_schema=False)


class WidgetMessage(BaseModel):
    id: int
    text: str


def _out(playbook: object) -> PlaybookOut:
    return PlaybookOut.model_validate(playbook)


@router.get("/playbooks", response_model=list[PlaybookOut])
def list_playbooks(session: SessionDep, _s: CurrentSupervisor) -> list[PlaybookOut]:
    service.ensure_defaults(session)
    return [_out(p) for p in service.repository.playbooks(session)]


@router.get("/playbooks/fields")
def template_fields(_s: CurrentSupervisor) -> dict[str, str]:
    """The customer fields a template may use as `{field}`."""
    return templates.FIELDS


@router.post("/playbooks", response_model=PlaybookOut, status_code=201)
def create_playbook(body: PlaybookIn, session: SessionDep, supervisor: CurrentSupervisor) -> PlaybookOut:
    key = re.sub(r"[^a-z0-9]+", "_", body.name_en.lower()).strip("_")[:40] or "playbook"
    existing = {p.key for p in service.repository.playbooks(session)}
    unique, n = key, 1
    while unique in existing:
        n += 1
        unique = f"{key}_{n}"
    playbook = service.create(session, data=body, key=unique, by=supervisor)
    return _out(playbook)


@router.put("/playbooks/{playbook_id}", response_model=PlaybookOut)
def update_playbook(playbook_id: IdPath, body: PlaybookIn, session: SessionDep,
                    supervisor: CurrentSupervisor) -> PlaybookOut:
    playbook = service.update(session, playbook_id=playbook_id, data=body, by=supervisor)
    return _out(playbook)


@router.post("/playbooks/{playbook_id}/run", response_model=RunOut)
def run_playbook(playbook_id: IdPath, session: SessionDep, _s: CurrentSupervisor) -> RunOut:
    """Start today's occurrence now (a second call re-queues only what is still pending)."""
    started = service.start_run(session, playbook_id=playbook_id)
    session.commit()  # the workers read the deliveries: they must be stored before they are queued
    queued = get_queue().enqueue(started.to_send)
    run = started.run
    return RunOut(run_id=run.id, playbook_id=playbook_id, occurrence=run.occurrence, treated=run.treated,
                  holdout=run.holdout, queued=queued)


@router.get("/playbooks/{playbook_id}/measurement", response_model=Measurement)
def measurement(playbook_id: IdPath, session: SessionDep, _s: CurrentSupervisor,
                run_id: IdQuery = None) -> Measurement:
    return service.measure(session, playbook_id=playbook_id, run_id=run_id)


@router.get("/playbooks/{playbook_id}/runs", response_model=list[Measurement])
def run_measurements(playbook_id: IdPath, session: SessionDep, _s: CurrentSupervisor) -> list[Measurement]:
    return [service.measure(session, playbook_id=playbook_id, run_id=r.id)
            for r in service.runs(session, playbook_id=playbook_id)]


@router.post("/messaging/opt-out", response_model=OptOutOut, responses=error_responses(404))
def opt_out(body: OptOutIn, session: SessionDep, _: ServiceAuth, language: LanguageDep) -> OptOutOut:
    """"退订" / "unsubscribe" / "stop messages" on any channel: effective at once, confirmation in the language."""
    customer_id, message = service.opt_out(session, channel=body.channel, sender_id=body.sender_id,
                                           customer_id=body.customer_id, kind=body.kind, language=language)
    return OptOutOut(customer_id=customer_id, opted_out=True, message=message)


@router.get("/customers/{customer_id}/messaging-preferences", response_model=PreferencesOut,
            responses=error_responses(404))
def get_preferences(customer_id: IdPath, session: SessionDep, _: ServiceAuth) -> PreferencesOut:
    """Opt-out switches and the time zone quiet hours are counted in."""
    prefs = service.preferences(session, customer_id=customer_id,
                                default_timezone=get_outreach_settings().default_timezone)
    return PreferencesOut.model_validate(prefs, from_attributes=True)


@router.put("/customers/{customer_id}/messaging-preferences", response_model=PreferencesOut,
            responses=error_responses(404, 422))
def put_preferences(customer_id: IdPath, body: PreferencesIn, session: SessionDep,
                    _: ServiceAuth) -> PreferencesOut:
    """Set the customer's time zone (IANA name) or switch marketing / service messages back on or off."""
    prefs = service.update_preferences(session, customer_id=customer_id, changes=body,
                                       default_timezone=get_outreach_settings().default_timezone)
    return PreferencesOut.model_validate(prefs, from_attributes=True)


# The widget runs on the shop's own pages, another origin than the CRM. The customer token travels in a
# header, never a cookie, so any origin may ask: only a page that already holds the token gets an answer.
WIDGET_CORS = {"Access-Control-Allow-Origin": "*"}


@router.options("/widget/outreach", include_in_schema=False)
def widget_outreach_preflight() -> Response:
    return Response(status_code=204, headers={**WIDGET_CORS, "Access-Control-Allow-Methods": "GET",
                                              "Access-Control-Allow-Headers": "X-Customer-Token, Accept-Language",
                                              "Access-Control-Max-Age": "600"})


@router.get("/widget/outreach", response_model=list[WidgetMessage])
def widget_outreach(session: SessionDep, customer_id: CurrentCustomerId, response: Response) -> list[WidgetMessage]:
    """Messages a playbook left for this customer's next website visit (each is shown once)."""
    response.headers.update(WIDGET_CORS)
    rows = delivery.widget_messages(session, customer_id=customer_id)
    return [WidgetMessage(id=r.id, text=r.text) for r in rows]


@root_router.get("/playbooks")
def playbooks_page(request: Request, session: SessionDep) -> Response:
    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is None:
        return RedirectResponse("/console/login", status_code=303)
    row, agent = found
    if agent.role not in ("supervisor", "admin"):
        return RedirectResponse("/console", status_code=303)
    service.ensure_defaults(session)
    items = [(p, service.measure(session, playbook_id=p.id),
              [(r, service.measure(session, playbook_id=p.id, run_id=r.id))
               for r in service.runs(session, playbook_id=p.id)[:10]])
             for p in service.repository.playbooks(session)]
    return pages.render(request, "playbooks.html", {"agent": agent, "csrf_token": row.csrf_token, "items": items,
                                                    "fields": templates.FIELDS})
