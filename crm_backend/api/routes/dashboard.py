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
from crm_backend.core.errors import NotFoundError, ValidationFailed
from crm_backend.dashboard import service

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
# Header of a table that has no rows (the others always have rows).
EMPTY_COLUMNS = {
    "queue": ["id", "customer_name", "priority", "status", "assigned_agent_name", "channel", "waiting_minutes",
              "value_customer"],
    "churn": ["customer_id", "customer_name", "tier", "churn_score", "reasons_text", "action"],
    "audit": ["at", "agent", "action", "handoff_id", "details", "ip"],
}


# Dates the figures can cover; also keeps `end + 1 day` (the exclusive bound) a valid date.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


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


def table(session: SessionDep, name: str, start: date, end: date, lang: str) -> list[dict[str, Any]]:
    if name == "kpis":
        return [service.kpis(session, start=start, end=end)]
    if name == "timeseries":
        return service.timeseries(session, start=start, end=end)
    if name == "segments":
        return service.segments(session, language=lang)
    if name == "churn":
        return service.churn_list(session, language=lang)
    if name == "agents":
        return service.agents(session, start=start, end=end)
    if name == "queue":
        return service.live_queue(session)
    if name == "audit":
        return service.audit_trail(session, start=start, end=end)
    raise NotFoundError(f"No dashboard table {name}", f"没有看板表 {name}")


@router.get("/kpis")
def kpis(session: SessionDep, _s: CurrentSupervisor, start: date | None = None, end: date | None = None
         ) -> dict[str, Any]:
    """Average CSAT, NPS, complaint rate, escalation and containment rates, first response, SLA breaches."""
    lo, hi = period(start, end)
    return service.kpis(session, start=lo, end=hi)


@router.get("/{name}")
def rows(name: str, session: SessionDep, _s: CurrentSupervisor, start: date | None = None, end: date | None = None,
         lang: str = "en") -> dict[str, list[dict[str, Any]]]:
    """One dashboard table: timeseries, segments, churn, agents, queue or audit."""
    lo, hi = period(start, end)
    return {"items": table(session, name, lo, hi, "zh" if lang == "zh" else "en")}


@router.get("/export/{name}.csv")
def export(name: str, session: SessionDep, _s: CurrentSupervisor, start: date | None = None,
           end: date | None = None, lang: str = "en") -> Response:
    """Any dashboard table as CSV (UTF-8 with BOM so spreadsheet programs read Chinese correctly)."""
    lo, hi = period(start, end)
    items = table(session, name, lo, hi, "zh" if lang == "zh" else "en")
    buffer = io.StringIO()
    columns = list(items[0].keys()) if items else EMPTY_COLUMNS.get(name, ["empty"])
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(items)
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kefu-{name}-{lo}-{hi}.csv"'})
