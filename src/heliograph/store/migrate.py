"""Run Alembic migrations from code, on the same engine the server uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from heliograph.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config()

    def _run(sync_conn) -> None:  # noqa: ANN001
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.transaction() as conn:
        await conn.run_sync(_run)


async def autogenerate(db: Database, message: str) -> None:
    """Developer helper: write a new revision from the difference between tables.py and the database."""
    cfg = alembic_config()

    def _run(sync_conn) -> None:  # noqa: ANN001
        cfg.attributes["connection"] = sync_conn
        command.revision(cfg, message=message, autogenerate=True)

    async with db.transaction() as conn:
        await conn.run_sync(_run)
