"""Administration commands for keys and secrets: `accounts list-keys`, `accounts revoke-key`,
`secrets new-key`, `secrets reseal`. They work on the database directly, like `accounts create`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from heliograph import logs
from heliograph.settings import Settings

secrets_app = typer.Typer(help="The key that seals secrets at rest (gateway), and its rotation.", no_args_is_help=True)
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory [env HELIOGRAPH_DATA_DIR].", show_default=False),
]


def register(app: typer.Typer, accounts_app: typer.Typer) -> None:
    accounts_app.command("list-keys")(list_keys)
    accounts_app.command("revoke-key")(revoke_key)
    app.add_typer(secrets_app, name="secrets")


def _settings(data_dir: Path | None) -> Settings:
    return Settings() if data_dir is None else Settings(data_dir=data_dir)


async def _open(settings: Settings):
    from heliograph.bootstrap import build
    from heliograph.store.migrate import upgrade

    if settings.resolved_database_url().startswith("sqlite"):
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    hg = build(settings)
    await upgrade(hg.ctx.db)
    return hg


def _when(us: int | None) -> str | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC).isoformat(timespec="seconds")


def list_keys(
    organization_id: Annotated[str | None, typer.Argument(help="Only this organization's keys.")] = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API keys: id, prefix (the start of the key's hash), created, last used, revoked."""
    settings = _settings(data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> list[dict[str, Any]]:
        from heliograph.services import accounts

        hg = await _open(settings)
        try:
            return await accounts.list_keys(hg.ctx, organization_id)
        finally:
            await hg.ctx.db.dispose()

    rows = [
        {
            "id": r["id"],
            "organization_id": r["organization_id"],
            "prefix": r["prefix"],
            "created_at": _when(r["created_at"]),
            "last_used_at": _when(r["last_used_at"]),
            "revoked_at": _when(r["revoked_at"]),
        }
        for r in asyncio.run(main())
    ]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "organization", "prefix", "created", "last used", "revoked")
    for r in rows:
        used, revoked = r["last_used_at"] or "-", r["revoked_at"] or "-"
        table.add_row(r["id"], r["organization_id"], r["prefix"], r["created_at"], used, revoked)
    Console().print(table)


def revoke_key(
    key: Annotated[str, typer.Argument(help="The key's id or prefix (see list-keys), or the key itself.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key: every server stops accepting it within about a second."""
    settings = _settings(data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> dict[str, Any]:
        from heliograph.services import accounts

        hg = await _open(settings)
        try:
            return await accounts.revoke_key(hg.ctx, key)
        except accounts.KeyNotFound as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        finally:
            await hg.ctx.db.dispose()

    row = asyncio.run(main())
    print(json.dumps({"id": row["id"], "prefix": row["prefix"], "revoked_at": _when(row["revoked_at"])}))


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Print a fresh random key for HELIOGRAPH_SECRET_KEY (32 bytes, base64). Keep it out of the database's backups."""
    from heliograph.services import sealing

    print(sealing.new_key())


@secrets_app.command("reseal")
def secrets_reseal(data_dir: DataDir = None) -> None:
    """Seal every plain secret with HELIOGRAPH_SECRET_KEY, and re-seal those sealed with a key listed in
    HELIOGRAPH_PREVIOUS_SECRET_KEYS (key rotation). Safe to run while servers run, and again."""
    settings = _settings(data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> dict[str, int]:
        from heliograph.services import sealing

        hg = await _open(settings)
        try:
            report = await sealing.reseal_all(hg.ctx)
        except sealing.SecretKeyError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        finally:
            await hg.ctx.db.dispose()
        if settings.secret_key is None and settings.secret_key_file is None:
            err.print("[yellow]No HELIOGRAPH_SECRET_KEY: secrets stay plain.[/yellow]")
        return {
            "resealed": report.resealed,
            "current": report.current,
            "previous": report.previous,
            "plain": report.plain,
        }

    print(json.dumps(asyncio.run(main())))
