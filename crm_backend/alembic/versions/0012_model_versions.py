"""Model roll-out: model versions (trainings, gate results) and the deployments that chose one.

Revision ID: 0012_model_versions
Revises: 0011_response_breaches
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_model_versions"
down_revision: str | None = "0011_response_breaches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(200), nullable=False, server_default=""),
        sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("annotations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("heldout_annotations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("baseline_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("gate", sa.JSON(), nullable=True),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("train_seconds", sa.Float(), nullable=True),
    )
    op.create_index("ix_model_versions_status", "model_versions", ["status"])
    op.create_index("ix_model_versions_sha256", "model_versions", ["sha256"])
    op.create_table(
        "model_deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_model_deployments_version_id", "model_deployments", ["version_id"])


def downgrade() -> None:
    op.drop_table("model_deployments")
    op.drop_table("model_versions")
