"""The `heliograph` command: serve, info, numbers, migrate."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console

from heliograph import cli_admin, cli_carriers, cli_dev, logs
from heliograph.settings import Settings

app = typer.Typer(
    help="Heliograph: the Telnyx Messaging API v2, self-hosted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
numbers_app = typer.Typer(help="Manage the sandbox account's numbers.", no_args_is_help=True)
app.add_typer(numbers_app, name="numbers")
accounts_app = typer.Typer(help="Organizations and API keys (gateway administration).", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
cli_admin.register(app, accounts_app)  # accounts list-keys / revoke-key, secrets
cli_dev.register(app)  # listen, trigger, send, preview, webhooks
app.add_typer(cli_carriers.connectors_app, name="connectors")
app.add_typer(cli_carriers.routes_app, name="routes")

logger = logging.getLogger("heliograph")
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory [env HELIOGRAPH_DATA_DIR].", show_default=False),
]


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _lock_data_dir(settings: Settings) -> Any:
    """One sandbox server per data directory: a second one would fight over the same leases."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = open(settings.data_dir / "heliograph.lock", "w")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        err.print(f"[red]Another heliograph server is using {settings.data_dir}.[/red]")
        raise typer.Exit(1) from None
    return handle


async def _prepare(settings: Settings):
    """Migrate, and in the sandbox make sure the account exists. Returns (heliograph, account or None)."""
    from heliograph.bootstrap import build
    from heliograph.services import accounts
    from heliograph.store.migrate import upgrade

    if hg_is_sqlite(settings):
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    hg = build(settings)
    await upgrade(hg.ctx.db)
    account = None
    if settings.mode == "sandbox":
        try:
            account = await accounts.bootstrap_sandbox(hg.ctx, settings.api_key)
        except accounts.KeyTooShort as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    return hg, account


def hg_is_sqlite(settings: Settings) -> bool:
    return settings.resolved_database_url().startswith("sqlite")


def _banner(settings: Settings, account: Any) -> None:
    base = settings.base_url() + "/v2"
    out = Console(stderr=False, highlight=False, soft_wrap=True)
    out.print(f"[bold]Heliograph[/bold] sandbox listening on {settings.base_url()}")
    out.print(f"  API base URL      {base}")
    out.print(f"  Console           {settings.base_url()}/console/")
    if account.new_api_key:
        out.print(f"  API key           [bold yellow]{account.new_api_key}[/bold yellow]  (shown once; stored hashed)")
    elif settings.api_key:
        out.print("  API key           the one in HELIOGRAPH_API_KEY")
    else:
        out.print("  API key           (created on first start; run with HELIOGRAPH_API_KEY=... to choose one)")
    out.print(f"  Webhook public key {account.organization['public_key']}")
    out.print(f"  Messaging profile {account.profile_id}")
    out.print(f"  Numbers           {', '.join(account.phone_numbers)}")
    out.print("  For the official SDKs:")
    out.print(f"    export TELNYX_BASE_URL={base}")
    key = account.new_api_key or (settings.api_key and "$HELIOGRAPH_API_KEY") or "<your key>"
    out.print(f"    export TELNYX_API_KEY={key}")
    out.print(f"    export TELNYX_PUBLIC_KEY={account.organization['public_key']}")
    sys.stdout.flush()


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Listen address [env HELIOGRAPH_HOST, default 127.0.0.1].", show_default=False),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen port [env HELIOGRAPH_PORT, default 8000].", show_default=False)
    ] = None,
    data_dir: DataDir = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            min=1,
            help="API processes sharing the port (SO_REUSEPORT) [env HELIOGRAPH_PROCESSES, default 1]. "
            "The sandbox's API processes share one worker process.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=16,
            help="Sandbox: worker processes (dispatch, receipts, webhooks) sharing the work "
            "[env HELIOGRAPH_WORKER_PROCESSES, default 1].",
            show_default=False,
        ),
    ] = None,
    api_child: Annotated[bool, typer.Option("--api-child", hidden=True, help="Started by --processes.")] = False,
    wake_write_fd: Annotated[int | None, typer.Option("--wake-write-fd", hidden=True, help="Pipe to workers.")] = None,
) -> None:
    """Run the API, the workers and the sandbox carrier (workers in a second process in the sandbox)."""
    from heliograph.api.app import create_app

    settings = _settings(host=host, port=port, data_dir=data_dir, processes=processes, worker_processes=workers)
    logs.configure(settings.log_level, settings.log_format)
    if api_child:
        _configure_metrics(settings, starts_others=False)
        _run(_serve_api_child(settings, wake_write_fd))
        return
    lock = _lock_data_dir(settings) if settings.mode == "sandbox" else None
    _configure_metrics(settings, starts_others=True, processes=settings.processes)
    if settings.processes > 1:
        if settings.port == 0:
            err.print("[red]--processes needs a fixed --port (each process binds it).[/red]")
            raise typer.Exit(2)
        _run(_supervise_api(settings))
        if lock is not None:
            lock.close()
        return

    async def main() -> None:
        hg, account = await _prepare(settings)
        _tune_gc()
        worker_process = None
        if settings.mode == "sandbox" and settings.worker_process:
            worker_process = await _worker_processes(hg, settings)
            hg.ctx.wakeups = worker_process.wakeups()
        config = _uvicorn_config(create_app(hg, run_workers=worker_process is None), settings)
        server = GracefulServer(config)
        server.on_exit = _ending_streams(hg.ctx)
        _remember_address(settings)
        if worker_process is not None:
            worker_process.start()
        if account is not None:
            _banner(settings, account)
        try:
            await server.serve()
        finally:
            if worker_process is not None:
                await worker_process.stop()

    _run(main())
    if lock is not None:
        lock.close()


