"""Supervisor dashboard API: KPIs, trend, segments, churn list, live queue, agent load, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from crm_backend.api.deps import SessionDep
from crm_backend.console.deps import CurrentSupervisor
from crm_backend.copilot import figures as copilot_figures
from crm_backend.core.errors import NotFoundError, ValidationFailed
from crm_backend.core.pagination import Page, PageDep
from crm_backend.dashboard import service

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
# Header of a table that has no rows (the others always have rows).
EMPTY_COLUMNS = {
    "queue": ["id", "customer_name", "priority", "status", "assigned_agent_name", "channel", "waiting_minutes",
              "value_customer"],
    "churn": ["customer_id", "customer_name", "tier", "churn_score", "reasons_text", "action"],
    "audit": ["at", "agent", "action", "handoff_id", "details", "ip"],
}


# Tables long enough to page through; a CSV export takes up to EXPORT_ROWS rows of them.
PAGED = frozenset({"churn", "audit", "queue", "agents"})
EXPORT_ROWS = 10_000
# Dates the figures can cover; also keeps `end + 1 day` (the exclusive bound) a valid date.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def all_kpis(session: SessionDep, *, start: date, end: date) -> dict[str, Any]:
    """The dashboard's KPIs and the copilot's figures of agent work, for the same days."""
    lo, hi = service.bounds(start, end)
    return {**service.kpis(session, start=start, end=end), **copilot_figures.kpis(session, lo=lo, hi=hi)}


def period(start: date | None, end: date | None) -> tuple[date, date]:
    default_start, default_end = service.default_period()
    start, end = start or default_start, end or default_end
    if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
        raise ValidationFailed(f"dates must be between {FIRST_DAY} and {LAST_DAY}",
                               f"日期须在 {FIRST_DAY} 到 {LAST_DAY} 之间",
                               {"start": start.isoformat(), "end": end.isoformat()})
    if start > end:
        raise ValidationFailed("start must not be after end", "开始日期不能晚于结束日期")
    if (end - start).days > 731:
        raise ValidationFailed("period is limited to two years", "时间段最长两年")
    return start, end


def table(session: SessionDep, name: str, start: date, end: date, lang: str, *, limit: int = EXPORT_ROWS,
          offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of a table and its row count; the tables not in PAGED come whole (the chart needs every day)."""
    if name == "churn":
        return service.churn_list(session, language=lang, limit=limit, offset=offset)
    if name == "audit":
        return service.audit_trail(session, start=start, end=end, limit=limit, offset=offset)
    items: list[dict[str, Any]]
    if name == "kpis":
        items = [all_kpis(session, start=start, end=end)]
    elif name == "timeseries":
        items = service.timeseries(session, start=start, end=end)
    elif name == "segments":
        items = service.segments(session, language=lang)
    elif name == "agents":
        items = service.agents(session, start=start, end=end)
    elif name == "queue":
        items = service.live_queue(session)
    else:
        raise NotFoundError(f"No dashboard table {name}", f"没有看板表 {name}")
    if name in PAGED:
        return items[offset:offset + limit], len(items)
    return items, len(items)


@router.get("/kpis")
def kpis(session: SessionDep, _s: CurrentSupervisor, start: date | None = None, end: date | None = None
         ) -> dict[str, Any]:
    """Average CSAT, NPS, complaint rate, escalation and containment rates, first response, SLA breaches."""
    lo, hi = period(start, end)
    return all_kpis(session, start=lo, end=hi)


@router.get("/{name}", response_model=Page[dict[str, Any]])
def rows(name: str, session: SessionDep, _s: CurrentSupervisor, page: PageDep, start: date | None = None,
         end: date | None = None, lang: str = "en") -> Page[dict[str, Any]]:
    """One dashboard table: timeseries, segments, churn, agents, queue or audit. churn, audit, queue and agents
    come a page at a time (`limit`, `offset`; `total` counts every row); the others whole, whatever the page."""
    lo, hi = period(start, end)
    items, total = table(session, name, lo, hi, "zh" if lang == "zh" else "en", limit=page.limit,
                         offset=page.offset)
    paged = name in PAGED
    return Page[dict[str, Any]](items=items, total=total, limit=page.limit if paged else total,
                                offset=page.offset if paged else 0)


@router.get("/export/{name}.csv")
def export(name: str, session: SessionDep, _s: CurrentSupervisor, start: date | None = None,
           end: date | None = None, lang: str = "en") -> Response:
    """Any dashboard table as CSV (UTF-8 with BOM so spreadsheet programs read Chinese correctly)."""
    lo, hi = period(start, end)
    items, _total = table(session, name, lo, hi, "zh" if lang == "zh" else "en")
    buffer = io.StringIO()
    columns = list(items[0].keys()) if items else EMPTY_COLUMNS.get(name, ["empty"])
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(items)
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kefu-{name}-{lo}-{hi}.csv"'})
