"""hardening: encrypted signing seeds, API key prefixes and last use, daily spend per profile

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:30:00

- `organizations.signing_seed` grows to hold a sealed seed (services/secrets.py), not only 64 hex digits.
- `api_keys.prefix` becomes the start of the key's hash: the first characters of a chosen key told
  too much about it. `api_keys.last_used_at` is written when a process first sees a key again.
- `profile_daily_spend` keeps each profile's spend of the current UTC day, charged in the same
  transaction as the messages it pays for, so a limit holds across processes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("organizations", "signing_seed", type_=sa.String(length=200), existing_nullable=False)
    op.add_column("api_keys", sa.Column("last_used_at", sa.BigInteger(), nullable=True))
    op.execute("UPDATE api_keys SET prefix = substr(key_hash, 1, 12)")
    op.create_table(
        "profile_daily_spend",
        sa.Column("messaging_profile_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("limit_reached_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("messaging_profile_id", "day", name=op.f("pk_profile_daily_spend")),
    )


def downgrade() -> None:
    op.drop_table("profile_daily_spend")
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("last_used_at")
