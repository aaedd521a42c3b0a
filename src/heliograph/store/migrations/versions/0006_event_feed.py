"""event feed cursor on webhook_events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:00:00

`seq` orders the organization's events for the live event stream (services/event_feed.py); on
PostgreSQL `txid` (the inserting transaction's id) makes the order safe under concurrent writers:
a reader only takes rows of transactions older than every transaction still running, so a row
that commits late can never land behind a cursor that has already moved past it. On SQLite, where
writers take turns, `seq` alone is enough and is given by a trigger (MAX + 1), and `txid` stays 0.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS webhook_events_feed_seq")
        op.add_column("webhook_events", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.add_column("webhook_events", sa.Column("txid", sa.BigInteger(), nullable=False, server_default="0"))
        op.execute(
            "UPDATE webhook_events w SET seq = s.n FROM "
            "(SELECT id, row_number() OVER (ORDER BY occurred_at, id) AS n FROM webhook_events) s WHERE w.id = s.id"
        )
        op.execute(
            "SELECT setval('webhook_events_feed_seq', COALESCE((SELECT max(seq) FROM webhook_events), 0) + 1, false)"
        )
        op.execute("ALTER TABLE webhook_events ALTER COLUMN seq SET DEFAULT nextval('webhook_events_feed_seq')")
        op.execute("ALTER TABLE webhook_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)")
    else:
        op.add_column("webhook_events", sa.Column("seq", sa.BigInteger(), nullable=True))
        op.add_column("webhook_events", sa.Column("txid", sa.BigInteger(), nullable=False, server_default="0"))
        op.execute("UPDATE webhook_events SET seq = rowid")
        op.execute(
            "CREATE TRIGGER webhook_events_feed_seq AFTER INSERT ON webhook_events WHEN NEW.seq IS NULL BEGIN "
            "UPDATE webhook_events SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_events) "
            "WHERE rowid = NEW.rowid; END"
        )
    op.create_index("ix_webhook_events_seq", "webhook_events", ["seq"])
    op.create_index("ix_webhook_events_feed", "webhook_events", ["organization_id", "txid", "seq"])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_webhook_events_feed", table_name="webhook_events")
    op.drop_index("ix_webhook_events_seq", table_name="webhook_events")
    if bind.dialect.name == "postgresql":
        op.drop_column("webhook_events", "txid")
        op.drop_column("webhook_events", "seq")
        op.execute("DROP SEQUENCE IF EXISTS webhook_events_feed_seq")
    else:
        op.execute("DROP TRIGGER IF EXISTS webhook_events_feed_seq")
        with op.batch_alter_table("webhook_events") as batch_op:
            batch_op.drop_column("txid")
            batch_op.drop_column("seq")
