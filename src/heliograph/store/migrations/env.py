"""Alembic environment: migrations always run on a connection handed in by heliograph.store.migrate."""

from alembic import context

from heliograph.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `heliograph migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
