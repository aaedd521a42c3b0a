"""The console's pages and actions. Every page is plain HTML that reads without JavaScript; htmx and its SSE
extension only add live updates. Actions are ordinary forms (POST, then a redirect back)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from heliograph.console import access
from heliograph.console.feed import Feeds
from heliograph.domain.errors import HeliographError
from heliograph.domain.times import iso
from heliograph.services import (
    connectors,
    console_sessions,
    conversations,
    inbound,
    message_detail,
    numbers,
    profiles,
    sending,
    signature_check,
    webhook_log,
    webhook_replay,
)
from heliograph.services.accounts import Caller

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

FINAL_OK = {"delivered", "webhook_delivered", "received"}
FINAL_BAD = {"delivery_failed", "sending_failed", "delivery_unconfirmed", "expired", "cancelled", "failed"}


def _short_time(us: int | None) -> str:
    text = iso(us) or ""
    return text[11:19] if text else ""


def _status_class(status: str) -> str:
    if status in FINAL_OK:
        return "ok"
    if status in FINAL_BAD:
        return "bad"
    return "pending"


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isalnum())


def _url(path: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    if not params:
        return path
    return path + ("&" if "?" in path else "?") + urlencode(params)


def _handset_url(handset: str, number: str | None = None) -> str:
    return _url(f"/console/handsets/{quote(handset, safe='+')}", number=number)


templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(time=iso, short_time=_short_time, status_class=_status_class, digits=_digits)
templates.globals.update(handset_url=_handset_url, url=_url)


async def _render(
    request: Request, name: str, caller: Caller | None, status_code: int = 200, **values: Any
) -> Response:
    hg = request.app.state.heliograph
    org = await console_sessions.organization(hg.ctx, caller.organization_id) if caller else None
    html = templates.get_template(name).render(
        request=request,
        org=org,
        csrf_token=access.csrf_token(request),
        login_required=access.login_required(hg.settings),
        mode=hg.settings.mode,
        notice=request.query_params.get("notice"),
        error=request.query_params.get("error"),
        **values,
    )
    response = HTMLResponse(html, status_code=status_code)
    _set_csrf_cookie(request, response)
    return response


def _set_csrf_cookie(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(access.CSRF_COOKIE, new, httponly=True, samesite="strict", path="/console")


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form (the last value of each field); no multipart parser needed."""
    raw = await request.body()
    parsed = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def _back(path: str, **query: Any) -> RedirectResponse:
    return RedirectResponse(_url(path, **query), status_code=303)


async def _who(request: Request) -> Caller | Response:
    """The caller, or the response to send instead (the login page)."""
    try:
        return await access.caller(request)
    except access.LoginNeeded:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
        return _back("/console/login", next=str(request.url.path))


async def _posted(request: Request) -> tuple[Caller, dict[str, str]] | Response:
    """A form post from a signed-in page: caller and fields, or the refusal (login, CSRF)."""
    who = await _who(request)
    if isinstance(who, Response):
        return who
    form = await _form(request)
    if not access.csrf_ok(request, form.get(access.CSRF_FIELD)):
        return HTMLResponse(
            "<!doctype html><title>Refused</title><p>This form is out of date or came from another site "
            "(CSRF check failed). Go back, reload the page and try again.</p>",
            status_code=403,
        )
    return who, form


def _ctx(request: Request):
    return request.app.state.heliograph.ctx


# --- entry, login ------------------------------------------------------------------------------------


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console")
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/login")
async def login_page(request: Request) -> Response:
    if not access.login_required(request.app.state.heliograph.settings):
        return _back("/console/")
    return await _render(request, "login.html", None, next=request.query_params.get("next", "/console/"))