def _uvicorn_config(asgi: Any, settings: Settings) -> uvicorn.Config:
    from heliograph.api.protocol import Limits, protocol_class

    limits = Limits(
        max_url_bytes=settings.max_url_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
    )
    return uvicorn.Config(
        asgi,
        host=settings.host,
        port=settings.port,
        loop="none",
        http=protocol_class(limits),  # httptools, with bounded heads and timeouts for slow clients
        timeout_keep_alive=settings.keep_alive_seconds,  # type: ignore[arg-type]  # a float works: an asyncio timer
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=15,
        server_header=False,
    )


async def _supervise_api(settings: Settings) -> None:
    """`serve --processes N`: migrate once, then N API processes on the one port (and, in the sandbox, the
    worker process(es) they all nudge through a shared pipe) until SIGTERM/SIGINT."""
    from heliograph import supervisor

    hg, account = await _prepare(settings)
    worker_process = await _worker_processes(hg, settings) if settings.mode == "sandbox" else None
    await hg.ctx.db.dispose()
    pass_fds = (worker_process.write_fd,) if worker_process is not None else ()

    def command(index: int) -> list[str]:
        args = ["serve", "--api-child", "--processes", "1", "--host", settings.host, "--port", str(settings.port)]
        args += ["--data-dir", str(settings.data_dir)]
        if worker_process is not None:
            args += ["--wake-write-fd", str(worker_process.write_fd)]
        return supervisor.child_command(*args)

    children = supervisor.Children("api", settings.processes, command, pass_fds)
    if worker_process is not None:
        worker_process.start()
    children.start()
    _remember_address(settings)
    if account is not None:
        _banner(settings, account)
    try:
        await supervisor.until_signalled(children.failed)
    finally:
        await children.stop()
        if worker_process is not None:
            await worker_process.stop()
    if children.failed.is_set():
        raise typer.Exit(1)


async def _worker_processes(hg: Any, settings: Settings) -> Any:
    """The sandbox's worker process(es). Several share the leases: the leases a previous run left behind are
    released here, before any of them starts (one alone does it itself, also when it is restarted)."""
    from heliograph.services import housekeeping
    from heliograph.workers.process import WorkerProcess

    if settings.worker_processes > 1:
        await housekeeping.recover_after_restart(hg.ctx)
    return WorkerProcess(settings.data_dir, settings.worker_processes)


async def _serve_api_child(settings: Settings, wake_write_fd: int | None) -> None:
    """One of `serve --processes N`'s API processes: the parent migrated; bind the shared port and serve."""
    from heliograph import supervisor
    from heliograph.api.app import create_app
    from heliograph.bootstrap import build

    hg = build(settings)
    _tune_gc()
    sandbox = settings.mode == "sandbox"
    if sandbox and wake_write_fd is not None:
        hg.ctx.wakeups = supervisor.wakeups_to(wake_write_fd)
    server = GracefulServer(_uvicorn_config(create_app(hg, run_workers=not sandbox), settings))
    server.on_exit = _ending_streams(hg.ctx)
    await server.serve(sockets=[supervisor.reuse_port_socket(settings.host, settings.port)])


