"""shared limits: send slots and API rate-limit buckets that every process shares

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:50:00

- `pacing_slots` keeps, per sender (a number, a sender ID, a connector), the next free send slot, so
  sender throughput holds across API and worker processes. Seeded from the queue: a sender with queued
  messages starts after its last one.
- `rate_limit_buckets` keeps each API key's bucket (as its theoretical arrival time, GCRA), so the
  per-key rate limit holds across API processes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_slots",
        sa.Column("sender", sa.String(length=120), nullable=False),
        sa.Column("next_free", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_pacing_slots")),
    )
    op.execute(
        "INSERT INTO pacing_slots (sender, next_free) SELECT from_number, max(due_at) FROM messages "
        "WHERE status = 'queued' AND direction = 'outbound' GROUP BY from_number"
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("tat", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_rate_limit_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
    op.drop_table("pacing_slots")
