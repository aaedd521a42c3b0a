"""Fetching MMS media before submission: bounded in time, size, count and type, never on the API path.

In gateway mode a URL that resolves to a loopback or private address is refused (SSRF guard,
services/destinations.py) unless its host is listed in HELIOGRAPH_MEDIA_ALLOWED_HOSTS, and the fetch
connects to the very address that was checked; the sandbox allows them, so local test servers work.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy

import httpx

from heliograph.services.destinations import DestinationGuard, DestinationRefused

MAX_TOTAL_BYTES = 1024 * 1024  # Telnyx: the total must be under 1 MB
ALLOWED_TYPES = (
    "image/",
    "video/",
    "audio/",
    "text/plain",
    "text/vcard",
    "text/x-vcard",
    "text/calendar",
    "application/pdf",
    "application/smil",
)


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    url: str
    content_type: str
    size: int
    sha256: str


class MediaError(Exception):
    """A media URL could not be used; the message fails with 40009 and this detail."""


class MediaFetcher:
    def __init__(
        self,
        *,
        timeout_seconds: float = 10.0,
        guard_private: bool = False,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self._timeout = timeout_seconds
        self._guard = DestinationGuard.build(enabled=guard_private, allowed=",".join(allowed_hosts))
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        # one client for the fetcher's life: building one (and its TLS context) cost ~37 ms per message
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                transport=self._guard.httpx_transport(),
                trust_env=False,
            )
            # shared by every tenant's fetches: accept no cookie (no domain is allowed), so none carries over
            self._http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def fetch_all(self, urls: list[str]) -> list[FetchedMedia]:
        client = self._client()
        results = await asyncio.wait_for(asyncio.gather(*(self._fetch(client, url) for url in urls)), self._timeout * 2)
        total = sum(m.size for m in results)
        if total >= MAX_TOTAL_BYTES:
            raise MediaError(f"The media total {total} bytes; it must be less than 1 MB.")
        return list(results)

    async def _fetch(self, client: httpx.AsyncClient, url: str) -> FetchedMedia:
        refusal = self._guard.refusal(url)
        if refusal:
            raise MediaError(f"{url} cannot be fetched: {refusal}")
        digest = hashlib.sha256()
        size = 0
        try:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise MediaError(f"{url} answered HTTP {response.status_code}.")
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if not content_type.startswith(ALLOWED_TYPES):
                    raise MediaError(f"{url} has content type {content_type or 'unknown'}, which MMS cannot carry.")
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size >= MAX_TOTAL_BYTES:
                        raise MediaError(f"{url} is larger than 1 MB.")
                    digest.update(chunk)
        except DestinationRefused as exc:
            raise MediaError(f"{url} cannot be fetched: {exc}") from None
        except (httpx.HTTPError, OSError) as exc:
            raise MediaError(f"{url} could not be fetched: {exc.__class__.__name__}.") from None
        return FetchedMedia(url, content_type, size, digest.hexdigest())