def _configure_metrics(settings: Settings, *, starts_others: bool, processes: int = 1) -> None:
    """Where this process keeps its Prometheus counters: a directory the processes of the host share (the
    sandbox's data dir, HELIOGRAPH_METRICS_DIR, or a private one for a gateway command running children)."""
    import atexit
    import shutil
    import tempfile

    from heliograph.services import telemetry

    if not settings.metrics_enabled:
        telemetry.configure(None, enabled=False)
    elif settings.mode == "sandbox":
        telemetry.configure(settings.data_dir / "metrics", fresh=starts_others)
    elif settings.metrics_dir is not None:
        telemetry.configure(settings.metrics_dir)
    elif processes > 1:
        directory = Path(tempfile.mkdtemp(prefix="heliograph-metrics-"))
        os.environ["HELIOGRAPH_METRICS_DIR"] = str(directory)  # the children share it
        atexit.register(shutil.rmtree, directory, True)
        telemetry.configure(directory)
    else:
        telemetry.configure(None)  # one process: counters in memory


class _BesideServer(uvicorn.Server):
    """uvicorn inside a process that handles SIGTERM/SIGINT itself (a worker): leave the signals alone."""

    def capture_signals(self) -> Any:
        import contextlib

        return contextlib.nullcontext()


async def _ops_endpoint(hg: Any, settings: Settings) -> tuple[uvicorn.Server, asyncio.Task] | None:
    """A worker's /metrics, /readyz and /healthz on `metrics_port` (api/ops_app.py), if one is set."""
    if settings.metrics_port is None:
        return None
    from heliograph.api.ops_app import create_ops_app

    config = uvicorn.Config(
        create_ops_app(hg),
        host=settings.host,
        port=settings.metrics_port,
        loop="none",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    server = _BesideServer(config)
    return server, asyncio.create_task(server.serve(), name="ops-endpoint")


async def _stop_ops_endpoint(endpoint: tuple[uvicorn.Server, asyncio.Task] | None) -> None:
    if endpoint is not None:
        server, task = endpoint
        server.should_exit = True
        await task


class GracefulServer(uvicorn.Server):
    """After a graceful shutdown on SIGTERM or SIGINT, exit with status 0 (uvicorn re-raises the signal)."""

    on_exit: Any = None  # called on the signal, before uvicorn waits for open responses

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        if self.on_exit is not None:
            self.on_exit()


def _ending_streams(ctx: Any) -> Any:
    """Event streams never end by themselves: end them on shutdown, or uvicorn would wait for them."""
    from heliograph.console import feed as console_feed
    from heliograph.services import event_feed

    def end() -> None:
        event_feed.close(ctx)
        console_feed.close(ctx)

    loop = asyncio.get_running_loop()
    return lambda: loop.call_soon_threadsafe(end)


def _tune_gc() -> None:
    """The server allocates many short-lived dicts per message; the default collector thresholds made
    garbage collection ~15 % of the event loop under load. Freeze what start-up built and collect less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _remember_address(settings: Settings) -> None:
    """Let `heliograph info` report the URL this data directory was last served on."""
    if settings.mode == "sandbox":
        (settings.data_dir / "server.json").write_text(json.dumps({"base_url": settings.base_url()}))


def _served_base_url(settings: Settings) -> str:
    try:
        return json.loads((settings.data_dir / "server.json").read_text())["base_url"]
    except (OSError, ValueError, KeyError):
        return settings.base_url()


def _run(coro: Any) -> None:
    try:
        import uvloop

        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)


@app.command()
def info(
    data_dir: DataDir = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Print the sandbox account: API base URL, organization, public key, default profile, numbers. No secrets."""
    settings = _settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)
    if hg_is_sqlite(settings) and not (settings.data_dir / "heliograph.db").exists():
        err.print(f"No sandbox account in {settings.data_dir}; start `heliograph serve` once first.")
        raise typer.Exit(1)

    async def main() -> dict[str, Any]:
        from heliograph.bootstrap import build
        from heliograph.services import accounts, numbers, profiles
        from heliograph.store.migrate import upgrade

        hg = build(settings)
        try:
            await upgrade(hg.ctx.db)
            org = await accounts.sandbox_organization(hg.ctx)
            if org is None:
                return {}
            rows, _ = await numbers.list_numbers(hg.ctx, org["id"], offset=0, limit=250)
            default = await profiles.default_profile(hg.ctx, org["id"])
            return {
                "api_base_url": _served_base_url(settings) + "/v2",
                "organization_id": org["id"],
                "public_key": org["public_key"],
                "messaging_profile_id": default["id"] if default else None,
                "phone_numbers": [r["phone_number"] for r in rows],
            }
        finally:
            await hg.ctx.db.dispose()

    data = asyncio.run(main())
    if not data:
        err.print(f"No sandbox account in {settings.data_dir}; start `heliograph serve` once first.")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            print(f"{key:22} {', '.join(value) if isinstance(value, list) else value}")


