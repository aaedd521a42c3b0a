"""The OpenAPI document at /openapi.json: every operation's parameters, request body and responses.

The routes read their bodies and query strings themselves (api/validation.py, api/pagination.py), so
FastAPI alone sees neither. This module completes its document from the definitions the code validates
with: the pydantic request models, the send endpoints' field table and required fields
(services/sending.py), the pagination bounds, the query parameters each route reads, and the error body
every refusal uses (api/errors.py). Responses are described by api/schemas/responses.py. Swagger UI at
/docs is served from files in this package (api/swagger_ui), so it works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse

from heliograph.api.pagination import MAX_PAGE_SIZE
from heliograph.api.schemas import responses as r
from heliograph.api.schemas.profiles import ProfileCreate, ProfileUpdate
from heliograph.api.schemas.whatsapp import WhatsappRequest
from heliograph.services import sending

REF = "#/components/schemas/{model}"
STRING = {"type": "string"}


@dataclass(frozen=True)
class Op:
    ok: type[BaseModel] | dict | None  # the success body's model (or a raw schema)
    body: type[BaseModel] | dict | None = None
    query: tuple[tuple[str, dict], ...] = ()
    status: int = 200
    auth: bool = True
    media: str = "application/json"


PAGE = (
    ("page[number]", {"type": "integer", "minimum": 1, "default": 1}),
    ("page[size]", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20}),
)


def _filters(*names: str) -> tuple[tuple[str, dict], ...]:
    return tuple((name, STRING) for name in names)


_TYPES: dict[type | tuple[type, ...], dict[str, Any]] = {
    str: STRING,
    list: {"type": "array", "items": STRING},
    bool: {"type": "boolean"},
}


def send_body(endpoint: sending.Endpoint) -> dict:
    """A send endpoint's body, from the field table and required fields the send code validates with."""
    properties: dict[str, Any] = {name: dict(_TYPES[kind]) for name, kind in sending.FIELD_TYPES.items()}
    properties["type"]["enum"] = ["SMS", "MMS"]
    properties["encoding"]["enum"] = ["auto", "gsm7", "ucs2"]
    properties["send_at"]["format"] = "date-time"
    required = ["to", *endpoint.required]
    if endpoint.kind == "group_mms":
        properties["to"] = {"type": "array", "items": STRING, "minItems": 1}
    for name, schema in properties.items():  # an optional field may be null: the send code reads null as absent
        if name not in required:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(set(required), key=required.index),
        "additionalProperties": True,
    }


def _model(name: str) -> type[BaseModel]:
    """A request model defined beside its route (imported late: the routes import this package)."""
    from heliograph.api.routes import (
        alphanumeric_sender_ids,
        autoresp_configs,
        devtools,
        number_orders,
        phone_numbers,
        sandbox,
        short_codes,
    )

    for module in (
        alphanumeric_sender_ids,
        autoresp_configs,
        devtools,
        number_orders,
        phone_numbers,
        sandbox,
        short_codes,
    ):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(name)


