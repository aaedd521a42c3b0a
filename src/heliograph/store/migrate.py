"""Run Alembic migrations from code, on the same engine the server uses."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config()

    def _run(sync_conn: Connection) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.transaction() as conn:
        await conn.run_sync(_run)


async def autogenerate(db: Database, message: str) -> None:
    """Developer helper: write a new revision from the difference between tables.py and the database."""
    cfg = alembic_config()

    def _run(sync_conn: Connection) -> None:
        cfg.attributes["connection"] = sync_conn
        command.revision(cfg, message=message, autogenerate=True)

    async with db.transaction() as conn:
        await conn.run_sync(_run)


_known: tuple[str, frozenset[str]] | None = None


def _revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of the migration scripts this release ships, read once."""
    global _known
    if _known is None:
        from alembic.script import ScriptDirectory

        scripts = ScriptDirectory.from_config(alembic_config())
        head = cast(str, scripts.get_current_head())  # None only for a tree with no migrations at all
        _known = (head, frozenset(r.revision for r in scripts.walk_revisions()))
    return _known


def head_revision() -> str:
    """The newest revision this release ships."""
    return _revisions()[0]


def schema_state(revision: str | None) -> str:
    """current; behind (this release has migrations the database lacks: run `heliograph migrate`); or ahead
    (a newer release already migrated it, as in the middle of a rolling upgrade)."""
    head, known = _revisions()
    if revision == head:
        return "current"
    return "behind" if revision is None or revision in known else "ahead"


async def current_revision(conn: AsyncConnection) -> str | None:
    """The revision the database is at; None before the first migration."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        revision: str | None = (
            await conn.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar_one_or_none()
        return revision
    except DBAPIError:  # no alembic_version table yet
        return None
