"""replica: the `connector run` replicas sharing the connections (id, host, pid, started, last heartbeat)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 18:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replica",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_replica_heartbeat_at", "replica", ["heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_replica_heartbeat_at", table_name="replica")
    op.drop_table("replica")
