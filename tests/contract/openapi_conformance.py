"""Issue 11 #8: check traffic against the server's own /openapi.json.

Every exchange the contract suite makes through httpx (the official SDK and the raw clients) is recorded;
at the end each response must match its operation's schema for its status, and each request body the
server accepted must match the operation's request body schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema_rs


@dataclass
class Exchange:
    method: str
    path: str
    request_body: bytes
    status: int
    content_type: str
    body: bytes


class Recorder:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.exchanges: list[Exchange] = []
        self._original = httpx.Client.send

    def __enter__(self) -> Recorder:
        recorder, original = self, self._original

        def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            response = original(client, request, **kwargs)
            api = not request.url.path.startswith(("/docs", "/openapi.json"))  # the document's own pages
            if str(request.url).startswith(recorder.base_url) and api and not kwargs.get("stream"):
                response.read()
                recorder.exchanges.append(
                    Exchange(
                        request.method,
                        request.url.path,
                        getattr(request, "_content", b""),  # a streamed upload was not kept
                        response.status_code,
                        response.headers.get("content-type", ""),
                        response.content,
                    )
                )
            return response

        httpx.Client.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: Any) -> None:
        httpx.Client.send = self._original  # type: ignore[method-assign]


class Document:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._routes = []
        for template, item in doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            literal = template.count("{")
            self._routes.append((literal, pattern, item))
        self._routes.sort(key=lambda route: route[0])  # literal paths (/messages/schedule) before templates

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for _, pattern, item in self._routes:
            if pattern.match(path) and method.lower() in item:
                return item[method.lower()]
        return None

    def _check(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = jsonschema_rs.validator_for({**schema, "components": self.doc["components"]})
        return [f"{e.message} at {list(e.instance_path)}" for e in validator.iter_errors(instance)]

    def problems(self, exchange: Exchange) -> list[str]:
        where = f"{exchange.method} {exchange.path} → {exchange.status}"
        operation = self.operation(exchange.method, exchange.path)
        if operation is None:  # a path or method the API does not have: refused with the documented error body
            if exchange.status not in (404, 405):
                return [f"{where}: no such operation in the document"]
            error = {"$ref": "#/components/schemas/ErrorBody"}
            return [f"{where}: response {p}" for p in self._check(error, json.loads(exchange.body))]
        found: list[str] = []
        responses = operation["responses"]
        answer = responses.get(str(exchange.status)) or responses.get("default")
        if answer is None:
            return [f"{where}: status not documented"]
        media = exchange.content_type.split(";")[0].strip()
        if exchange.body and media == "application/json":
            schema = answer.get("content", {}).get(media, {}).get("schema")
            if schema is None:
                return [f"{where}: no JSON schema for this answer"]
            found += [f"{where}: response {p}" for p in self._check(schema, json.loads(exchange.body))]
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if exchange.status < 300 and body_schema is not None and exchange.request_body:
            sent = json.loads(exchange.request_body)
            found += [f"{where}: request {p}" for p in self._check(body_schema, sent)]
        return found
