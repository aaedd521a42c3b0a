"""Developer commands: listen, trigger, send, preview, webhooks list / replay.

They talk to a Heliograph server over HTTP only (the Telnyx API under /v2 and Heliograph's own
/heliograph/v1 extensions), never to its database, so they work against a remote gateway as well as
a local sandbox. Expected failures (unreachable server, refused key, unknown id, refused request)
print one line and exit non-zero; no traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

ApiBase = Annotated[
    str | None,
    typer.Option(
        "--api-base", help="API base URL [env TELNYX_BASE_URL, default http://127.0.0.1:8000/v2].", show_default=False
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", help="API key [env TELNYX_API_KEY, else HELIOGRAPH_API_KEY].", show_default=False),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

DEFAULT_BASE = "http://127.0.0.1:8000/v2"
DEFAULT_HANDSET = "+13125550123"  # a virtual handset of the sandbox carrier
OUTCOME_NUMBERS = {
    "delivered": DEFAULT_HANDSET,
    "delivery_failed": "+15005550001",
    "sending_failed": "+15005550002",
    "delivery_unconfirmed": "+15005550003",
}
FINAL = {"delivered", "delivery_failed", "sending_failed", "delivery_unconfirmed", "expired", "cancelled"}
TRIGGERS = ("message.received", "message.sent", "message.finalized")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """An expected failure: one line for the user and an exit status."""

    def __init__(self, message: str, exit_code: int = 1, status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status


def _fail(exc: CliError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(exc.exit_code)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _telnyx_error(response: httpx.Response) -> str:
    """A Telnyx error body as one readable line: `404 10005 Resource not found: detail`."""
    try:
        first = response.json()["errors"][0]
        title, detail = first.get("title") or "", first.get("detail") or ""
        text = f"{first.get('code', '')} {title}".strip()
        return f"HTTP {response.status_code} {text}" + (f": {detail}" if detail and detail != title else "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return f"HTTP {response.status_code} {response.text[:200]}"


class Api:
    """The server, over HTTP: `/v2` paths and Heliograph's `/heliograph/v1` extensions."""

    def __init__(self, api_base: str | None, api_key: str | None) -> None:
        self.base = (api_base or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE).rstrip("/")
        key = api_key or os.environ.get("TELNYX_API_KEY") or os.environ.get("HELIOGRAPH_API_KEY")
        if not key:
            raise CliError("no API key: pass --api-key or set TELNYX_API_KEY (or HELIOGRAPH_API_KEY)", 2)
        self.root = self.base[: -len("/v2")] if self.base.endswith("/v2") else self.base
        self.headers = {"Authorization": f"Bearer {key}"}
        self.http = httpx.Client(headers=self.headers, timeout=15)

    def url(self, path: str) -> str:
        """`/messages` → the API base; `/heliograph/v1/…` and `/sandbox/v1/…` → the server root."""
        if path.startswith(("/heliograph/", "/sandbox/")):
            return self.root + path
        return self.base + path

    def unreachable(self, exc: Exception) -> CliError:
        return CliError(f"cannot reach the Heliograph server at {self.base} ({exc.__class__.__name__}: {exc})")

    def call(self, method: str, path: str, *, refused_exit: int = 1, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, self.url(path), **kwargs)
        except httpx.HTTPError as exc:
            raise self.unreachable(exc) from None
        return self.check(response, refused_exit)

    def check(self, response: httpx.Response, refused_exit: int = 1) -> Any:
        if response.status_code == 401:
            raise CliError(f"the server refused the API key ({_telnyx_error(response)})", 1, 401)
        if response.status_code >= 400:
            raise CliError(
                _telnyx_error(response), refused_exit if response.status_code < 500 else 1, response.status_code
            )
        try:
            return response.json()
        except ValueError:
            raise CliError(f"{self.base} did not answer JSON; is it a Heliograph server?") from None

    def close(self) -> None:
        self.http.close()


