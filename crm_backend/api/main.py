"""The `/api/v1` router and the site-root pages, every route module listed here by hand."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from crm_backend.api.routes import (
    analysis,
    auth,
    campaigns,
    console,
    conversations,
    customers,
    dashboard,
    dev,
    escalation,
    feedback,
    handoffs,
    identity,
    interactions,
    knowledge,
    metrics,
    models,
    nlu,
    orders,
    playbooks,
    points,
    recommendations,
    rewards,
    scores,
    tickets,
    tiers,
    widget,
)

API_PREFIX = "/api/v1"

API_ROUTERS = (analysis.router, auth.router, campaigns.router, console.router, conversations.router,
               customers.router, dashboard.router, dev.router, escalation.router, feedback.router, handoffs.router,
               identity.router, interactions.router, knowledge.router, models.router, nlu.router, orders.router,
               playbooks.router, points.router, recommendations.router, rewards.router, scores.router,
               tickets.router, tiers.router)
# HTML pages: /console, /demo, /help, …
ROOT_ROUTERS = (auth.root_router, console.root_router, conversations.root_router, knowledge.root_router,
                metrics.root_router, models.root_router, nlu.root_router, playbooks.root_router, widget.root_router)


def include_routes(app: FastAPI) -> None:
    """Include every API router under /api/v1 and the page routers at the site root."""
    api_router = APIRouter(prefix=API_PREFIX)
    for router in API_ROUTERS:
        api_router.include_router(router)
    app.include_router(api_router)
    for router in ROOT_ROUTERS:
        app.include_router(router)
