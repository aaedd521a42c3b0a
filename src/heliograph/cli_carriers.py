"""`heliograph connectors …` and `heliograph routes …`: carrier links and the routes that choose them.

They change the database (SQLite data directory or HELIOGRAPH_DATABASE_URL), so running `serve` and
`worker` processes pick the change up within seconds, without a restart. Secrets given here (SMPP
password, upstream API key) are stored, never printed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from heliograph import logs
from heliograph.settings import Settings

connectors_app = typer.Typer(help="Carrier links: simulator, SMPP 3.4 (smpp), Telnyx-compatible HTTP (telnyx).")
connectors_add = typer.Typer(help="Add a connector.", no_args_is_help=True)
connectors_app.add_typer(connectors_add, name="add")
routes_app = typer.Typer(help="Routes: which connectors, in failover order, carry which messages.")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory [env HELIOGRAPH_DATA_DIR].", show_default=False),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _admin(data_dir: Path | None, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run one administration use case on a migrated database; refusals print one line and exit 1."""
    from heliograph.bootstrap import build
    from heliograph.services.connectors import AdminError, ensure_defaults
    from heliograph.store.migrate import upgrade

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> Any:
        if settings.resolved_database_url().startswith("sqlite"):
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        hg = build(settings)
        try:
            await upgrade(hg.ctx.db)
            await ensure_defaults(hg.ctx)
            return await action(hg.ctx)
        finally:
            await hg.ctx.db.dispose()

    try:
        return asyncio.run(main())
    except AdminError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


def _print_added(row: dict[str, Any], base_url: str | None) -> None:
    out.print(f"Connector [bold]{row['name']}[/bold] ({row['type']}) added; running processes open it within 5 s.")
    if row["type"] == "telnyx":
        where = (base_url or "http://<this server>") + row["webhook_path"]
        out.print(f"Point the upstream's webhooks (its messaging profile's webhook_url) at:\n  {where}")


def _tons(ton_npi: dict[str, int | None]) -> dict[str, int]:
    return {k: v for k, v in ton_npi.items() if v is not None}