def _run(body: Callable[[], int | None]) -> None:
    try:
        code = body()
    except CliError as exc:
        raise _fail(exc) from None
    if code:
        raise typer.Exit(code)


# --- the event stream -------------------------------------------------------------------------------


@dataclass
class Sse:
    event: str
    data: str
    id: str | None


def _sse_events(lines: Iterator[str]) -> Iterator[Sse]:
    """Server-Sent Events from a line iterator (the subset the server sends: id, event, data, comments)."""
    data: list[str]
    event, data, last_id = "message", [], None
    for line in lines:
        if not line:
            if data:
                yield Sse(event, "\n".join(data), last_id)
            event, data, last_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value


class Stream:
    """The organization's event stream, resumed from the last cursor after a drop."""

    def __init__(self, api: Api, params: dict[str, str], cursor: str | None = None) -> None:
        self.api = api
        self.params = {k: v for k, v in params.items() if v}
        self.cursor = cursor
        self.connected_once = False

    def events(
        self, *, reconnect: bool, on_state: Callable[[str], None] = lambda s: None, deadline: float | None = None
    ) -> Iterator[dict]:
        """Yield each event's data (dict); `cursor` advances as the caller asks for the next one.

        `deadline` (time.monotonic()): give up then with a CliError, even if nothing arrives."""
        delay = 0.25
        while True:
            read = 45.0  # the server sends a keep-alive every 15 s
            if deadline is not None:
                if time.monotonic() >= deadline:
                    raise CliError("timed out waiting for events")
                read = min(read, max(0.2, deadline - time.monotonic()))
            timeout = httpx.Timeout(10, read=read)
            headers = {"Accept": "text/event-stream"}
            if self.cursor:
                headers["Last-Event-ID"] = self.cursor
            try:
                with (
                    httpx.Client(headers=self.api.headers, timeout=timeout) as client,
                    client.stream(
                        "GET", self.api.url("/heliograph/v1/events"), params=self.params, headers=headers
                    ) as response,
                ):
                    if response.status_code != 200:
                        response.read()
                        self.api.check(response)
                        raise CliError(f"unexpected answer from the event stream: HTTP {response.status_code}")
                    for sse in _sse_events(response.iter_lines()):
                        if sse.event == "ready":
                            self.cursor = self.cursor or sse.id
                            on_state("connected" if not self.connected_once else "reconnected")
                            self.connected_once = True
                            delay = 0.25
                            continue
                        item = json.loads(sse.data)
                        yield item
                        self.cursor = sse.id or item.get("cursor") or self.cursor
                    on_state("dropped")
            except httpx.HTTPError as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise CliError("timed out waiting for events") from None
                if not (reconnect and self.connected_once):
                    raise self.api.unreachable(exc) from None
                on_state(f"dropped ({exc.__class__.__name__})")
            except CliError as exc:
                if exc.status is None or exc.status < 500 or not reconnect:
                    raise
                on_state(f"dropped ({exc})")
            if not reconnect:
                return
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _head_cursor(api: Api) -> str:
    """Where the organization's stream stands now (its `ready` event)."""
    timeout = httpx.Timeout(10, read=20)
    try:
        with (
            httpx.Client(headers=api.headers, timeout=timeout) as client,
            client.stream("GET", api.url("/heliograph/v1/events")) as response,
        ):
            if response.status_code != 200:
                response.read()
                api.check(response)
            for sse in _sse_events(response.iter_lines()):
                if sse.event == "ready" and sse.id:
                    return sse.id
    except httpx.HTTPError as exc:
        raise api.unreachable(exc) from None
    raise CliError("the event stream ended before it was ready")


# --- listen -----------------------------------------------------------------------------------------


def _parse_headers(raw: list[str]) -> dict[str, str]:
    headers = {}
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CliError(f"--header must look like 'Name: value', not {item!r}", 2)
        headers[name.strip()] = value.strip()
    return headers


