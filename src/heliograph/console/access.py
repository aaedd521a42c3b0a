"""Who is looking at the console, and the CSRF check on its forms.

Sandbox bound to a loopback address: the developer's own machine, so no login (the sandbox organization).
Any other address, or gateway mode: an API key once, then a session cookie (HttpOnly, SameSite=Strict).
Every form carries a token equal to a random cookie of its own (double submit); a cross-site page can
neither read that cookie nor make the browser send it (SameSite=Strict), so it cannot forge a form.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from fastapi import Request

from heliograph.services import console_sessions
from heliograph.services.accounts import Caller
from heliograph.settings import Settings

SESSION_COOKIE = "heliograph_session"
CSRF_COOKIE = "heliograph_csrf"
CSRF_FIELD = "csrf_token"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost are loopback; 0.0.0.0 (every interface) is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def login_required(settings: Settings) -> bool:
    return settings.mode != "sandbox" or not is_loopback(settings.host)


class LoginNeeded(Exception):
    """The page needs a session; the route answers with the login page (or a redirect to it)."""


async def caller(request: Request) -> Caller:
    hg = request.app.state.heliograph
    if login_required(hg.settings):
        found = await console_sessions.caller_for_session(hg.ctx, request.cookies.get(SESSION_COOKIE))
    else:
        found = await console_sessions.sandbox_caller(hg.ctx)
    if found is None:
        raise LoginNeeded
    return found


def csrf_token(request: Request) -> str:
    """The token forms carry; a new one is minted (and set as a cookie by the page) when none exists."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(24)
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))
