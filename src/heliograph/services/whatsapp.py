"""WhatsApp sends: the number must be WhatsApp-enabled; the message flows through the same queue,
carrier and webhooks as SMS, with `type: WHATSAPP` and the content echoed as `body`."""

from __future__ import annotations

from heliograph.domain import encoding as enc
from heliograph.domain import phone
from heliograph.domain.errors import InvalidUrl
from heliograph.domain.rows import Row
from heliograph.services import compliance, send_policy, senders, sending, views
from heliograph.services.accounts import Caller
from heliograph.services.context import Context
from heliograph.services.idempotency import IdempotencyRecord
from heliograph.services.send_request import SendRequest
from heliograph.store import accounts as store


def display_text(content: Row) -> str:
    """A human-readable rendering of the content, for the handset view and the message's `text`."""
    kind = content["type"]
    item = content.get(kind) or {}
    if kind == "text":
        return item["body"]
    if kind in ("image", "video", "document", "audio", "sticker"):
        return f"[{kind}] {item.get('caption') or item.get('link') or item.get('id')}"
    if kind == "template":
        return f"[template] {item.get('name') or item.get('template_id')}"
    if kind == "location":
        return f"[location] {item.get('name', '')} {item.get('latitude')},{item.get('longitude')}".replace("  ", " ")
    if kind == "interactive":
        return f"[interactive] {(item.get('body') or {}).get('text', '')}".strip()
    if kind == "reaction":
        return f"[reaction] {item.get('emoji', '')}".strip()
    return f"[{kind}]"


def request_of(body: Row) -> SendRequest:
    """The send request of a WhatsApp `body` whose fields the API layer has validated (api/schemas/whatsapp.py)."""
    return SendRequest(
        endpoint=sending.WHATSAPP,
        to=body["to"],
        from_=body["from"],
        messaging_profile_id=body.get("messaging_profile_id") or None,
        use_profile_webhooks=body.get("use_profile_webhooks", True) is not False,
        webhook_url=body.get("webhook_url"),
        webhook_failover_url=body.get("webhook_failover_url"),
    )


async def send(ctx: Context, caller: Caller, body: Row, content: Row, idempotency: IdempotencyRecord | None) -> Row:
    """`body` is the request; `content` its `whatsapp_message`, already validated by the API layer."""
    return await accept(ctx, caller, request_of(body), content, idempotency)


async def accept(
    ctx: Context, caller: Caller, request: SendRequest, content: Row, idempotency: IdempotencyRecord | None
) -> Row:
    """Check, persist and answer one WhatsApp send; `content` is its validated `whatsapp_message`."""
    to, sender_number = request.to, request.from_ or ""
    for name, value in (("webhook_url", request.webhook_url), ("webhook_failover_url", request.webhook_failover_url)):
        if value and not sending.valid_url(value):
            raise InvalidUrl(f"'{name}' must be an http(s) URL.", pointer=f"/{name}")
    send_policy.check_webhook_urls(ctx, request)
    sending.check_destination(to)
    async with ctx.db.read() as conn:
        profile_arg = await sending.load_profile_arg(conn, caller, request.messaging_profile_id)
        if not phone.is_e164(sender_number):
            raise senders.invalid_from("WhatsApp messages are sent from an E.164 number.")
        number = await store.get_number(conn, caller.organization_id, sender_number)
        if number is None or not number["whatsapp"]:
            raise senders.invalid_from(
                f"The number {sender_number} is not WhatsApp-enabled on this account "
                "(heliograph numbers add NUMBER --whatsapp)."
            )
        profile = profile_arg
        if profile is None and number["messaging_profile_id"]:
            profile = await store.get_profile(conn, caller.organization_id, number["messaging_profile_id"])
        if profile is None:
            raise senders.invalid_from(f"The number {sender_number} is not assigned to a messaging profile.")
    sender = senders.Sender(sender_number, number["type"], profile, number["country_code"], list(number["tags"] or []))
    destination = send_policy.destination_info(to, sender)
    send_policy.check_policy(caller, sender, to, destination)
    async with ctx.db.read() as conn:
        await compliance.check_not_opted_out(conn, profile["id"], sender_number, [to])
    text = display_text(content)
    encoded = enc.EncodedText(text, text, "UTF-8", 1, len(text.encode()), len(text), False, 0)
    row = sending.build_row(ctx, caller, sender, to, destination, "WHATSAPP", text, None, (), encoded, None, request)
    row["extra"] = {"whatsapp_message": content}
    draft = sending.Draft(row, sender)
    return await sending.commit(ctx, [draft], lambda: views.message(row), idempotency)