def operations() -> dict[tuple[str, str], Op]:
    """Every documented operation, keyed by (method, path template)."""
    msg, prof, num, sc, order, res = (
        r.Message,
        r.MessagingProfile,
        r.PhoneNumberSettings,
        r.ShortCode,
        r.NumberOrder,
        r.Resource,
    )
    ops: dict[tuple[str, str], Op] = {}
    from heliograph.api.routes.messages import SEND_ROUTES  # the one list of send endpoints

    for route in SEND_ROUTES:  # a group MMS answers with the group's first message
        endpoint = route.endpoint
        body = WhatsappRequest if endpoint is sending.WHATSAPP else send_body(endpoint)
        ops["post", "/v2" + endpoint.path] = Op(r.Data[msg], body)
    ops["get", "/v2/messages/group/{message_id}"] = Op(r.Data[list[msg]])
    ops["get", "/v2/messages/{message_id}"] = Op(r.Data[msg])
    ops["delete", "/v2/messages/{message_id}"] = Op(msg)

    ops["get", "/v2/messaging_profiles"] = Op(
        r.Page[prof], query=PAGE + _filters("filter[name]", "filter[name][contains]")
    )
    ops["post", "/v2/messaging_profiles"] = Op(r.Data[prof], ProfileCreate)
    ops["get", "/v2/messaging_profiles/{profile_id}"] = Op(r.Data[prof])
    ops["patch", "/v2/messaging_profiles/{profile_id}"] = Op(r.Data[prof], ProfileUpdate)
    ops["delete", "/v2/messaging_profiles/{profile_id}"] = Op(r.Data[prof])
    ops["post", "/v2/messaging_profiles/{profile_id}/actions/regenerate_secret"] = Op(r.Data[prof])
    ops["get", "/v2/messaging_profiles/{profile_id}/phone_numbers"] = Op(r.Page[num], query=PAGE)
    ops["get", "/v2/messaging_profiles/{profile_id}/short_codes"] = Op(r.Page[sc], query=PAGE)
    ops["get", "/v2/messaging_profile_metrics"] = Op(r.Page[res], query=PAGE + _filters("time_frame"))
    ops["get", "/v2/messaging_profiles/{profile_id}/metrics"] = Op(r.Data[res], query=_filters("time_frame"))

    number_filters = _filters(
        "filter[messaging_profile_id]", "filter[phone_number][eq]", "filter[phone_number][contains]", "filter[type]"
    )
    number_query = PAGE + number_filters + _filters("sort[phone_number]")
    ops["get", "/v2/phone_numbers/messaging"] = Op(r.Page[num], query=number_query)
    ops["get", "/v2/phone_numbers/{number_id}/messaging"] = Op(r.Data[num])
    ops["patch", "/v2/phone_numbers/{number_id}/messaging"] = Op(r.Data[num], _model("NumberUpdate"))
    ops["get", "/v2/messaging_hosted_numbers"] = Op(r.Page[num], query=number_query)
    ops["get", "/v2/messaging_hosted_numbers/{number_id}"] = Op(r.Data[num])
    ops["patch", "/v2/messaging_hosted_numbers/{number_id}"] = Op(r.Data[num], _model("NumberUpdate"))
    ops["delete", "/v2/messaging_hosted_numbers/{number_id}"] = Op(r.Data[res])

    ops["get", "/v2/short_codes"] = Op(r.Page[sc], query=PAGE + _filters("filter[messaging_profile_id]"))
    ops["get", "/v2/short_codes/{short_code_id}"] = Op(r.Data[sc])
    ops["patch", "/v2/short_codes/{short_code_id}"] = Op(r.Data[sc], _model("ShortCodeUpdate"))

    alpha_query = PAGE + _filters("filter[messaging_profile_id]")
    ops["get", "/v2/alphanumeric_sender_ids"] = Op(r.Page[res], query=alpha_query)
    ops["post", "/v2/alphanumeric_sender_ids"] = Op(r.Data[res], _model("AlphanumericCreate"))
    ops["get", "/v2/alphanumeric_sender_ids/{sender_id}"] = Op(r.Data[res])
    ops["delete", "/v2/alphanumeric_sender_ids/{sender_id}"] = Op(r.Data[res])
    ops["get", "/v2/messaging_profiles/{profile_id}/alphanumeric_sender_ids"] = Op(r.Page[res], query=PAGE)

    autoresp = "/v2/messaging_profiles/{profile_id}/autoresp_configs"
    autoresp_query = _filters(
        "country_code", "created_at[gte]", "created_at[lte]", "updated_at[gte]", "updated_at[lte]"
    )
    ops["get", autoresp] = Op(r.Page[res], query=autoresp_query)
    ops["post", autoresp] = Op(r.Data[res], _model("AutoRespConfigBody"))
    ops["get", autoresp + "/{config_id}"] = Op(r.Data[res])
    ops["put", autoresp + "/{config_id}"] = Op(r.Data[res], _model("AutoRespConfigBody"))
    ops["delete", autoresp + "/{config_id}"] = Op(STRING)

    ops["get", "/v2/messaging_optouts"] = Op(
        r.Page[res], query=PAGE + _filters("filter[messaging_profile_id]", "filter[from]", "redaction_enabled")
    )
    ops["get", "/v2/messaging_url_domains"] = Op(r.Page[res], query=PAGE)

    order_filters = _filters(
        "filter[status]",
        "filter[customer_reference]",
        "filter[created_at][gt]",
        "filter[created_at][lt]",
        "filter[phone_numbers_count]",
    )
    ops["get", "/v2/number_orders"] = Op(r.Page[order], query=PAGE + order_filters)
    ops["post", "/v2/number_orders"] = Op(r.Data[order], _model("OrderCreate"))
    ops["get", "/v2/number_orders/{order_id}"] = Op(r.Data[order])
    ops["patch", "/v2/number_orders/{order_id}"] = Op(r.Data[order], _model("OrderUpdate"))

    delivery_filters = _filters(
        "filter[status][eq]",
        "filter[event_type]",
        "filter[webhook][contains]",
        "filter[attempts][contains]",
        "filter[started_at][gte]",
        "filter[started_at][lte]",
        "filter[finished_at][gte]",
        "filter[finished_at][lte]",
    )
    ops["get", "/v2/webhook_deliveries"] = Op(r.Page[res], query=PAGE + delivery_filters)
    ops["get", "/v2/webhook_deliveries/{delivery_id}"] = Op(r.Data[res])

    ops["get", "/sandbox/v1/handsets/{e164}/messages"] = Op(r.Data[list[r.HandsetMessage]])
    ops["delete", "/sandbox/v1/handsets/{e164}/messages"] = Op(r.Data[res])
    ops["post", "/sandbox/v1/inbound"] = Op(r.Data[msg], _model("InboundBody"))

    events_query = _filters("after", "event_types", "messaging_profile_id", "forward_to")
    ops["get", "/heliograph/v1/events"] = Op(STRING, query=events_query, media="text/event-stream")
    ops["post", "/heliograph/v1/events/{event_id}/forwards"] = Op(r.Data[res], _model("ForwardBody"), status=201)
    ops["post", "/heliograph/v1/webhook_deliveries/{delivery_id}/replay"] = Op(r.Data[res])
    ops["post", "/heliograph/v1/preview"] = Op(r.Data[res], _model("PreviewBody"))

    ops["post", "/carriers/v1/{connector}/webhooks"] = Op(r.Data[res], {"type": "object"}, auth=False)
    ops["get", "/healthz"] = Op(r.Health, auth=False)
    ops["get", "/readyz"] = Op(r.Health, auth=False)
    return ops