@numbers_app.command("add")
def numbers_add(
    number: Annotated[str, typer.Argument(help="E.164 number, or a 5–6 digit short code.")],
    profile: Annotated[str | None, typer.Option("--profile", help="Messaging profile id to assign.")] = None,
    number_type: Annotated[str | None, typer.Option("--type", help="long-code, toll-free or short-code.")] = None,
    hosted: Annotated[bool, typer.Option("--hosted", help="Mark it as a messaging hosted number.")] = False,
    whatsapp: Annotated[bool, typer.Option("--whatsapp", help="Enable WhatsApp on it.")] = False,
    mps: Annotated[
        float | None, typer.Option("--mps", help="Its own messages per second (default: its type's).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Give the sandbox account a number (or change one it has)."""
    settings = _settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)
    if number_type not in (None, "long-code", "toll-free", "short-code"):
        err.print("--type must be long-code, toll-free or short-code")
        raise typer.Exit(2)

    async def main() -> dict[str, Any]:
        from heliograph.domain.errors import HeliographError
        from heliograph.services import numbers

        hg, account = await _prepare(settings)
        try:
            return await numbers.add_number(
                hg.ctx,
                account.organization["id"],
                number,
                profile_id=profile,
                kind=number_type,
                hosted=hosted,
                whatsapp=whatsapp,
                mps=mps,
            )
        except HeliographError as exc:
            err.print(f"[red]{exc.detail or exc.title}[/red]")
            raise typer.Exit(1) from None
        finally:
            await hg.ctx.db.dispose()

    row = asyncio.run(main())
    print(
        json.dumps(
            {
                "id": row["id"],
                "number": row.get("phone_number") or row.get("short_code"),
                "messaging_profile_id": row["messaging_profile_id"],
            }
        )
    )


@app.command()
def inbound(
    sender: Annotated[str, typer.Option("--from", help="The handset writing (E.164).")],
    to: Annotated[str, typer.Option("--to", help="Your number it writes to.")],
    text: Annotated[str | None, typer.Option("--text", help="Message text.")] = None,
    media_url: Annotated[list[str] | None, typer.Option("--media-url", help="Media URL (repeatable).")] = None,
    data_dir: DataDir = None,
) -> None:
    """A virtual handset writes to one of the sandbox account's numbers (a running server delivers the webhook)."""
    settings = _settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> dict[str, Any]:
        from heliograph.domain.errors import HeliographError
        from heliograph.services import inbound as inbound_service
        from heliograph.services import views

        hg, account = await _prepare(settings)
        try:
            row = await inbound_service.receive(
                hg.ctx,
                account.organization["id"],
                sender=sender,
                to=to,
                text=text,
                media_urls=media_url or [],
            )
            return views.message(row)
        except HeliographError as exc:
            err.print(f"[red]{exc.detail or exc.title}[/red]")
            raise typer.Exit(1) from None
        finally:
            await hg.ctx.db.dispose()

    print(json.dumps(asyncio.run(main())))


@app.command()
def worker(
    data_dir: DataDir = None,
    wake_fd: Annotated[int | None, typer.Option("--wake-fd", hidden=True, help="Pipe from `serve`.")] = None,
    shared: Annotated[
        bool, typer.Option("--shared", hidden=True, help="One of several sandbox workers: leases are not ours.")
    ] = False,
    processes: Annotated[int, typer.Option("--processes", min=1, help="Worker processes to run.")] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Also answer /metrics, /readyz and /healthz on this port [env HELIOGRAPH_METRICS_PORT].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run only the background workers (dispatch, receipts, webhooks): scale them apart from the API."""
    import signal

    settings = _settings(data_dir=data_dir, metrics_port=metrics_port)
    if wake_fd is not None:  # the sandbox's worker process: its `serve` answers scrapes
        settings.metrics_port = None
    logs.configure(settings.log_level, settings.log_format)
    if settings.mode == "sandbox" and wake_fd is None:
        err.print(
            "[red]`heliograph worker` is for gateway mode; `heliograph serve` already runs the sandbox's workers.[/red]"
        )
        raise typer.Exit(2)
    _configure_metrics(settings, starts_others=processes > 1, processes=processes)
    if processes > 1:
        _run(_supervise_workers(settings, processes))
        return

    async def main() -> None:
        from heliograph.workers.process import listen_for_nudges

        hg, _ = await _prepare(settings)
        _tune_gc()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if wake_fd is not None:
            listen_for_nudges(wake_fd, hg.ctx.wakeups)
        await hg.start(sole_worker=False if shared else None)
        endpoint = await _ops_endpoint(hg, settings)
        logger.info("worker running", extra={"action": "worker_start"})
        await stop.wait()
        await _stop_ops_endpoint(endpoint)
        await hg.stop()

    _run(main())


async def _supervise_workers(settings: Settings, count: int) -> None:
    """`worker --processes N`: migrate once, then N worker processes until SIGTERM/SIGINT. The parent answers
    scrapes on the metrics port, if any (the children share its metrics directory)."""
    from heliograph import supervisor

    hg, _ = await _prepare(settings)
    await hg.ctx.db.dispose()
    os.environ.pop("HELIOGRAPH_METRICS_PORT", None)  # the parent's alone
    children = supervisor.Children(
        "worker",
        count,
        lambda index: supervisor.child_command("worker", "--processes", "1", "--data-dir", str(settings.data_dir)),
    )
    children.start()
    endpoint = await _ops_endpoint(hg, settings)
    try:
        await supervisor.until_signalled(children.failed)
    finally:
        await _stop_ops_endpoint(endpoint)
        await children.stop()
        await hg.ctx.db.dispose()
    if children.failed.is_set():
        raise typer.Exit(1)


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="Organization name.")],
    data_dir: DataDir = None,
) -> None:
    """Create an organization with an API key (shown once), a signing key pair and a default profile."""
    settings = _settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> dict[str, Any]:
        from heliograph.services import accounts, profiles

        hg, _ = await _prepare(settings)
        try:
            org = await accounts.create_organization(hg.ctx, name)
            key = await accounts.add_api_key(hg.ctx, org["id"])
            profile = await profiles.create_profile(
                hg.ctx, org["id"], {"name": "Default", "whitelisted_destinations": ["*"]}
            )
            return {
                "organization_id": org["id"],
                "api_key": key,
                "public_key": org["public_key"],
                "messaging_profile_id": profile["id"],
            }
        finally:
            await hg.ctx.db.dispose()

    print(json.dumps(asyncio.run(main())))


@accounts_app.command("add-key")
def accounts_add_key(
    organization_id: Annotated[str, typer.Argument(help="Organization id.")],
    data_dir: DataDir = None,
) -> None:
    """Add another API key to an organization (shown once)."""
    settings = _settings(data_dir=data_dir)
    logs.configure("warning", settings.log_format)

    async def main() -> str:
        from heliograph.services import accounts

        hg, _ = await _prepare(settings)
        try:
            if not await accounts.organization_exists(hg.ctx, organization_id):
                err.print(f"[red]No organization {organization_id}.[/red]")
                raise typer.Exit(1)
            return await accounts.add_api_key(hg.ctx, organization_id)
        finally:
            await hg.ctx.db.dispose()

    print(json.dumps({"organization_id": organization_id, "api_key": asyncio.run(main())}))


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Bring the database schema up to date (serve does this too)."""
    settings = _settings(data_dir=data_dir)
    logs.configure(settings.log_level, settings.log_format)

    async def main() -> None:
        from heliograph.store.engine import Database
        from heliograph.store.migrate import upgrade

        if settings.mode == "sandbox":
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url())
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(main())
    print("database is up to date")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
