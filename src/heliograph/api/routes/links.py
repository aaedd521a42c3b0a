"""Short links served by Heliograph itself: GET /<prefix>/<token> → 302 to the original URL. No auth."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match

from heliograph.domain.errors import MethodNotAllowed, NotFound
from heliograph.services import links

router = APIRouter()


def _other_method_allowed(request: Request) -> bool:
    """True when the path belongs to an API route that takes another method (so the answer is 405)."""
    for route in request.app.routes:
        if getattr(route, "endpoint", None) in (follow, follow_prefixed):
            continue
        match, _ = route.matches(request.scope)
        if match is Match.PARTIAL:
            return True
    return False


async def _follow(request: Request, token: str) -> Response:
    if request.url.path.startswith(("/v2/", "/sandbox/")):
        if _other_method_allowed(request):
            raise MethodNotAllowed(f"GET is not allowed on {request.url.path}.")
        raise NotFound(f"No route for GET {request.url.path}.")
    url = await links.click(request.app.state.heliograph.ctx, token)
    if url is None:
        raise NotFound("No such short link.")
    return RedirectResponse(url, status_code=302)


@router.get("/{prefix}/{token}", include_in_schema=False)
async def follow_prefixed(prefix: str, token: str, request: Request) -> Response:
    return await _follow(request, token)


@router.get("/{token}", include_in_schema=False)
async def follow(token: str, request: Request) -> Response:
    return await _follow(request, token)
