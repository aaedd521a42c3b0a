"""The HTTP/1.1 connection itself: bounded heads, timeouts for slow clients, Telnyx bodies, clean closes.

uvicorn's httptools protocol buffers a request head of any size (a 32 MiB header was accepted before
authentication) and waits forever for a half-sent head or body. This subclass bounds, per connection and
before any application code runs:
- the request target (414) and the head, URL and headers together (431), and the number of header fields;
- the time to send a head (from the connection or the request's first byte) and a body (408);
- the idle time between requests (keep-alive).
Every refusal here carries a Telnyx error body and `Connection: close`, and the connection is closed
gracefully: the response is flushed, our side is shut down for writing, and what the client still sends is
read and dropped for a moment ("lingering close"), so the client reads the answer instead of a reset. The
same close is used when the application answers `Connection: close` before reading the whole body (413).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from heliograph.api.errors import error_entry
from heliograph.domain.errors import BadRequest, HeliographError, RequestTimeout

LINGER_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Limits:
    max_url_bytes: int = 16 * 1024
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0


def protocol_class(limits: Limits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn.Config(http=…) takes, bound to these limits."""
    return type("HeliographHttpProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: Limits = Limits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True  # reading a request's head (or waiting for its first byte)
        self._head_bytes = 0
        self._header_count = 0
        self._header_bytes = 0
        self._refusal: HeliographError | None = None
        self._lingering = False
        self._body_timer: asyncio.TimerHandle | None = None
        # a connection that never sends a byte is as slow as one that sends a byte a minute
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.limits.header_timeout, self._head_timed_out
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio.Protocol allows True (half-open)
        if self._lingering:
            self.transport.close()
        return None

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # read and dropped: closing gracefully
        self._unset_keepalive_if_required()
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            refusal = self._refusal or BadRequest("The request is not valid HTTP/1.1.")
            self.logger.debug("refused request: %s", refusal.detail, extra={"action": "http_refused"})
            self.refuse(refusal)
            return
        if self._in_head and self._head_bytes > self.limits.max_header_bytes:
            self.refuse(self._too_large_head())

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._header_count = 0
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._refusal = BadRequest(
                f"The request target is longer than {self.limits.max_url_bytes} bytes.", status=414
            )
            raise self._refusal

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.limits.max_header_bytes:  # arrived whole in one read
            self._refusal = self._too_large_head()
            raise self._refusal
        if self._header_count > self.limits.max_headers:
            self._refusal = BadRequest(
                f"The request has more than {self.limits.max_headers} header fields.", status=431
            )
            raise self._refusal
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _GracefulTransport(self)  # type: ignore[assignment]
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()
        self._in_head = True  # what comes next is the next request's head

    # refusals and closing
    def _too_large_head(self) -> HeliographError:
        if len(getattr(self, "url", b"")) > self.limits.max_url_bytes:
            return BadRequest(f"The request target is longer than {self.limits.max_url_bytes} bytes.", status=414)
        return BadRequest(f"The request head is larger than {self.limits.max_header_bytes} bytes.", status=431)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            if self._head_bytes == 0 and (self.cycle is None or self.cycle.response_complete):
                self.transport.close()  # nothing was asked: nothing to answer
                return
            seconds = self.limits.header_timeout
            self.refuse(RequestTimeout(f"The request head was not received within {seconds:g} s."))

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the application's receive() now says http.disconnect, its send() is dropped
            cycle.message_event.set()
            seconds = self.limits.body_timeout
            self.refuse(RequestTimeout(f"The request body was not received within {seconds:g} s."))
        else:
            self.close_gracefully()  # answered already, the rest of the body is still trickling in

    def refuse(self, refusal: HeliographError) -> None:
        """Answer with a Telnyx error body and `Connection: close`, then close gracefully."""
        if self.transport.is_closing():
            return
        body = orjson.dumps({"errors": [error_entry(refusal.code, refusal.detail)]})
        head = [STATUS_LINE[refusal.status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.close_gracefully()

    def close_gracefully(self) -> None:
        """Flush, shut down our sending side, drop what the client still sends for a moment, then close."""
        if self.transport.is_closing() or self._lingering:
            return
        self._lingering = True
        self._cancel_timers()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None


class _GracefulTransport:
    """The transport as a request's cycle sees it: closing it mid-body (an answer before the whole body was
    read, with `Connection: close`) closes gracefully instead of resetting the connection."""

    def __init__(self, protocol: GuardedHttpToolsProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    def close(self) -> None:
        cycle = self._protocol.cycle
        if cycle is not None and cycle.more_body:
            self._protocol.close_gracefully()
        else:
            self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
