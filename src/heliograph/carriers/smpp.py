"""The SMPP 3.4 connector: an ESME link to one SMSC (`binds` parallel bind_transceiver sessions).

What it does, and where the issue left room (docs/decisions.md, "SMPP connector"):

* each bind connects, binds, keeps alive with enquire_link, and on any failure reconnects with
  exponential backoff and jitter (`reconnect_min_seconds` → `reconnect_max_seconds`); a refused bind
  (even one answered with a bare 16-byte header) marks it `down` with the SMSC's status name;
* `submit` splits text exactly as `domain.encoding.split_parts` does (the API's `parts`), sends each
  part as submit_sm with registered_delivery=1 and, when concatenated, a 6-octet UDH whose 8-bit
  reference is not in use by another message in flight; a window of outstanding submit_sm per bind
  and the connector's `mps` pace it; throttling statuses are absorbed for `throttle_patience_seconds`;
* deliver_sm receipts and MOs go to the sinks in batches, and deliver_sm_resp OK goes out only after
  the sink returned (committed); if it raised, the SMSC gets ESME_RX_T_APPN and redelivers.

The wire format lives in `smpp_pdu` (pure functions, unit-tested without sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from heliograph.carriers import smpp_pdu as wire
from heliograph.carriers.base import CarrierInbound, CarrierReceipt, LinkState, Sinks, Submission, SubmitResult
from heliograph.clock import Clock
from heliograph.domain.encoding import split_parts

logger = logging.getLogger(__name__)

UP, CONNECTING, DOWN = "up", "connecting", "down"


@dataclass
class SmppConfig:
    """One SMPP connector's settings, stored as JSON in the connectors table (`SmppConfig(**config)`).

    TON/NPI overrides apply to every message of the connector; left None, they follow the number:
    E.164 → 1/1, alphanumeric → 5/0, short code (≤ 8 digits) → 3/0.
    """

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    binds: int = 1
    window: int = 10  # outstanding submit_sm per bind
    mps: float | None = None  # submit_sm per second across the connector's binds
    tls: bool = False
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int | None = None
    dest_npi: int | None = None
    enquire_link_seconds: float = 30.0
    submit_timeout_seconds: float = 10.0  # also bounds connect + bind and enquire_link answers
    throttle_patience_seconds: float = 30.0  # keep resubmitting a throttled part this long, then retryable
    reconnect_min_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    tls_verify: bool = True  # False accepts a self-signed SMSC certificate

    def __post_init__(self) -> None:
        """Refuse what SMPP 3.4 cannot carry (field sizes include the NUL), so `connectors add` says so."""
        for value, label, limit in (
            (self.system_id, "system_id", 15),
            (self.password, "password", 8),
            (self.system_type, "system_type", 12),
        ):
            if not value.isascii() or len(value) > limit:
                raise ValueError(f"SMPP {label} must be ASCII, at most {limit} characters")
        if self.binds < 1 or self.window < 1:
            raise ValueError("binds and window must be at least 1")
        if self.mps is not None and self.mps <= 0:
            raise ValueError("mps must be positive")
        for name in ("source_ton", "source_npi", "dest_ton", "dest_npi"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 255:
                raise ValueError(f"{name} must be 0-255")
        if not 0 < self.port < 65536:
            raise ValueError("port must be 1-65535")


class BindRefused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"bind refused: {wire.status_name(status)}")


class LinkLost(Exception):
    """The connection went away; `sent` says whether the request had been written (a possible duplicate)."""

    def __init__(self, sent: bool, reason: str = "connection lost") -> None:
        self.sent = sent
        super().__init__(reason)


class _Refs:
    """8-bit concatenation references, none reused while a message holding it is still being submitted."""

    def __init__(self) -> None:
        self._next = random.randrange(256)
        self._used: set[int] = set()
        self._freed = asyncio.Event()

    async def acquire(self) -> int:
        while len(self._used) >= 256:
            self._freed.clear()
            await self._freed.wait()
        while self._next in self._used:
            self._next = (self._next + 1) % 256
        ref = self._next
        self._used.add(ref)
        self._next = (ref + 1) % 256
        return ref

    def release(self, ref: int) -> None:
        self._used.discard(ref)
        self._freed.set()


async def _read_pdu(reader: asyncio.StreamReader) -> tuple[wire.Header, bytes]:
    header = wire.parse_header(await reader.readexactly(wire.HEADER_LENGTH))
    body = await reader.readexactly(header.length - wire.HEADER_LENGTH) if header.length > wire.HEADER_LENGTH else b""
    return header, body


class _Bind:
    """One TCP connection and its bind_transceiver session, reconnecting for as long as the connector is open."""

    def __init__(self, connector: SmppConnector, index: int) -> None:
        self.connector = connector
        self.config = connector.config
        self.index = index
        self.state = DOWN
        self.last_error: str | None = None
        self.in_flight = 0  # submit_sm written, response awaited (at most `window`)
        self.waiting = 0  # submit_sm waiting for a window slot on this bind
        self.window = asyncio.Semaphore(max(1, self.config.window))
        self.generation = 0  # bumped per connection, so an ack owed on a dead connection is dropped
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[tuple[wire.Header, bytes]]] = {}
        self._seq = 0
        self.task: asyncio.Task | None = None
        self.bind_attempts = 0

    def _log_extra(self, action: str, **more: object) -> dict:
        return {"action": action, "connector": self.connector.name, "bind": self.index, **more}

    def _next_seq(self) -> int:
        self._seq = self._seq % 0x7FFFFFFF + 1
        return self._seq

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        failures = 0
        while not self.connector.closing:
            if self.state != DOWN:
                self.connector.set_bind_state(self, CONNECTING, self.last_error)
            try:
                reader = await self._connect_and_bind()
            except asyncio.CancelledError:
                raise
            except BindRefused as exc:
                error = str(exc)
                logger.error("SMPP bind refused", extra=self._log_extra("smpp_bind_refused", status=error))
            except (OSError, TimeoutError, EOFError, asyncio.IncompleteReadError, wire.PduError) as exc:
                error = f"connect/bind failed: {type(exc).__name__}: {exc}".rstrip(": ")
                logger.warning("SMPP connect failed", extra=self._log_extra("smpp_connect_failed", error=error))
            except Exception as exc:  # a bug must not end the bind task silently: log, stay down, retry
                error = f"connect/bind failed: {type(exc).__name__}"
                logger.exception("SMPP bind error", extra=self._log_extra("smpp_bind_error", error=error))
            else:
                failures = 0
                self.connector.set_bind_state(self, UP, None)
                logger.info("SMPP bound", extra=self._log_extra("smpp_bound"))
                error = await self._serve(reader)
                self._teardown(error)
                if self.connector.closing:
                    break
                logger.warning("SMPP connection lost", extra=self._log_extra("smpp_link_lost", error=error))
                self.connector.set_bind_state(self, CONNECTING, error)
                await self._backoff(failures)
                failures += 1
                continue
            self._teardown(error)
            self.connector.set_bind_state(self, DOWN, error)
            await self._backoff(failures)
            failures += 1

    async def _backoff(self, failures: int) -> None:
        """Exponential, with jitter over the upper half: 1, 2, 4 … 60 s by default, never a tight loop."""
        ceiling = min(self.config.reconnect_max_seconds, self.config.reconnect_min_seconds * 2**failures)
        await self.connector.clock.sleep(random.uniform(ceiling / 2, ceiling))

    async def _connect_and_bind(self) -> asyncio.StreamReader:
        timeout = self.config.submit_timeout_seconds
        context = None
        if self.config.tls:
            context = ssl.create_default_context()
            if not self.config.tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self.bind_attempts += 1
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.config.host, self.config.port, ssl=context), timeout
        )
        self._writer = writer
        seq = self._next_seq()
        body = wire.bind_transceiver_body(self.config.system_id, self.config.password, self.config.system_type)
        writer.write(wire.pdu(wire.BIND_TRANSCEIVER, seq, body))
        await writer.drain()
        while True:
            header, _body = await asyncio.wait_for(_read_pdu(reader), timeout)
            if header.command_id == wire.BIND_TRANSCEIVER_RESP or header.command_id == wire.GENERIC_NACK:
                break
            if header.command_id == wire.ENQUIRE_LINK:  # some SMSCs probe before answering the bind
                writer.write(wire.pdu(wire.ENQUIRE_LINK_RESP, header.sequence))
        if header.status != wire.ESME_ROK or header.command_id == wire.GENERIC_NACK:
            # the body (system_id) is optional on a refusal and often absent: only the header is read
            raise BindRefused(header.status if header.status else wire.ESME_RINVCMDID)
        self.generation += 1
        return reader

    async def _serve(self, reader: asyncio.StreamReader) -> str:
        """Read PDUs until the connection fails; return why. enquire_link runs beside it."""
        keeper = asyncio.create_task(self._keep_alive(), name=f"smpp-{self.connector.name}-{self.index}-keepalive")
        try:
            while True:
                header, body = await _read_pdu(reader)
                if header.is_response:
                    future = self._pending.pop(header.sequence, None)
                    if future is not None and not future.done():
                        future.set_result((header, body))
                elif header.command_id == wire.DELIVER_SM:
                    self.connector.on_deliver_sm(self, header.sequence, body)
                elif header.command_id == wire.ENQUIRE_LINK:
                    self.write(wire.pdu(wire.ENQUIRE_LINK_RESP, header.sequence))
                elif header.command_id == wire.UNBIND:
                    self.write(wire.pdu(wire.UNBIND_RESP, header.sequence))
                    return "the SMSC unbound"
                else:
                    self.write(wire.pdu(wire.GENERIC_NACK, header.sequence, status=wire.ESME_RINVCMDID))
        except asyncio.CancelledError:
            raise
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            return f"connection lost: {type(exc).__name__}"
        except wire.PduError as exc:
            return f"bad PDU from the SMSC: {exc}"
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keeper

    async def _keep_alive(self) -> None:
        while True:
            await self.connector.clock.sleep(self.config.enquire_link_seconds)
            try:
                await self.request(wire.ENQUIRE_LINK, b"", self.config.submit_timeout_seconds)
            except (TimeoutError, LinkLost):
                logger.warning("enquire_link unanswered", extra=self._log_extra("smpp_enquire_link_timeout"))
                if self._writer is not None:
                    self._writer.close()  # the reader sees EOF and the bind reconnects
                return

    def _teardown(self, error: str) -> None:
        self.generation += 1
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(LinkLost(sent=True, reason=error))

    async def unbind(self) -> None:
        if self.state == UP and self._writer is not None:
            with contextlib.suppress(Exception):
                await self.request(wire.UNBIND, b"", 2.0)

    # -- requests --------------------------------------------------------------------------------

    def write(self, data: bytes) -> bool:
        if self._writer is None or self._writer.is_closing():
            return False
        self._writer.write(data)
        return True

    def respond(self, generation: int, command_id: int, sequence: int, status: int, body: bytes = b"") -> bool:
        """Answer a request from the SMSC, unless the connection it came on is gone (then it redelivers)."""
        if generation != self.generation:
            return False
        return self.write(wire.pdu(command_id, sequence, body, status))

    async def request(self, command_id: int, body: bytes, timeout: float) -> tuple[wire.Header, bytes]:
        if self.state != UP or self._writer is None or self._writer.is_closing():
            raise LinkLost(sent=False, reason=f"bind {self.index} is {self.state}")
        seq = self._next_seq()
        future: asyncio.Future[tuple[wire.Header, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[seq] = future
        self._writer.write(wire.pdu(command_id, seq, body))
        try:
            await self._writer.drain()
            return await asyncio.wait_for(future, timeout)
        except (OSError, ConnectionError) as exc:
            raise LinkLost(sent=True, reason=str(exc)) from exc
        finally:
            self._pending.pop(seq, None)


@dataclass(frozen=True, slots=True)
class _Unanswered:
    detail: str


@dataclass
class _Delivery:
    bind: _Bind
    generation: int
    sequence: int
    item: CarrierReceipt | CarrierInbound
    mo_key: tuple[str, str, int] | None = None


class SmppConnector:
    """An SMPP 3.4 link (see the module docstring). Usage:

    connector = SmppConnector("smsc-eu", SmppConfig(host=..., port=2775, system_id=..., password=...), clock)
    await connector.open(sinks); results = await connector.submit(submissions); await connector.close()
    """

    type = "smpp"
    carries = frozenset({"SMS"})  # MMS and WhatsApp need another connector of the route

    def __init__(
        self,
        name: str,
        config: SmppConfig,
        clock: Clock,
        shared_pace: Callable[[str, float], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.clock = clock
        # paces `mps` across every worker process (services/pacing.py); without it, this process alone
        self._shared_pace = shared_pace
        self.closing = False
        self.possible_duplicates = 0  # submit_sm sent but unanswered (timeout or link lost): may be delivered twice
        self.submitted_parts = 0  # submit_sm answered OK since the connector was built (for a sent/s figure)
        self._binds = [_Bind(self, i) for i in range(max(1, config.binds))]
        self._state = DOWN
        self._since_us = clock.now_us()
        self._last_error: str | None = None
        self._sinks: Sinks | None = None
        self._refs = _Refs()
        self._mo = wire.MoAssembler()
        self._receipts: asyncio.Queue[_Delivery] = asyncio.Queue()
        self._inbound: asyncio.Queue[_Delivery] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._next_slot = 0.0  # mps pacing, in loop time

    # -- Connector protocol ---------------------------------------------------------------------

    async def open(self, sinks: Sinks) -> None:
        self._sinks = sinks
        self.closing = False
        for bind in self._binds:
            bind.state = CONNECTING
            bind.task = asyncio.create_task(bind.run(), name=f"smpp-{self.name}-{bind.index}")
            self._tasks.append(bind.task)
        self._recompute_state()
        self._tasks.append(asyncio.create_task(self._drain(self._receipts, "receipts"), name=f"smpp-{self.name}-dlr"))
        self._tasks.append(asyncio.create_task(self._drain(self._inbound, "inbound"), name=f"smpp-{self.name}-mo"))
        logger.info(
            "SMPP connector opening",
            extra={"action": "smpp_open", "connector": self.name, "host": self.config.host, "port": self.config.port},
        )

    def link_state(self) -> LinkState:
        return LinkState(self._state, self._since_us, self._last_error, sum(b.in_flight for b in self._binds))

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        return list(await asyncio.gather(*(self._submit_one(sub) for sub in submissions)))

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        """Nothing to re-arm: the SMSC keeps owed receipts and delivers them on the next bind."""

    async def close(self) -> None:
        self.closing = True
        await asyncio.gather(*(bind.unbind() for bind in self._binds))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for bind in self._binds:
            bind._teardown("connector closed")
            bind.state = DOWN
        self._recompute_state()
        logger.info(
            "SMPP connector closed",
            extra={"action": "smpp_close", "connector": self.name, "possible_duplicates": self.possible_duplicates},
        )

    # -- state ----------------------------------------------------------------------------------

    @property
    def bind_attempts(self) -> int:
        return sum(b.bind_attempts for b in self._binds)

    def set_bind_state(self, bind: _Bind, state: str, error: str | None) -> None:
        bind.state = state
        bind.last_error = error
        if error is not None:
            self._last_error = error
        self._recompute_state()

    def _recompute_state(self) -> None:
        states = {b.state for b in self._binds}
        state = UP if UP in states else CONNECTING if CONNECTING in states else DOWN
        if state != self._state:
            self._state = state
            self._since_us = self.clock.now_us()
            if state == UP:
                self._last_error = None

    # -- submitting -----------------------------------------------------------------------------

    def _pick_bind(self) -> _Bind | None:
        up = [b for b in self._binds if b.state == UP]
        return min(up, key=lambda b: b.in_flight + b.waiting) if up else None

    async def _pace(self) -> None:
        if not self.config.mps:
            return
        if self._shared_pace is not None:
            try:
                await self._shared_pace(f"connector:{self.name}", self.config.mps)
                return
            except Exception:  # the database is unreachable: pace this process alone meanwhile
                logger.warning(
                    "shared pacing unavailable: pacing this process alone",
                    extra={"action": "smpp_pace", "connector": self.name},
                    exc_info=True,
                )
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.config.mps
        if slot > now:
            await asyncio.sleep(slot - now)

    def _retryable(self, sub: Submission, detail: str) -> SubmitResult:
        return SubmitResult(sub.message_id, accepted=False, retryable=True, error_detail=detail)

    async def _submit_one(self, sub: Submission) -> SubmitResult:
        if sub.message_type != "SMS":  # a route may fail over to a connector that carries it
            return self._retryable(sub, f"SMPP connector {self.name} carries SMS only, not {sub.message_type}")
        if self._pick_bind() is None:
            return self._retryable(sub, f"SMPP connector {self.name} is {self._state}")
        try:
            texts = split_parts(sub.text or "", sub.encoding)
            payloads = [wire.encode_part(text, sub.encoding) for text in texts]
        except ValueError as exc:
            return SubmitResult(sub.message_id, accepted=False, error_code="40009", error_detail=str(exc))
        if len(texts) != sub.parts:
            logger.warning(
                "part count differs from the message's",
                extra={"action": "smpp_parts_mismatch", "message_id": sub.message_id, "parts": len(texts)},
            )
        cfg = self.config
        source = wire.address_for(sub.from_number, cfg.source_ton, cfg.source_npi)
        dest = wire.address_for(sub.to_number, cfg.dest_ton, cfg.dest_npi)
        ref = await self._refs.acquire() if len(texts) > 1 else None
        try:
            ids: list[str] = []
            for index, (payload, data_coding) in enumerate(payloads):
                esm_class = 0
                if ref is not None:
                    payload = wire.build_udh(ref, len(payloads), index + 1) + payload
                    esm_class = wire.ESM_UDHI
                try:
                    body = wire.submit_sm_body(source, dest, payload, data_coding=data_coding, esm_class=esm_class)
                except ValueError as exc:  # an address too long or not ASCII
                    code = "40013" if not _fits(source) else "40012"
                    return SubmitResult(sub.message_id, accepted=False, error_code=code, error_detail=str(exc))
                outcome = await self._submit_part(sub, body, index, len(payloads))
                if isinstance(outcome, SubmitResult):
                    if ids and outcome.retryable:  # a resubmission sends the accepted parts again
                        return self._possible_duplicate(
                            sub, f"{outcome.error_detail}; {len(ids)} part(s) already taken"
                        )
                    return outcome
                if isinstance(outcome, _Unanswered):
                    return self._possible_duplicate(sub, outcome.detail)
                ids.append(outcome)
        finally:
            if ref is not None:
                self._refs.release(ref)
        return SubmitResult(sub.message_id, accepted=True, carrier_message_id=ids[0], carrier_part_ids=tuple(ids))

    async def _submit_part(
        self, sub: Submission, body: bytes, index: int, total: int
    ) -> str | SubmitResult | _Unanswered:
        """One part's submit_sm until it is answered: its message_id, the SubmitResult that ends the
        message, or _Unanswered when it went out but no answer came (it may still be delivered)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.throttle_patience_seconds
        pause = 0.2
        part = f"part {index + 1}/{total}"
        while True:
            bind = self._pick_bind()
            if bind is None:
                return self._retryable(sub, f"SMPP connector {self.name} is {self._state} ({part} not sent)")
            bind.waiting += 1
            try:
                await self._pace()
                await bind.window.acquire()
            finally:
                bind.waiting -= 1
            bind.in_flight += 1
            try:
                header, resp = await bind.request(wire.SUBMIT_SM, body, self.config.submit_timeout_seconds)
            except LinkLost as exc:
                if exc.sent:
                    return _Unanswered(f"link lost before submit_sm_resp ({part}): {exc}")
                header = None  # never left: another bind (or the next check) takes it
            except TimeoutError:
                return _Unanswered(f"no submit_sm_resp within {self.config.submit_timeout_seconds:g}s ({part})")
            finally:
                bind.in_flight -= 1
                bind.window.release()
            if header is None:
                await asyncio.sleep(0.05)
                continue
            status = header.status
            if status == wire.ESME_ROK:
                self.submitted_parts += 1
                return wire.parse_c_octet_body(resp)
            if status in wire.THROTTLE_STATUSES:
                if loop.time() + pause > deadline:
                    return self._retryable(
                        sub,
                        f"SMSC still throttling after {self.config.throttle_patience_seconds:g}s: "
                        + wire.status_name(status),
                    )
                logger.info(
                    "SMSC throttling, backing off",
                    extra={"action": "smpp_throttled", "connector": self.name, "status": wire.status_name(status)},
                )
                await self.clock.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            if status in wire.LINK_STATUSES:
                return self._retryable(sub, f"SMSC answered {wire.status_name(status)} ({part})")
            detail = f"SMSC refused submit_sm ({part}): {wire.status_name(status)}"
            logger.info(
                "submit_sm refused",
                extra={
                    "action": "smpp_submit_refused",
                    "connector": self.name,
                    "message_id": sub.message_id,
                    "status": detail,
                },
            )
            return SubmitResult(
                sub.message_id, accepted=False, error_code=wire.submit_error_code(status), error_detail=detail
            )

    def _possible_duplicate(self, sub: Submission, detail: str) -> SubmitResult:
        self.possible_duplicates += 1
        logger.warning(
            "submit_sm unanswered: resubmitting may deliver it twice",
            extra={
                "action": "smpp_possible_duplicate",
                "connector": self.name,
                "message_id": sub.message_id,
                "detail": detail,
                "possible_duplicates": self.possible_duplicates,
            },
        )
        return self._retryable(sub, detail)

    # -- receiving ------------------------------------------------------------------------------

    def on_deliver_sm(self, bind: _Bind, sequence: int, body: bytes) -> None:
        """Queue a deliver_sm for its sink; it is answered once the sink has committed it."""
        generation = bind.generation
        try:
            deliver = wire.parse_deliver_sm(body)
        except wire.PduError as exc:
            logger.error(
                "unparseable deliver_sm",
                extra={"action": "smpp_bad_deliver_sm", "connector": self.name, "error": str(exc)},
            )
            bind.respond(generation, wire.DELIVER_SM_RESP, sequence, 0x65, b"\x00")  # ESME_RX_P_APPN: do not resend
            return
        now = self.clock.now_us()
        if deliver.is_receipt:
            receipt = wire.receipt_from(deliver)
            if receipt is None:
                logger.warning(
                    "receipt without a message id", extra={"action": "smpp_receipt_no_id", "connector": self.name}
                )
                bind.respond(generation, wire.DELIVER_SM_RESP, sequence, wire.ESME_ROK, b"\x00")
                return
            outcome = wire.receipt_outcome(receipt)
            item = CarrierReceipt(
                self.name, receipt.message_id, outcome.status, now, outcome.error_code, outcome.error_detail
            )
            self._receipts.put_nowait(_Delivery(bind, generation, sequence, item))
            return
        key, text = self._mo.add(wire.mo_part(deliver), now)
        if text is None:
            # a part of a longer MO: held in memory and acknowledged (see docs/decisions.md)
            bind.respond(generation, wire.DELIVER_SM_RESP, sequence, wire.ESME_ROK, b"\x00")
            return
        inbound = CarrierInbound(self.name, wire.number_from(deliver.source), wire.number_from(deliver.dest), text, now)
        self._inbound.put_nowait(_Delivery(bind, generation, sequence, inbound, key))

    async def _drain(self, queue: asyncio.Queue[_Delivery], kind: str) -> None:
        """Hand what arrived to the sink in batches; acknowledge each deliver_sm only after it returned."""
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < 500:
                batch.append(queue.get_nowait())
            assert self._sinks is not None
            sink = self._sinks.receipts if kind == "receipts" else self._sinks.inbound
            try:
                await sink([d.item for d in batch])  # type: ignore[misc]
                status = wire.ESME_ROK
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception(
                    "sink failed; deliver_sm not acknowledged, the SMSC will redeliver",
                    extra={"action": "smpp_sink_failed", "connector": self.name, "kind": kind, "count": len(batch)},
                )
                status = wire.ESME_RX_T_APPN
            for delivery in batch:
                delivery.bind.respond(delivery.generation, wire.DELIVER_SM_RESP, delivery.sequence, status, b"\x00")
                if status == wire.ESME_ROK:
                    self._mo.done(delivery.mo_key)


def _fits(address: wire.Address) -> bool:
    return address.addr.isascii() and len(address.addr) <= 20
