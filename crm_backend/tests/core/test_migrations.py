"""Alembic 0001_core matches the models and can be downgraded and re-applied (both databases)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import crm_backend.models  # noqa: F401
from crm_backend.cli import alembic_config
from crm_backend.core.db import Base, make_engine
from crm_backend.tests.conftest import _recreate_pg_database

CORE_TABLES = {"customers", "referrals", "channel_identities", "otp_challenges", "outbox_messages", "orders",
               "order_items", "shipping_events", "points_accounts", "points_entries", "rewards", "redemptions",
               "agents", "idempotency_keys"}


def _table_of(diff):
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None:
            return table.name
        if name in CORE_TABLES:
            return name
    return item[2] if len(item) > 2 and isinstance(item[2], str) else None


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_core_migration_round_trip_and_matches_models(kind, tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}" if kind == "sqlite" else _recreate_pg_database("kefu_test_core_migrations")
    config = alembic_config(url)
    command.upgrade(config, "0001_core")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert CORE_TABLES <= set(inspect(conn).get_table_names())
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            drift = [d for d in diffs if _table_of(d) in CORE_TABLES]
            assert drift == []
        command.downgrade(config, "base")
        with engine.connect() as conn:
            assert not CORE_TABLES & set(inspect(conn).get_table_names())
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert CORE_TABLES <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_head_matches_every_packages_models(kind, tmp_path):
    from crm_backend.models import load_all_models

    loaded = load_all_models()
    assert "crm_backend.points.models" in loaded and "crm_backend.handoff.models" in loaded
    url = f"sqlite:///{tmp_path / 'h.db'}" if kind == "sqlite" else _recreate_pg_database("kefu_test_core_migrations")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert [d for d in diffs if _table_of(d) != "alembic_version"] == []
    finally:
        engine.dispose()
