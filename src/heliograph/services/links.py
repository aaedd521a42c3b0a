"""The link shortener: rewriting links in outbound text, and serving the short links.

A click answers 302 to the original URL and, when the profile asks for it, owes a signed
`link_clicked` webhook (a bare `{"data": …}` body, exactly like Telnyx's).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from heliograph.domain import links
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.services import webhooks
from heliograph.services.context import Context
from heliograph.store import accounts, outbox
from heliograph.store import compliance as store


def short_url_maker(ctx: Context, settings: Row):
    domain = settings["domain"]
    own = urlsplit(ctx.settings.base_url())
    scheme = own.scheme if domain == own.netloc else "https"
    prefix = (settings.get("prefix") or "").strip("/")

    def make(token: str) -> str:
        return f"{scheme}://{domain}/{prefix}/{token}" if prefix else f"{scheme}://{domain}/{token}"

    return make


def rewrite(ctx: Context, profile: Row, text: str | None) -> tuple[str | None, list[links.Replacement]]:
    settings = profile.get("url_shortener_settings")
    if not settings or not text:
        return text, []
    blacklist_only = settings.get("replace_blacklist_only", True) is not False
    return links.rewrite(text, short_url_maker(ctx, settings), blacklist_only=blacklist_only)


def link_rows(message: Row, profile: Row, replacements: list[links.Replacement]) -> list[Row]:
    send_webhooks = bool((profile.get("url_shortener_settings") or {}).get("send_webhooks"))
    return [
        {
            "token": r.token,
            "organization_id": message["organization_id"],
            "messaging_profile_id": profile["id"],
            "message_id": message["id"],
            "recipient": message["to_number"],
            "url": r.original,
            "send_webhooks": send_webhooks,
            "created_at": message["received_at"],
        }
        for r in replacements
    ]


async def click(ctx: Context, token: str) -> str | None:
    """The original URL for a short-link token (None if unknown); records the click webhook if asked for."""
    async with ctx.db.read() as conn:
        link = await store.get_short_link(conn, token)
        profile = None
        if link is not None and link["send_webhooks"] and link["messaging_profile_id"]:
            profile = await accounts.get_profile(conn, link["organization_id"], link["messaging_profile_id"])
    if link is None:
        return None
    urls = webhooks.profile_urls(profile)
    if urls:
        now = ctx.now()
        data = {
            "record_type": "link_clicked",
            "url": link["url"],
            "to": link["recipient"],
            "message_id": link["message_id"],
            "time_clicked": iso(now),
        }
        event = webhooks.new_event(
            organization_id=link["organization_id"],
            event_type="link_clicked",
            payload=data,
            occurred_at=now,
            urls=urls,
            message_id=link["message_id"],
            envelope="bare",
        )
        async with ctx.db.transaction() as conn:
            await outbox.add_events(conn, [event])
        ctx.wakeups.webhooks.set()
    return link["url"]


__all__ = ["rewrite", "link_rows", "click"]
