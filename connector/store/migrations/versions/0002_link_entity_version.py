"""link.entity_version: the canonical version each connection last holds (push diff and echo suppression)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("link", sa.Column("entity_version", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_target_status", "outbox", ["connection", "status", "entity_kind"])


def downgrade() -> None:
    op.drop_index("ix_outbox_target_status", table_name="outbox")
    with op.batch_alter_table("link") as batch:
        batch.drop_column("entity_version")
