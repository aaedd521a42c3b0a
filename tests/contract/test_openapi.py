"""Issue 11 #8: /openapi.json describes every operation (parameters, request body, responses with error
bodies) and /docs renders from files the server itself serves. That the suite's traffic matches the
document is checked by the session fixture `openapi_conformance` (conftest.py)."""

from __future__ import annotations

import re

import httpx
from support import Server

BODYLESS = {
    ("post", "/v2/messaging_profiles/{profile_id}/actions/regenerate_secret"),
    ("post", "/heliograph/v1/webhook_deliveries/{delivery_id}/replay"),
}


def _document(server: Server) -> dict:
    answer = httpx.get(server.url + "/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def test_every_operation_has_its_body_parameters_and_responses(server: Server) -> None:
    doc = _document(server)
    schemas = doc["components"]["schemas"]
    operations = [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]
    assert len(operations) > 50
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        if method in ("post", "put", "patch") and (method, path) not in BODYLESS:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert body, where
        for status, answer in op["responses"].items():
            for media in answer["content"].values():
                assert media["schema"], f"{where} {status}: empty schema"
        assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }, where
        if path.startswith("/v2/"):
            assert op["security"] == [{"bearer": []}], where
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), where
    assert {"ErrorBody", "Message", "MessagingProfile", "ProfileCreate", "WhatsappRequest"} <= set(schemas)
    listing = doc["paths"]["/v2/messaging_profiles"]["get"]
    size = next(p for p in listing["parameters"] if p["name"] == "page[size]")
    assert size["schema"]["maximum"] == 250
    send = doc["paths"]["/v2/messages/alphanumeric_sender_id"]["post"]["requestBody"]["content"]["application/json"]
    assert set(send["schema"]["required"]) == {"to", "from", "text", "messaging_profile_id"}


def test_docs_render_offline_from_the_servers_own_assets(server: Server) -> None:
    page = httpx.get(server.url + "/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    for source in sources:
        asset = httpx.get(server.url + source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 500, source
    assert "/openapi.json" in page.text