@connectors_add.command("smpp")
def add_smpp(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    host: Annotated[str, typer.Option(help="SMSC host.")],
    port: Annotated[int, typer.Option(help="SMSC port.")],
    system_id: Annotated[str, typer.Option("--system-id", help="ESME system_id.")],
    password: Annotated[str, typer.Option(help="ESME password (stored, never shown).")],
    system_type: Annotated[str, typer.Option("--system-type", help="ESME system_type.")] = "",
    binds: Annotated[int, typer.Option(min=1, max=64, help="Parallel bind_transceiver sessions.")] = 1,
    window: Annotated[int, typer.Option(min=1, max=1000, help="Outstanding submit_sm per bind.")] = 10,
    mps: Annotated[float | None, typer.Option(min=0.1, help="Messages per second for the connector.")] = None,
    tls: Annotated[bool, typer.Option("--tls", help="Connect over TLS.")] = False,
    source_ton: Annotated[int | None, typer.Option("--source-ton", help="Override the source TON.")] = None,
    source_npi: Annotated[int | None, typer.Option("--source-npi", help="Override the source NPI.")] = None,
    dest_ton: Annotated[int | None, typer.Option("--dest-ton", help="Override the destination TON.")] = None,
    dest_npi: Annotated[int | None, typer.Option("--dest-npi", help="Override the destination NPI.")] = None,
    enquire_link_seconds: Annotated[
        float, typer.Option("--enquire-link-seconds", min=1, help="Keep-alive interval.")
    ] = 30.0,
    data_dir: DataDir = None,
) -> None:
    """An SMPP 3.4 link (ESME, bind_transceiver) to an SMSC."""
    from heliograph.services import connectors

    config: dict[str, Any] = {
        "host": host,
        "port": port,
        "system_id": system_id,
        "password": password,
        "system_type": system_type,
        "binds": binds,
        "window": window,
        "mps": mps,
        "tls": tls,
        "enquire_link_seconds": enquire_link_seconds,
        **_tons({"source_ton": source_ton, "source_npi": source_npi, "dest_ton": dest_ton, "dest_npi": dest_npi}),
    }
    from heliograph.carriers.smpp import SmppConfig

    try:
        SmppConfig(**config)  # refuse here what the link would refuse at every start
    except (TypeError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    row = _admin(data_dir, lambda ctx: connectors.add_connector(ctx, "smpp", name, config))
    _print_added(row, None)


@connectors_add.command("telnyx")
def add_telnyx(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    base_url: Annotated[str, typer.Option("--base-url", help="The upstream's API base, e.g. https://host/v2.")],
    api_key: Annotated[str, typer.Option("--api-key", help="The upstream API key (stored, never shown).")],
    public_key: Annotated[str, typer.Option("--public-key", help="The upstream's webhook public key (base64).")],
    messaging_profile_id: Annotated[
        str | None, typer.Option("--messaging-profile-id", help="Send with this upstream profile.")
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option("--webhook-url", help="Ask the upstream to send each message's webhooks here (full URL)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """An HTTP upstream speaking the Telnyx Messaging API v2 (Telnyx itself, or another Heliograph)."""
    import base64
    import binascii

    from heliograph.services import connectors

    if not base_url.startswith(("http://", "https://")):
        err.print("[red]--base-url must be an http(s) URL.[/red]")
        raise typer.Exit(1)
    try:
        if len(base64.b64decode(public_key, validate=True)) != 32:
            raise ValueError
    except (binascii.Error, ValueError):
        err.print("[red]--public-key must be the base64 of a 32-byte Ed25519 key.[/red]")
        raise typer.Exit(1) from None
    config: dict[str, Any] = {"base_url": base_url.rstrip("/"), "api_key": api_key, "public_key": public_key}
    if messaging_profile_id:
        config["messaging_profile_id"] = messaging_profile_id
    if webhook_url:
        config["webhook_url"] = webhook_url
    row = _admin(data_dir, lambda ctx: connectors.add_connector(ctx, "telnyx", name, config))
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    _print_added(row, settings.public_url or None)


@connectors_app.command("list")
def list_connectors(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Connectors with their link state (up, connecting, down), since, last error, in flight, sent/s."""
    from heliograph.services import connectors

    rows = _admin(data_dir, connectors.list_connectors)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("name", "type", "state", "since", "last error", "in flight", "sent/s", "target")
    for r in rows:
        table.add_row(
            r["name"],
            r["type"],
            _colour(r["state"]),
            _when(r["since"]),
            r["last_error"] or "",
            str(r["in_flight"]),
            f"{r['sent_per_second']:.1f}",
            _target(r),
        )
    out.print(table)


@connectors_app.command("remove")
def remove_connector(name: Annotated[str, typer.Argument()], data_dir: DataDir = None) -> None:
    """Remove a connector (refused while a route names it)."""
    from heliograph.services import connectors

    _admin(data_dir, lambda ctx: connectors.remove_connector(ctx, name))
    out.print(f"Connector {name} removed.")


@routes_app.command("add")
def add_route(
    name: Annotated[str, typer.Argument(help="Route name.")],
    connector: Annotated[list[str], typer.Option("--connector", help="Connector, in failover order (repeat).")],
    prefix: Annotated[
        list[str] | None, typer.Option("--prefix", help="E.164 destination prefix, e.g. +44 (repeat; none = any).")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Only this messaging profile's messages.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only SMS or only MMS.")] = None,
    priority: Annotated[int, typer.Option(help="A larger priority wins (the sandbox default route is 0).")] = 0,
    data_dir: DataDir = None,
) -> None:
    """Add a route: matching messages go to its first connector that is up."""
    from heliograph.services import connectors

    row = _admin(
        data_dir,
        lambda ctx: connectors.add_route(
            ctx, name, connector, prefixes=prefix or [], profile_id=profile, message_type=type_, priority=priority
        ),
    )
    out.print(f"Route [bold]{row['name']}[/bold] added: {_describe(row)}")


@routes_app.command("list")
def list_routes(data_dir: DataDir = None, as_json: JsonFlag = False) -> None:
    """Routes, highest priority first."""
    from heliograph.services import connectors

    rows = _admin(data_dir, connectors.list_routes)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("name", "priority", "prefixes", "profile", "type", "connectors")
    for r in rows:
        table.add_row(
            r["name"],
            str(r["priority"]),
            ", ".join(r["prefixes"]) or "any",
            r["messaging_profile_id"] or "any",
            r["type"] or "any",
            " → ".join(r["connectors"]),
        )
    out.print(table)


@routes_app.command("remove")
def remove_route(name: Annotated[str, typer.Argument()], data_dir: DataDir = None) -> None:
    """Remove a route."""
    from heliograph.services import connectors

    _admin(data_dir, lambda ctx: connectors.remove_route(ctx, name))
    out.print(f"Route {name} removed.")


def _describe(route: dict[str, Any]) -> str:
    what = ", ".join(route["prefixes"]) or "any destination"
    if route["type"]:
        what += f", {route['type']} only"
    if route["messaging_profile_id"]:
        what += f", profile {route['messaging_profile_id']}"
    return f"{what} → {' → '.join(route['connectors'])} (priority {route['priority']})"


def _colour(state: str) -> str:
    return {"up": "[green]up[/green]", "connecting": "[yellow]connecting[/yellow]"}.get(state, "[red]down[/red]")


def _when(since_us: int | None) -> str:
    if not since_us:
        return ""
    import datetime as dt

    return dt.datetime.fromtimestamp(since_us / 1_000_000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _target(row: dict[str, Any]) -> str:
    config = row["config"]
    if row["type"] == "smpp":
        return f"{config.get('host')}:{config.get('port')} ({config.get('system_id')})"
    if row["type"] == "telnyx":
        return str(config.get("base_url", ""))
    return ""
