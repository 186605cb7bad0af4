"""Migration 0002_service creates exactly what the service models declare (both databases)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import crm_backend.models  # noqa: F401  (core tables the service tables refer to)
from crm_backend.core.db import Base
from crm_backend.feedback.models import Feedback
from crm_backend.interaction.models import Interaction
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket, TicketStatusChange

SERVICE_TABLES = {m.__tablename__ for m in (Ticket, TicketStatusChange, Feedback, Interaction, CustomerScore)}


def _table_of(diff: tuple) -> str | None:
    for item in diff[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name and name in SERVICE_TABLES:
            return str(name)
    return diff[2] if len(diff) > 2 and isinstance(diff[2], str) else None


def test_schema_matches_models(db_engine: Engine) -> None:
    assert SERVICE_TABLES <= set(inspect(db_engine).get_table_names())
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    ours = [d for d in flat if _table_of(d) in SERVICE_TABLES]
    assert ours == []