def listen(
    forward_to: Annotated[
        str, typer.Option("--forward-to", help="Your app's webhook URL; each event is POSTed there.")
    ],
    events: Annotated[
        str | None, typer.Option("--events", help="Comma-separated event types (default: all).", show_default=False)
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Only events of this messaging profile.", show_default=False)
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="Extra header for the forwards, 'Name: value' (repeatable).")
    ] = None,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """Forward the organization's webhook events to a local URL, signed exactly as the server signs them.

    Works without any webhook_url on your profiles; configured webhooks keep being delivered too.
    Each forward is logged in the server's webhook delivery log. Ctrl-C stops."""

    def body() -> int:
        extra = _parse_headers(header or [])
        if not forward_to.startswith(("http://", "https://")):
            raise CliError(f"--forward-to must be an http(s) URL, not {forward_to!r}", 2)
        api = Api(api_base, api_key)
        stream = Stream(
            api, {"event_types": events or "", "messaging_profile_id": profile or "", "forward_to": forward_to}
        )

        def state(what: str) -> None:
            if as_json:
                _print_json({"type": "stream", "state": what, "cursor": stream.cursor})
            else:
                err.print(
                    f"[dim]event stream {what}; forwarding to {forward_to} (Ctrl-C to stop)[/dim]"
                    if what == "connected"
                    else f"[dim]event stream {what}[/dim]"
                )

        _stop_on_signals()
        forwarder = httpx.Client(timeout=10, follow_redirects=False)
        try:
            for item in stream.events(reconnect=True, on_state=state):
                _forward(api, forwarder, forward_to, extra, item, as_json)
        except KeyboardInterrupt:
            pass
        finally:
            forwarder.close()
            api.close()
        if not as_json:
            err.print("[dim]stopped[/dim]")
        return 0

    _run(body)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM end `listen` cleanly, even when started with SIGINT ignored (a shell's `&`)."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _forward(api: Api, forwarder: httpx.Client, url: str, extra: dict[str, str], item: dict, as_json: bool) -> None:
    if as_json:
        _print_json({"type": "event", "event_type": item["event_type"], "id": item["id"], "cursor": item["cursor"]})
    else:
        out.print(f"--> [bold]{item['event_type']}[/bold] {item['id']}")
    headers = {"Content-Type": "application/json", "User-Agent": "telnyx-webhooks", **item["headers"], **extra}
    started = time.monotonic()
    status = None
    error = None
    text = None
    try:
        response = forwarder.post(url, content=item["body"].encode(), headers=headers)
        status, text = response.status_code, response.text[:10_000]
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    ms = (time.monotonic() - started) * 1000
    if as_json:
        _print_json(
            {"type": "response", "id": item["id"], "status": status, "url": url, "ms": round(ms, 1), "error": error}
        )
    elif status is None:
        out.print(f"<-- [red]failed[/red] POST {url} ({ms:.0f} ms): {escape(error or '')}")
    else:
        colour = "green" if 200 <= status < 300 else "red"
        out.print(f"<-- [{colour}]{status}[/{colour}] POST {url} ({ms:.0f} ms)")
    report = {"url": url, "http_status": status, "duration_ms": round(ms, 3), "response_body": text, "error": error}
    try:
        api.call("POST", f"/heliograph/v1/events/{item['id']}/forwards", json=report)
    except CliError as exc:
        err.print(f"[yellow]warning:[/yellow] the forward was not logged on the server: {escape(str(exc))}")


# --- trigger ----------------------------------------------------------------------------------------


def _first_number(api: Api) -> str:
    found = api.call("GET", "/phone_numbers/messaging", params={"page[size]": 1})["data"]
    if not found:
        raise CliError("the account has no number; order one (POST /v2/number_orders) or pass --to/--from")
    return found[0]["phone_number"]


def _watch(api: Api, cursor: str, message_id: str, until: str, timeout: float) -> Iterator[dict]:
    """The stream's events about `message_id` from `cursor` on, until the event `until` (or the timeout)."""
    deadline = time.monotonic() + timeout
    stream = Stream(api, {}, cursor)
    try:
        for item in stream.events(reconnect=True, deadline=deadline):
            if item.get("message_id") == message_id:
                yield item
                if item["event_type"] == until:
                    return
    except CliError as exc:
        if time.monotonic() < deadline:
            raise
        raise CliError(f"{until} for {message_id} did not arrive within {timeout:g} s") from exc


def trigger(
    event: Annotated[str, typer.Argument(help="message.received, message.sent or message.finalized.")],
    sender: Annotated[
        str | None, typer.Option("--from", help="Handset (received) or your number (sent).", show_default=False)
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Your number (received) or the destination (sent).", show_default=False)
    ] = None,
    text: Annotated[str, typer.Option("--text", help="Message text.")] = "Hello from heliograph trigger",
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome", help="delivered, delivery_failed, sending_failed or delivery_unconfirmed (sent messages)."
        ),
    ] = "delivered",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the events.")] = 30,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """Make a real event happen through the real paths, then print the message id and the events it caused."""

    def body() -> int:
        if event not in TRIGGERS:
            raise CliError(f"unknown event {event!r}; choose one of {', '.join(TRIGGERS)}", 2)
        if outcome not in OUTCOME_NUMBERS:
            raise CliError(f"unknown outcome {outcome!r}; choose one of {', '.join(OUTCOME_NUMBERS)}", 2)
        if event == "message.received" and outcome != "delivered":
            raise CliError("--outcome applies to message.sent and message.finalized", 2)
        api = Api(api_base, api_key)
        try:
            cursor = _head_cursor(api)
            if event == "message.received":
                request = {"from": sender or DEFAULT_HANDSET, "to": to or _first_number(api), "text": text}
                message = api.call("POST", "/sandbox/v1/inbound", json=request, refused_exit=2)["data"]
                until = "message.received"
            else:
                request = {"from": sender or _first_number(api), "to": to or OUTCOME_NUMBERS[outcome], "text": text}
                message = api.call("POST", "/messages", json=request, refused_exit=2)["data"]
                until = "message.finalized"
            if not as_json:
                out.print(
                    f"message [bold]{message['id']}[/bold] ({message['direction']}, {request['from']} → "
                    f"{request['to']})"
                )
            caused = []
            for item in _watch(api, cursor, message["id"], until, timeout):
                payload = json.loads(item["body"])["data"].get("payload", {})
                status = (payload.get("to") or [{}])[0].get("status") if payload.get("to") else None
                caused.append({"event_type": item["event_type"], "id": item["id"], "status": status})
                if not as_json:
                    out.print(f"  {item['event_type']:<18} {item['id']}  {status or ''}")
        finally:
            api.close()
        if as_json:
            _print_json({"message_id": message["id"], "events": caused})
        return 0

    _run(body)


# --- send -------------------------------------------------------------------------------------------


def _status(message: dict) -> str:
    return (message.get("to") or [{}])[0].get("status") or "unknown"


def _message_table(message: dict) -> Table:
    table = Table(show_header=False, box=None)
    recipient = (message.get("to") or [{}])[0]
    rows = [
        ("id", message.get("id")),
        ("from", (message.get("from") or {}).get("phone_number")),
        ("to", recipient.get("phone_number")),
        ("status", recipient.get("status")),
        ("type", message.get("type")),
        ("encoding", message.get("encoding")),
        ("parts", message.get("parts")),
        ("cost", (message.get("cost") or {}).get("amount")),
    ]
    for name, value in rows:
        if value is not None:
            table.add_row(f"[dim]{name}[/dim]", escape(str(value)))
    return table


def send(
    sender: Annotated[str, typer.Option("--from", help="Your number, short code or alphanumeric sender ID.")],
    to: Annotated[str, typer.Option("--to", help="Destination (E.164).")],
    text: Annotated[str | None, typer.Option("--text", help="Message text.", show_default=False)] = None,
    media_url: Annotated[
        list[str] | None, typer.Option("--media-url", help="Media URL (repeatable): an MMS.", show_default=False)
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Print each status change until the message is final.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds --wait waits for a final status.")] = 120,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """Send a message through the API. Exit status: 0 delivered (or accepted, without --wait), 1 failure, 2 refused."""

    def body() -> int:
        if not text and not media_url:
            raise CliError("give --text or --media-url", 2)
        request: dict[str, Any] = {"from": sender, "to": to}
        if text:
            request["text"] = text
        if media_url:
            request["media_urls"] = media_url
        api = Api(api_base, api_key)
        try:
            message = api.call("POST", "/messages", json=request, refused_exit=2)["data"]
            if as_json:
                _print_json(message)
            else:
                out.print(_message_table(message))
            if not wait:
                return 0
            return _wait(api, message, timeout, as_json)
        finally:
            api.close()

    _run(body)


def _wait(api: Api, message: dict, timeout: float, as_json: bool) -> int:
    status = _status(message)
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    shown = None
    while True:
        if status != shown:
            shown = status
            if as_json:
                _print_json({"id": message["id"], "status": status, "errors": message.get("errors") or []})
            else:
                out.print(f"{time.monotonic() - started:6.2f}s  {status}")
        if status in FINAL:
            break
        if time.monotonic() > deadline:
            raise CliError(f"message {message['id']} is still {status} after {timeout:g} s")
        time.sleep(0.1)
        message = api.call("GET", f"/messages/{message['id']}")["data"]
        status = _status(message)
    if status != "delivered" and not as_json:
        for error in message.get("errors") or []:
            err.print(
                f"[red]{escape(str(error.get('code', '')))} {escape(error.get('title') or '')}[/red]"
                + (f": {escape(error['detail'])}" if error.get("detail") else "")
            )
    return 0 if status == "delivered" else 1


# --- preview ----------------------------------------------------------------------------------------


def preview(
    text: Annotated[str, typer.Argument(help="The SMS text.")],
    encoding: Annotated[str, typer.Option("--encoding", help="auto, gsm7 or ucs2 (the API's `encoding`).")] = "auto",
    smart_encoding: Annotated[
        bool, typer.Option("--smart-encoding", help="As a profile with smart_encoding on would send it.")
    ] = False,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """Show, without sending, what POST /messages would do with TEXT: encoding, parts, segments, price."""

    def body() -> int:
        api = Api(api_base, api_key)
        try:
            request = {"text": text, "encoding": encoding, "smart_encoding": smart_encoding}
            data = api.call("POST", "/heliograph/v1/preview", json=request, refused_exit=2)["data"]
        finally:
            api.close()
        if as_json:
            _print_json(data)
        else:
            _show_preview(data)
        return 0

    _run(body)


def _show_preview(data: dict) -> None:
    cost = data["cost"]["amount"]
    out.print(
        f"[bold]{data['encoding']}[/bold], {data['parts']} part{'s' if data['parts'] != 1 else ''}, "
        f"{data['units']} {'septets' if data['encoding'] == 'GSM-7' else 'UTF-16 units'}, "
        f"{cost} {data['cost']['currency']} for one recipient"
    )
    flagged = {c["character"] for c in data["non_gsm7_characters"]}
    if flagged:
        marked = "".join(
            f"[reverse red]{escape(ch)}[/reverse red]" if ch in flagged else escape(ch) for ch in data["text"]
        )
        out.print(marked)
        table = Table("char", "code point", "count", "smart encoding")
        for c in data["non_gsm7_characters"]:
            replacement = c["replacement"]
            shown = (
                "(kept: no GSM-7 stand-in)"
                if replacement is None
                else (repr(replacement) if replacement else "(removed)")
            )
            table.add_row(escape(c["character"]), c["code_point"], str(c["count"]), escape(shown))
        out.print(table)
        if data["forced_ucs2"]:
            out.print("[yellow]These characters forced UCS-2.[/yellow]")
    if data["smart_encoding_applied"]:
        out.print(f"smart encoding sends: {escape(data['transmitted_text'])}")
    table = Table("part", "length", "text")
    for i, segment in enumerate(data["segments"], 1):
        table.add_row(str(i), str(segment["length"]), escape(segment["text"]))
    out.print(table)


# --- webhooks ---------------------------------------------------------------------------------------

webhooks_app = typer.Typer(help="Webhook deliveries: list them, replay one.", no_args_is_help=True)


@webhooks_app.command("list")
def webhooks_list(
    failed: Annotated[bool, typer.Option("--failed", help="Only deliveries that failed.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many of the most recent.")] = 20,
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """The most recent webhook deliveries, newest last."""

    def body() -> int:
        api = Api(api_base, api_key)
        params: dict[str, Any] = {"page[size]": max(1, min(limit, 250))}
        if failed:
            params["filter[status][eq]"] = "failed"
        try:
            first = api.call("GET", "/webhook_deliveries", params=params)
            pages = first.get("meta", {}).get("total_pages") or 1
            page = (
                first
                if pages <= 1
                else api.call("GET", "/webhook_deliveries", params={**params, "page[number]": pages})
            )
            data = page["data"]
            if pages > 1 and len(data) < params["page[size]"]:
                previous = api.call("GET", "/webhook_deliveries", params={**params, "page[number]": pages - 1})["data"]
                data = previous + data
        finally:
            api.close()
        data = data[-limit:]
        if as_json:
            _print_json(data)
            return 0
        table = Table()
        table.add_column("id", no_wrap=True, min_width=36)
        for name in ("event", "status", "attempts", "last answer", "url", "started"):
            table.add_column(name)
        for d in data:
            last = d["attempts"][0] if d["attempts"] else {}
            response = (last.get("http") or {}).get("response") or {}
            answer = (
                str(response.get("status")) if response.get("status") else ",".join(map(str, last.get("errors", [])))
            )
            colour = "green" if d["status"] == "delivered" else "red"
            table.add_row(
                d["id"],
                d["webhook"].get("event_type", ""),
                f"[{colour}]{d['status']}[/{colour}]",
                str(len(d["attempts"])),
                answer,
                escape(((last.get("http") or {}).get("request") or {}).get("url", "")),
                d.get("started_at") or "",
            )
        out.print(table)
        return 0

    _run(body)


@webhooks_app.command("replay")
def webhooks_replay(
    delivery_id: Annotated[str, typer.Argument(help="The delivery (webhook event) id.")],
    api_base: ApiBase = None,
    api_key: ApiKey = None,
    as_json: JsonOut = False,
) -> None:
    """Send one webhook again now, freshly signed; it is logged as a new attempt. Exit 1 if it was not delivered."""

    def body() -> int:
        api = Api(api_base, api_key)
        try:
            data = api.call("POST", f"/heliograph/v1/webhook_deliveries/{delivery_id}/replay")["data"]
        finally:
            api.close()
        number = data["replay"]["attempt"]
        attempt = data["attempts"][0] if data["attempts"] else {}
        response = (attempt.get("http") or {}).get("response") or {}
        url = ((attempt.get("http") or {}).get("request") or {}).get("url", "")
        delivered = attempt.get("status") == "delivered"
        if as_json:
            _print_json(data)
        else:
            shown = response.get("status") or ",".join(map(str, attempt.get("errors", []))) or "no answer"
            colour = "green" if delivered else "red"
            out.print(
                f"replayed {data['webhook'].get('event_type', '')} {delivery_id} (attempt {number}): "
                f"<-- [{colour}]{shown}[/{colour}] POST {escape(url)}"
            )
        return 0 if delivered else 1

    _run(body)


def register(app: typer.Typer) -> None:
    """Add the developer commands to the `heliograph` command."""
    app.command()(listen)
    app.command()(trigger)
    app.command()(send)
    app.command()(preview)
    app.add_typer(webhooks_app, name="webhooks")