@router.post("/console/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    target = form.get("next", "/console/")
    if not target.startswith("/console/"):
        target = "/console/"
    if not access.csrf_ok(request, form.get(access.CSRF_FIELD)):
        return await _render(request, "login.html", None, 403, next=target, login_error="Reload the page and retry.")
    try:
        cookie = await console_sessions.open_session(_ctx(request), form.get("api_key", ""))
    except HeliographError as exc:
        return await _render(request, "login.html", None, 401, next=target, login_error=exc.detail)
    response = _back(target)
    response.set_cookie(
        access.SESSION_COOKIE,
        cookie,
        max_age=console_sessions.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        path="/console",
    )
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    if not access.csrf_ok(request, form.get(access.CSRF_FIELD)):
        return Response(status_code=403)
    response = _back("/console/login")
    response.delete_cookie(access.SESSION_COOKIE, path="/console")
    return response


# --- conversations ----------------------------------------------------------------------------------


@router.get("/console/")
async def conversations_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    items = await conversations.latest(_ctx(request), who.organization_id)
    return await _render(request, "conversations.html", who, items=items, thread=None, active="conversations")


@router.get("/console/open")
async def open_handset(request: Request) -> Response:
    handset = request.query_params.get("handset", "").strip().replace(" ", "")
    if not conversations.is_handset(handset):
        return _back("/console/", error=f"{handset or 'That'} is not an E.164 number (like +13125550123).")
    return _back(_handset_url(handset))


@router.get("/console/handsets/{handset}")
async def handset_page(handset: str, request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    if not conversations.is_handset(handset):
        return _back("/console/", error=f"{handset} is not an E.164 number.")
    ctx = _ctx(request)
    thread = await conversations.thread(ctx, who.organization_id, handset, request.query_params.get("number"))
    items = await conversations.latest(ctx, who.organization_id)
    return await _render(
        request, "conversations.html", who, items=items, thread=thread, current=handset, active="conversations"
    )


@router.get("/console/handsets/{handset}/thread")
async def handset_thread(handset: str, request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    thread = await conversations.thread(_ctx(request), who.organization_id, handset, request.query_params.get("number"))
    return await _render(request, "_thread.html", who, thread=thread)


@router.post("/console/handsets/{handset}/reply")
async def reply(handset: str, request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    who, form = posted
    to = form.get("to", "")
    text = form.get("keyword") or form.get("text", "")
    try:
        await inbound.receive(_ctx(request), who.organization_id, sender=handset, to=to, text=text, media_urls=[])
    except HeliographError as exc:
        return _back(_handset_url(handset, to), error=exc.detail)
    return RedirectResponse(_handset_url(handset, to), status_code=303)


# --- messages and search ------------------------------------------------------------------------------


@router.get("/console/messages/{message_id}")
async def message_page(message_id: str, request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    try:
        found = await message_detail.detail(_ctx(request), who.organization_id, message_id)
    except HeliographError as exc:
        return await _render(request, "not_found.html", who, 404, what=exc.detail, active="")
    raw = orjson.dumps({"data": found.message}, option=orjson.OPT_INDENT_2).decode()
    m = found.message
    handset = m["to"][0]["phone_number"] if m["direction"] == "outbound" else m["from"]["phone_number"]
    ours = m["from"]["phone_number"] if m["direction"] == "outbound" else m["to"][0]["phone_number"]
    return await _render(
        request,
        "message.html",
        who,
        d=found,
        m=m,
        raw=raw,
        handset=handset,
        ours=ours,
        status=m["to"][0]["status"],
        active="",
    )


@router.get("/console/search")
async def search_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    q = request.query_params.get("q", "")
    results = await conversations.search(_ctx(request), who.organization_id, q) if q.strip() else []
    return await _render(request, "search.html", who, q=q, results=results, active="search")


# --- compose ------------------------------------------------------------------------------------------


async def _our_numbers(request: Request, org_id: str) -> list[dict]:
    rows, _ = await numbers.list_numbers(_ctx(request), org_id, offset=0, limit=250)
    return rows


@router.get("/console/compose")
async def compose_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    ours = await _our_numbers(request, who.organization_id)
    return await _render(
        request, "compose.html", who, numbers=ours, values=dict(request.query_params), active="compose"
    )


@router.post("/console/compose")
async def compose(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    who, form = posted
    body: dict[str, Any] = {"from": form.get("from", ""), "to": form.get("to", "").strip()}
    if form.get("text"):
        body["text"] = form["text"]
    if form.get("media_url", "").strip():
        body["media_urls"] = [form["media_url"].strip()]
    try:
        sent = await sending.send(_ctx(request), who, body)
    except HeliographError as exc:
        ours = await _our_numbers(request, who.organization_id)
        return await _render(
            request,
            "compose.html",
            who,
            400,
            numbers=ours,
            values=form,
            compose_error=f"{exc.code}: {exc.detail}",
            active="compose",
        )
    return _back(_handset_url(sent["to"][0]["phone_number"], sent["from"]["phone_number"]))


# --- webhooks -----------------------------------------------------------------------------------------


@router.get("/console/webhooks")
async def webhooks_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    failed = request.query_params.get("failed") in ("1", "true", "on")
    entries = await webhook_log.recent(_ctx(request), who.organization_id, failed_only=failed)
    return await _render(request, "webhooks.html", who, entries=entries, failed=failed, active="webhooks")


@router.get("/console/webhooks/check-signature")
async def check_signature_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    return await _render(request, "check_signature.html", who, values={}, verdict=None, active="webhooks")


@router.post("/console/webhooks/check-signature")
async def check_signature(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    who, form = posted
    verdict = await signature_check.check(
        _ctx(request), who.organization_id, form.get("body", ""), form.get("timestamp", ""), form.get("signature", "")
    )
    return await _render(request, "check_signature.html", who, values=form, verdict=verdict, active="webhooks")


@router.get("/console/webhooks/{event_id}")
async def webhook_page(event_id: str, request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    try:
        entry, signed = await webhook_log.entry(_ctx(request), who.organization_id, event_id)
    except HeliographError as exc:
        return await _render(request, "not_found.html", who, 404, what=exc.detail, active="webhooks")
    return await _render(request, "webhook.html", who, e=entry, signed=signed, active="webhooks")


@router.post("/console/webhooks/{event_id}/replay")
async def replay(event_id: str, request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    who, _ = posted
    try:
        await webhook_replay.replay(_ctx(request), who.organization_id, event_id)
    except HeliographError as exc:
        return _back(f"/console/webhooks/{event_id}", error=exc.detail)
    return _back(f"/console/webhooks/{event_id}", notice="Replayed: sent again now, logged as a new attempt.")


# --- simulator ----------------------------------------------------------------------------------------


@router.get("/console/simulator")
async def simulator_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    controls = await connectors.get_simulator_controls(_ctx(request))
    return await _render(request, "simulator.html", who, controls=controls, active="simulator")


def _whole(form: dict[str, str], name: str, label: str) -> int:
    raw = form.get(name, "").strip() or "0"
    try:
        return int(float(raw))
    except ValueError:
        raise connectors.AdminError(f"{label} must be a number.") from None


@router.post("/console/simulator")
async def simulator(request: Request) -> Response:
    """The simulator is shared by every organization of the server: changing it is a sandbox-wide act."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    _, form = posted
    ctx = _ctx(request)
    if ctx.settings.mode != "sandbox":  # shared by every tenant: the gateway's admin CLI changes it
        return _back("/console/simulator", error="In gateway mode the simulator is changed with the admin CLI.")
    try:
        changes: dict[str, Any] = {
            "dlr_delay_ms": _whole(form, "dlr_delay_ms", "Receipt delay"),
            "failure_rate_percent": float(_whole(form, "failure_rate_percent", "Failure rate")),
            "extra_latency_ms": _whole(form, "extra_latency_ms", "Extra latency"),
        }
        off = set((await connectors.get_simulator_controls(ctx))["handsets_off"])
        handset = form.get("handset", "").strip().replace(" ", "")
        if form.get("switch") in ("off", "on"):
            if not conversations.is_handset(handset):
                raise connectors.AdminError(f"{handset or 'The handset'} is not an E.164 number.")
            off = off | {handset} if form["switch"] == "off" else off - {handset}
        if form.get("on"):
            off.discard(form["on"])
        changes["handsets_off"] = sorted(off)
        await connectors.set_simulator_controls(ctx, **changes)
    except (connectors.AdminError, ValueError) as exc:
        return _back("/console/simulator", error=str(exc))
    return _back("/console/simulator", notice="Saved. Workers apply it within a few seconds.")


# --- account ------------------------------------------------------------------------------------------


@router.get("/console/account")
async def account_page(request: Request) -> Response:
    who = await _who(request)
    if isinstance(who, Response):
        return who
    ctx = _ctx(request)
    ours = await _our_numbers(request, who.organization_id)
    profile_rows, _ = await profiles.list_profiles(
        ctx, who.organization_id, name_eq=None, name_contains=None, offset=0, limit=250
    )
    org = await console_sessions.organization(ctx, who.organization_id)
    base = str(request.base_url).rstrip("/")
    exports = [
        f"export TELNYX_BASE_URL={base}/v2",
        "export TELNYX_API_KEY=<your API key>",
        f"export TELNYX_PUBLIC_KEY={org['public_key']}",
    ]
    return await _render(
        request, "account.html", who, numbers=ours, profiles=profile_rows, exports=exports, active="account"
    )


# --- live updates -------------------------------------------------------------------------------------


def _sse(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def _events_of(rows: list[dict], listing: list[dict]) -> str:
    """SSE text for a batch of changed messages: `status-<message id>` carries the new status badge,
    `thread-<handset>-<number>` tells an open thread to refresh itself, `conversations` carries the list."""
    badge = templates.get_template("_status.html")
    chunks = []
    threads = set()
    for row in rows:
        chunks.append(_sse(f"status-{row['id']}", badge.render(id=row["id"], status=row["status"])))
        if not row["new"]:
            continue
        if row["direction"] == "outbound":
            threads.add((row["to_number"], row["from_number"]))
        else:
            threads.add((row["from_number"], row["to_number"]))
    for handset, number in sorted(threads):
        chunks.append(_sse(f"thread-{_digits(handset)}-{_digits(number)}", "changed"))
    listing_html = templates.get_template("_conversation_list.html").render(items=listing, current=None)
    chunks.append(_sse("conversations", listing_html))
    return "".join(chunks)


@router.get("/console/events")
async def events(request: Request) -> Response:
    """Server-Sent Events for the open page (see _events_of); a comment every 15 s keeps proxies from closing it."""
    who = await _who(request)
    if isinstance(who, Response):
        return who
    feeds: Feeds = request.app.state.console_feeds

    async def stream():
        async with feeds.subscribe(who.organization_id) as queue:
            yield ": connected\n\n"
            while True:
                try:
                    chunk = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if chunk is None:  # the server is stopping; the browser reconnects to the next one
                    return
                yield chunk

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def mount_static(app) -> None:
    """The console's static files (htmx, CSS) and its live feeds; api/app.py includes `router` itself."""
    from starlette.staticfiles import StaticFiles

    app.state.console_feeds = Feeds(app.state.heliograph.ctx, _events_of)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
