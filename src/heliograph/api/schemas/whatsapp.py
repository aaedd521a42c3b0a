"""The `whatsapp_message` object (spec messages.md §15), validated with WhatsApp's own limits."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError


def _utf8_max(limit: int):
    def check(value: str | None) -> str | None:
        if value is not None and len(value.encode()) > limit:
            raise PydanticCustomError("telnyx_10033", f"must be at most {limit} bytes")
        return value

    return check


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Media(_Model):
    link: StrictStr | None = None
    id: StrictStr | None = None
    caption: StrictStr | None = None
    filename: StrictStr | None = None
    voice: StrictBool | None = None

    _caption = field_validator("caption")(_utf8_max(1024))

    @model_validator(mode="after")
    def _one_source(self) -> Media:
        if (self.link is None) == (self.id is None):
            raise PydanticCustomError("telnyx_10004", "exactly one of 'link' or 'id' is required")
        return self


class Text(_Model):
    body: StrictStr
    preview_url: StrictBool | None = None

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        if not value or len(value.encode()) > 4096:
            raise PydanticCustomError("telnyx_10033", "text.body must be 1 to 4096 bytes")
        return value


class Location(_Model):
    latitude: StrictStr | None = None
    longitude: StrictStr | None = None
    name: StrictStr | None = None
    address: StrictStr | None = None

    @model_validator(mode="after")
    def _ranges(self) -> Location:
        for name, bound in (("latitude", 90), ("longitude", 180)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                number = float(value)
            except ValueError:
                raise PydanticCustomError("telnyx_10026", f"{name} must be a decimal number as a string") from None
            if not -bound <= number <= bound:
                raise PydanticCustomError("telnyx_10033", f"{name} must be between -{bound} and {bound}")
        return self


class Reaction(_Model):
    message_id: StrictStr | None = None
    emoji: StrictStr | None = None


class TemplateLanguage(_Model):
    code: StrictStr
    policy: StrictStr | None = None


class TemplateParameter(_Model):
    type: Literal["text", "image", "video", "document", "currency", "date_time"] | None = None
    text: StrictStr | None = None


class TemplateComponent(_Model):
    type: Literal["header", "body", "button"] | None = None
    sub_type: Literal["quick_reply", "url"] | None = None
    index: StrictInt | None = None
    parameters: list[TemplateParameter] | None = None


class Template(_Model):
    template_id: StrictStr | None = None
    name: StrictStr | None = None
    language: TemplateLanguage | None = None
    components: list[TemplateComponent] | None = None

    @model_validator(mode="after")
    def _identified(self) -> Template:
        if not self.template_id and not (self.name and self.language):
            raise PydanticCustomError("telnyx_10004", "a template needs 'template_id', or 'name' and 'language'")
        return self


class InteractiveText(_Model):
    text: Annotated[StrictStr, Field(max_length=1024)] | None = None


class InteractiveShortText(_Model):
    text: Annotated[StrictStr, Field(max_length=60)] | None = None


class InteractiveHeader(_Model):
    text: Annotated[StrictStr, Field(max_length=60)] | None = None
    sub_text: StrictStr | None = None
    image: Media | None = None
    video: Media | None = None
    document: Media | None = None


class ButtonReply(_Model):
    id: Annotated[StrictStr, Field(max_length=256)] | None = None
    title: Annotated[StrictStr, Field(max_length=20)] | None = None


class Button(_Model):
    type: Literal["reply"] | None = None
    reply: ButtonReply | None = None


class SectionRow(_Model):
    id: Annotated[StrictStr, Field(max_length=200)] | None = None
    title: Annotated[StrictStr, Field(max_length=24)] | None = None
    description: Annotated[StrictStr, Field(max_length=72)] | None = None


class Section(_Model):
    title: Annotated[StrictStr, Field(max_length=24)] | None = None
    rows: list[SectionRow] | None = None
    product_items: list[dict] | None = None


class CardBody(_Model):
    text: Annotated[StrictStr, Field(max_length=160)] | None = None


class Card(_Model):
    card_index: Annotated[StrictInt, Field(ge=0, le=9)] | None = None
    type: Literal["cta_url"] | None = None
    header: dict | None = None
    body: CardBody | None = None
    action: dict | None = None


class ActionParameters(_Model):
    display_text: Annotated[StrictStr, Field(max_length=20)] | None = None
    url: StrictStr | None = None


class Action(_Model):
    button: StrictStr | None = None
    buttons: Annotated[list[Button], Field(max_length=3)] | None = None
    cards: list[Card] | None = None
    catalog_id: StrictStr | None = None
    mode: StrictStr | None = None
    name: StrictStr | None = None
    parameters: ActionParameters | None = None
    product_retailer_id: StrictStr | None = None
    sections: list[Section] | None = None


class Interactive(_Model):
    type: Literal["cta_url", "list", "carousel", "button", "location_request_message"] | None = None
    header: InteractiveHeader | None = None
    body: InteractiveText | None = None
    footer: InteractiveShortText | None = None
    action: Action | None = None


class Contact(_Model):
    name: dict | StrictStr | None = None


MessageType = Literal[
    "audio",
    "document",
    "image",
    "sticker",
    "video",
    "interactive",
    "location",
    "template",
    "reaction",
    "contacts",
    "text",
]
MESSAGE_TYPES: tuple[MessageType, ...] = get_args(MessageType)


class WhatsappMessage(_Model):
    type: MessageType | None = None
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    document: Media | None = None
    audio: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    contacts: Annotated[list[Contact], Field(min_length=1, max_length=257)] | None = None
    template: Template | None = None
    interactive: Interactive | None = None
    biz_opaque_callback_data: StrictStr | None = None

    @model_validator(mode="after")
    def _content_matches_type(self) -> WhatsappMessage:
        present = [t for t in MESSAGE_TYPES if getattr(self, t) is not None]
        kind = self.type or (present[0] if len(present) == 1 else None)
        if kind is None:
            raise PydanticCustomError("telnyx_10004", "'type' is required when the content is not exactly one object")
        if getattr(self, kind) is None:
            raise PydanticCustomError("telnyx_10004", f"a '{kind}' message needs the '{kind}' object")
        for media_kind in ("audio", "sticker"):
            media = getattr(self, media_kind)
            if media is not None and media.caption is not None:
                raise PydanticCustomError("telnyx_10027", f"{media_kind} messages cannot have a caption")
        self.type = kind
        return self


class WhatsappRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    to: StrictStr
    from_: StrictStr = Field(alias="from")
    whatsapp_message: WhatsappMessage
    messaging_profile_id: StrictStr | None = None
    type: Literal["WHATSAPP"] | None = None
    webhook_url: StrictStr | None = None
    webhook_failover_url: StrictStr | None = None
    use_profile_webhooks: StrictBool | None = None