# the answers any operation may give besides its success (api/errors.py, api/middleware.py, api/protocol.py)
ERRORS = {
    "400": "Malformed request (10015), body not JSON (10023) or not UTF-8 (10028)",
    "401": "Missing or invalid API key (10009)",
    "404": "No such resource, or a path holding what no resource id can (10005)",
    "413": "Body larger than the limit",
    "415": "Body not application/json (10024)",
    "422": "A body field (source.pointer) or query parameter (source.parameter) is refused",
    "429": "API rate limit (10011) or the profile's daily spend limit (40333)",
    "500": "Unexpected error (10007), with an error id",
}


def document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document (paths, summaries, tags), completed from operations()."""
    from fastapi.openapi.utils import get_openapi

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    ops = operations()
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "serialization") for m in r.RESPONSE_MODELS]
    keys += [(op.ok, "serialization") for op in ops.values() if isinstance(op.ok, type)]
    keys += [(op.body, "validation") for op in ops.values() if isinstance(op.body, type)]
    keys = list(dict.fromkeys(keys))
    refs, schemas = models_json_schema(keys, ref_template=REF)
    components = doc.setdefault("components", {})
    components["schemas"] = schemas.get("$defs", {})
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key."}}

    def schema_of(thing: type[BaseModel] | dict | None, mode: str) -> dict:
        if isinstance(thing, dict):
            return thing
        return refs[(thing, mode)]  # type: ignore[index]  # a described model, in the mode it was listed with

    for path, item in doc["paths"].items():
        for method, operation in item.items():
            op = ops.get((method, path))
            if op is None:
                raise LookupError(f"{method.upper()} {path} is not described in api/openapi.py operations()")
            params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in op.query]
            if path.startswith("/v2/messages") and method == "post":
                params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": STRING})
            operation["parameters"] = params
            if op.body is not None:
                mode = "validation"
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": schema_of(op.body, mode)}},
                }
            else:
                operation.pop("requestBody", None)
            ok_mode = "serialization"
            responses: dict[str, Any] = {
                str(op.status): {
                    "description": "Success",
                    "content": {op.media: {"schema": schema_of(op.ok, ok_mode)}},
                }
            }
            error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
            for status, description in ERRORS.items():
                if status == "401" and not op.auth:
                    continue
                responses[status] = {"description": description, **error}
            responses["default"] = {"description": "Any other refusal, in the same error body", **error}
            operation["responses"] = responses
            if op.auth:
                operation["security"] = [{"bearer": []}]
    doc["servers"] = [{"url": "/"}]
    return doc


SWAGGER_PREFIX = "/docs/assets"
SWAGGER_FILES = Path(__file__).parent / "swagger_ui"  # vendored from the npm package swagger-ui-dist


def install(app: FastAPI) -> None:
    """Serve the completed document, and Swagger UI from this package instead of a CDN."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(SWAGGER_PREFIX, StaticFiles(directory=SWAGGER_FILES), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_PREFIX}/favicon-32x32.png",
        )
