"""invoice.discount_minor: an invoice-level discount taken off the sum of the lines before tax

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoice", sa.Column("discount_minor", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("discount_minor")
