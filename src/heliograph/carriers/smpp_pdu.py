"""SMPP 3.4 on the wire, as pure functions: PDU framing, the few bodies an ESME needs, GSM-7, UDH,
delivery-receipt parsing, status names and their mapping to Telnyx 400xx codes, and MO reassembly.

Nothing here does I/O, so everything is unit-tested without a socket (tests/carriers/test_smpp_pdus.py).
Written by hand rather than taken from aiosmpplib: see docs/decisions.md, "SMPP connector".
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from heliograph.domain.encoding import GSM7, UCS2

# --------------------------------------------------------------------------------------------
# Commands and statuses (SMPP 3.4 §5.1.2, §5.1.3)
# --------------------------------------------------------------------------------------------

GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
RESPONSE_BIT = 0x80000000

HEADER_LENGTH = 16
MAX_PDU_LENGTH = 70_000  # a message_payload TLV holds up to 64 KB; anything larger is garbage

ESME_ROK = 0x00
ESME_RINVBNDSTS = 0x04
ESME_RSYSERR = 0x08
ESME_RINVCMDID = 0x03
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64

STATUS_NAMES: dict[int, str] = {
    0x00: "ESME_ROK",
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    0x04: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    0x06: "ESME_RINVPRTFLG",
    0x07: "ESME_RINVREGDLVFLG",
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0C: "ESME_RINVMSGID",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x11: "ESME_RCANCELFAIL",
    0x13: "ESME_RREPLACEFAIL",
    0x14: "ESME_RMSGQFUL",
    0x15: "ESME_RINVSERTYP",
    0x33: "ESME_RINVNUMDESTS",
    0x34: "ESME_RINVDLNAME",
    0x40: "ESME_RINVDESTFLAG",
    0x42: "ESME_RINVSUBREP",
    0x43: "ESME_RINVESMCLASS",
    0x44: "ESME_RCNTSUBDL",
    0x45: "ESME_RSUBMITFAIL",
    0x48: "ESME_RINVSRCTON",
    0x49: "ESME_RINVSRCNPI",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
    0x53: "ESME_RINVSYSTYP",
    0x54: "ESME_RINVREPFLAG",
    0x55: "ESME_RINVNUMMSGS",
    0x58: "ESME_RTHROTTLED",
    0x61: "ESME_RINVSCHED",
    0x62: "ESME_RINVEXPIRY",
    0x63: "ESME_RINVDFTMSGID",
    0x64: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
    0x67: "ESME_RQUERYFAIL",
    0xC0: "ESME_RINVOPTPARSTREAM",
    0xC1: "ESME_ROPTPARNOTALLWD",
    0xC2: "ESME_RINVPARLEN",
    0xC3: "ESME_RMISSINGOPTPARAM",
    0xC4: "ESME_RINVOPTPARAMVAL",
    0xFE: "ESME_RDELIVERYFAILURE",
    0xFF: "ESME_RUNKNOWNERR",
}

# Back off and resubmit: the SMSC is busy, not refusing the message.
THROTTLE_STATUSES = frozenset({ESME_RTHROTTLED, ESME_RMSGQFUL})
# The session, not the message, is at fault: another bind or connector may take it.
LINK_STATUSES = frozenset({ESME_RINVBNDSTS})

# submit_sm_resp refusals → the 400xx code the message ends with. Anything unlisted is 40008.
_SUBMIT_ERROR_CODES: dict[int, str] = {
    0x0A: "40013",  # ESME_RINVSRCADR
    0x48: "40013",  # ESME_RINVSRCTON
    0x49: "40013",  # ESME_RINVSRCNPI
    0x0B: "40012",  # ESME_RINVDSTADR
    0x50: "40012",  # ESME_RINVDSTTON
    0x51: "40012",  # ESME_RINVDSTNPI
    0x01: "40009",  # ESME_RINVMSGLEN
    0x43: "40009",  # ESME_RINVESMCLASS
    0x08: "40006",  # ESME_RSYSERR: the SMSC failed
    0x66: "40004",  # ESME_RX_R_APPN: rejected by the destination's application
    0x45: "40004",  # ESME_RSUBMITFAIL
}


def status_name(status: int) -> str:
    """'ESME_RINVDSTADR (0x0B)': the name operators search for, and the number vendors document.

    >>> status_name(0x0B)
    'ESME_RINVDSTADR (0x0B)'
    >>> status_name(0x401)
    'vendor status (0x00000401)'
    """
    name = STATUS_NAMES.get(status)
    if name is None:
        return f"vendor status (0x{status:08X})"
    return f"{name} (0x{status:02X})"


def submit_error_code(status: int) -> str:
    """The 400xx code a message refused with this submit_sm_resp status ends with."""
    return _SUBMIT_ERROR_CODES.get(status, "40008")


# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    length: int
    command_id: int
    status: int
    sequence: int

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


class PduError(ValueError):
    """Bytes that are not a PDU; the connection cannot be trusted any more."""


def parse_header(data: bytes) -> Header:
    """Read a 16-byte header. Unknown commands and vendor statuses are kept as numbers, not refused."""
    length, command_id, status, sequence = struct.unpack("!IIII", data[:HEADER_LENGTH])
    if length < HEADER_LENGTH or length > MAX_PDU_LENGTH:
        raise PduError(f"impossible command_length {length}")
    return Header(length, command_id, status, sequence)


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return struct.pack("!IIII", HEADER_LENGTH + len(body), command_id, status, sequence) + body


def _cstr(value: str, limit: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) >= limit:
        raise ValueError(f"{value!r} is longer than {limit - 1} characters")
    return raw + b"\x00"


def _read_cstr(body: bytes, offset: int) -> tuple[str, int]:
    end = body.index(b"\x00", offset)
    return body[offset:end].decode("latin-1"), end + 1


def bind_transceiver_body(system_id: str, password: str, system_type: str = "") -> bytes:
    """interface_version 0x34; addr_ton/npi 0 and an empty address_range: the SMSC routes MOs by account."""
    return _cstr(system_id, 16) + _cstr(password, 9) + _cstr(system_type, 13) + bytes([0x34, 0, 0]) + b"\x00"


def parse_c_octet_body(body: bytes) -> str:
    """The one C-octet string that bind_*_resp (system_id) and submit_sm_resp (message_id) carry.

    A refusal may come as a bare header with no body at all (many SMSCs do that): that is ''.
    """
    if not body:
        return ""
    end = body.find(b"\x00")
    return body[: end if end >= 0 else len(body)].decode("latin-1")


@dataclass(frozen=True, slots=True)
class Address:
    ton: int
    npi: int
    addr: str


def submit_sm_body(
    source: Address,
    dest: Address,
    short_message: bytes,
    *,
    data_coding: int,
    esm_class: int = 0,
    registered_delivery: int = 1,
) -> bytes:
    if len(short_message) > 254:
        raise ValueError("short_message holds at most 254 octets")
    return (
        b"\x00"  # service_type: SMSC default
        + bytes([source.ton, source.npi])
        + _cstr(source.addr, 21)
        + bytes([dest.ton, dest.npi])
        + _cstr(dest.addr, 21)
        + bytes([esm_class, 0, 0])  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period: immediately, SMSC default
        + bytes([registered_delivery, 0, data_coding, 0, len(short_message)])
        + short_message
    )


# TLV tags used here (SMPP 3.4 §5.3.2)
TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_MESSAGE_STATE = 0x0427
TAG_NETWORK_ERROR_CODE = 0x0423
TAG_SAR_MSG_REF_NUM = 0x020C
TAG_SAR_TOTAL_SEGMENTS = 0x020E
TAG_SAR_SEGMENT_SEQNUM = 0x020F
TAG_MESSAGE_PAYLOAD = 0x0424

ESM_UDHI = 0x40


@dataclass(frozen=True, slots=True)
class DeliverSm:
    source: Address
    dest: Address
    esm_class: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @property
    def is_receipt(self) -> bool:
        """esm_class bits 2-5 = 0001: SMSC delivery receipt (0010 / 0100 are SME / intermediate acks)."""
        return (self.esm_class & 0x3C) in (0x04, 0x08, 0x20)

    @property
    def payload(self) -> bytes:
        """short_message, or the message_payload TLV when short_message is empty."""
        return self.short_message or self.tlvs.get(TAG_MESSAGE_PAYLOAD, b"")


def parse_deliver_sm(body: bytes) -> DeliverSm:
    """Parse a deliver_sm body. Raises PduError if it is truncated or malformed."""
    try:
        _service_type, i = _read_cstr(body, 0)
        s_ton, s_npi = body[i], body[i + 1]
        s_addr, i = _read_cstr(body, i + 2)
        d_ton, d_npi = body[i], body[i + 1]
        d_addr, i = _read_cstr(body, i + 2)
        esm_class = body[i]
        i += 3  # esm_class, protocol_id, priority_flag
        _, i = _read_cstr(body, i)  # schedule_delivery_time
        _, i = _read_cstr(body, i)  # validity_period
        i += 2  # registered_delivery, replace_if_present_flag
        data_coding = body[i]
        sm_length = body[i + 2]
        i += 3
        short_message = body[i : i + sm_length]
        if len(short_message) != sm_length:
            raise PduError("short_message truncated")
        i += sm_length
        tlvs: dict[int, bytes] = {}
        while i + 4 <= len(body):
            tag, length = struct.unpack_from("!HH", body, i)
            tlvs[tag] = body[i + 4 : i + 4 + length]
            i += 4 + length
    except (IndexError, ValueError, struct.error) as exc:
        raise PduError(f"malformed deliver_sm: {exc}") from exc
    return DeliverSm(
        Address(s_ton, s_npi, s_addr), Address(d_ton, d_npi, d_addr), esm_class, data_coding, short_message, tlvs
    )


def tlv_int(value: bytes) -> int:
    return int.from_bytes(value, "big") if value else 0


def tlv_cstr(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("latin-1")


# --------------------------------------------------------------------------------------------
# GSM 03.38 default alphabet, one septet per octet ("unpacked", as SMPP carries data_coding 0)
# --------------------------------------------------------------------------------------------

ESC = 0x1B
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
assert len(_GSM_BASIC) == 128
_GSM_ENCODE: dict[str, bytes] = {c: bytes([i]) for i, c in enumerate(_GSM_BASIC) if i != ESC}
_GSM_ENCODE.update({c: bytes([ESC, i]) for i, c in _GSM_EXTENSION.items()})


def gsm7_encode(text: str) -> bytes:
    """Text → GSM 03.38 septets, one per octet; extension characters become ESC + code.

    >>> gsm7_encode("a€").hex()
    '611b65'
    """
    try:
        return b"".join(_GSM_ENCODE[c] for c in text)
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the GSM 03.38 alphabet") from None


def gsm7_decode(data: bytes) -> str:
    """GSM 03.38 septets (one per octet) → text. Unknown escapes decode as the base character,
    as 03.38 asks; a trailing lone ESC is dropped."""
    out: list[str] = []
    escaped = False
    for octet in data:
        octet &= 0x7F
        if escaped:
            out.append(_GSM_EXTENSION.get(octet, _GSM_BASIC[octet] if octet != ESC else " "))
            escaped = False
        elif octet == ESC:
            escaped = True
        else:
            out.append(_GSM_BASIC[octet])
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """Decode a short message by data_coding: 0 GSM 03.38, 1 IA5/ASCII, 3 Latin-1, 8 UCS-2 (UTF-16BE).

    Other codings (binary, Cyrillic, JIS…) are rare on MO traffic: decoded as Latin-1 so nothing is
    thrown away, and the caller logs the coding.
    """
    if data_coding == 0 or data_coding & 0xF4 == 0xF0:  # also 0xF0-0xF3: GSM 7-bit with a message class
        return gsm7_decode(data)
    if data_coding == 1:
        return data.decode("ascii", "replace")
    if data_coding == 8 or data_coding & 0xFC == 0x18:
        return data[: len(data) - len(data) % 2].decode("utf-16-be", "replace")
    return data.decode("latin-1")


def encode_part(text: str, encoding: str) -> tuple[bytes, int]:
    """One part's payload and its data_coding: GSM-7 → 0 (SMSC default alphabet), UCS-2 → 8."""
    if encoding == GSM7:
        return gsm7_encode(text), 0
    if encoding == UCS2:
        return text.encode("utf-16-be", "surrogatepass"), 8
    raise ValueError(f"encoding must be {GSM7!r} or {UCS2!r}, not {encoding!r}")


# --------------------------------------------------------------------------------------------
# User data header: concatenation
# --------------------------------------------------------------------------------------------


def build_udh(ref: int, total: int, seq: int) -> bytes:
    """The 6-octet concatenation UDH with an 8-bit reference (IE 0x00): the size that
    `domain.encoding.PART_LIMITS` reserves (153 septets / 67 UCS-2 units per part).

    >>> build_udh(7, 3, 1).hex()
    '050003070301'
    """
    if not (0 <= ref <= 255 and 1 <= seq <= total <= 255):
        raise ValueError("UDH reference 0-255, 1 <= seq <= total <= 255")
    return bytes([5, 0x00, 3, ref, total, seq])


@dataclass(frozen=True, slots=True)
class Concat:
    ref: int
    total: int
    seq: int


def split_udh(short_message: bytes) -> tuple[Concat | None, bytes]:
    """Split a UDHI short message into its concatenation info (IE 0x00 8-bit or 0x08 16-bit ref)
    and the payload after the header. Other IEs are skipped."""
    if not short_message:
        return None, short_message
    udhl = short_message[0]
    header, payload = short_message[1 : 1 + udhl], short_message[1 + udhl :]
    concat = None
    i = 0
    while i + 2 <= len(header):
        iei, length = header[i], header[i + 1]
        data = header[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3 and len(data) == 3:
            concat = Concat(data[0], data[1], data[2])
        elif iei == 0x08 and length == 4 and len(data) == 4:
            concat = Concat(int.from_bytes(data[:2], "big"), data[2], data[3])
        i += 2 + length
    return concat, payload


def sar_concat(tlvs: dict[int, bytes]) -> Concat | None:
    """Concatenation info from the SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)."""
    if TAG_SAR_MSG_REF_NUM in tlvs and TAG_SAR_TOTAL_SEGMENTS in tlvs and TAG_SAR_SEGMENT_SEQNUM in tlvs:
        return Concat(
            tlv_int(tlvs[TAG_SAR_MSG_REF_NUM]),
            tlv_int(tlvs[TAG_SAR_TOTAL_SEGMENTS]),
            tlv_int(tlvs[TAG_SAR_SEGMENT_SEQNUM]),
        )
    return None


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------

TON_UNKNOWN, TON_INTERNATIONAL, TON_NATIONAL, TON_NETWORK, TON_SUBSCRIBER, TON_ALPHANUMERIC = 0, 1, 2, 3, 4, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1


def address_for(number: str, ton: int | None = None, npi: int | None = None) -> Address:
    """How a Heliograph number goes in submit_sm: E.164 → 1/1 digits without '+'; alphanumeric → 5/0;
    a short code (digits, at most 8) → 3/0 (network-specific); `ton`/`npi` override per connector.

    >>> address_for("+13125550100")
    Address(ton=1, npi=1, addr='13125550100')
    >>> address_for("ACME")
    Address(ton=5, npi=0, addr='ACME')
    """
    if number.startswith("+"):
        default, addr = (TON_INTERNATIONAL, NPI_ISDN), number[1:]
    elif number.isdigit() and len(number) <= 8:
        default, addr = (TON_NETWORK, NPI_UNKNOWN), number
    elif number.isdigit():
        default, addr = (TON_INTERNATIONAL, NPI_ISDN), number
    else:
        default, addr = (TON_ALPHANUMERIC, NPI_UNKNOWN), number
    return Address(default[0] if ton is None else ton, default[1] if npi is None else npi, addr)


def number_from(address: Address) -> str:
    """An MO address as Heliograph stores it: '+' and digits when the TON says international or the
    digits are long enough to be one (10+); short codes and alphanumerics as they came."""
    addr = address.addr.strip()
    digits = addr.lstrip("+")
    if digits.isdigit() and (address.ton == TON_INTERNATIONAL or addr.startswith("+") or len(digits) >= 10):
        return "+" + digits
    return addr


# --------------------------------------------------------------------------------------------
# Delivery receipts
# --------------------------------------------------------------------------------------------

# message_state TLV values (SMPP 3.4 §5.2.28) → the receipt text's `stat` word.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

_RECEIPT_FIELD = re.compile(r"\b(id|sub|dlvrd|submit date|done date|stat|err|text)\s*:", re.IGNORECASE)


def parse_receipt_text(text: str) -> dict[str, str]:
    """The SMPP 3.4 Appendix B receipt text as a dict (keys lower-case; `text` is the rest of the line).

    >>> parse_receipt_text("id:7F sub:001 dlvrd:001 submit date:2401011200 stat:UNDELIV err:001 text:hi")["stat"]
    'UNDELIV'
    """
    fields: dict[str, str] = {}
    matches = list(_RECEIPT_FIELD.finditer(text))
    for n, match in enumerate(matches):
        key = match[1].lower()
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        value = text[match.end() : end]
        fields.setdefault(key, value if key == "text" else value.strip())
        if key == "text":
            break
    return fields


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    stat: str  # DELIVRD, UNDELIV, ... (upper case)
    err: str | None


def receipt_from(deliver: DeliverSm) -> Receipt | None:
    """A receipt's carrier id and state, from the TLVs when present (they win) else from the text.
    None when neither names a message id."""
    fields = parse_receipt_text(decode_text(deliver.payload, deliver.data_coding))
    message_id = fields.get("id", "")
    stat = fields.get("stat", "").upper()
    err = fields.get("err") or None
    if TAG_RECEIPTED_MESSAGE_ID in deliver.tlvs:
        message_id = tlv_cstr(deliver.tlvs[TAG_RECEIPTED_MESSAGE_ID]) or message_id
    if TAG_MESSAGE_STATE in deliver.tlvs:
        stat = MESSAGE_STATES.get(tlv_int(deliver.tlvs[TAG_MESSAGE_STATE]), stat or "UNKNOWN")
    if TAG_NETWORK_ERROR_CODE in deliver.tlvs and err is None:
        err = deliver.tlvs[TAG_NETWORK_ERROR_CODE].hex()
    if not message_id:
        return None
    return Receipt(message_id, stat or "UNKNOWN", err)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # delivered | delivery_failed | expired | delivery_unconfirmed | sent
    error_code: str | None = None
    error_detail: str | None = None


def receipt_outcome(receipt: Receipt) -> Outcome:
    """What a receipt state means for the message part (docs/decisions.md, "SMPP connector").

    DELIVRD → delivered; UNDELIV → delivery_failed 40008; REJECTD → delivery_failed 40004;
    DELETED → delivery_failed 40008; EXPIRED → expired 40005; ACCEPTD / ENROUTE → sent (intermediate);
    UNKNOWN and anything unrecognised → delivery_unconfirmed.
    """
    detail = f"SMSC receipt stat:{receipt.stat}" + (f" err:{receipt.err}" if receipt.err else "")
    match receipt.stat:
        case "DELIVRD":
            return Outcome("delivered")
        case "UNDELIV" | "DELETED":
            return Outcome("delivery_failed", "40008", detail)
        case "REJECTD":
            return Outcome("delivery_failed", "40004", detail)
        case "EXPIRED":
            return Outcome("expired", "40005", detail)
        case "ACCEPTD" | "ENROUTE":
            return Outcome("sent")
        case _:
            return Outcome("delivery_unconfirmed", None, detail)


# --------------------------------------------------------------------------------------------
# MO reassembly
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoPart:
    """One deliver_sm that is not a receipt, reduced to what reassembly needs."""

    source: Address
    dest: Address
    data_coding: int
    concat: Concat | None
    payload: bytes  # after any UDH


def mo_part(deliver: DeliverSm) -> MoPart:
    """UDH (esm_class UDHI) wins over SAR TLVs; neither means a single-part message."""
    payload = deliver.payload
    concat = None
    if deliver.esm_class & ESM_UDHI:
        concat, payload = split_udh(payload)
    if concat is None:
        concat = sar_concat(deliver.tlvs)
    if concat is not None and concat.total <= 1:
        concat = None
    return MoPart(deliver.source, deliver.dest, deliver.data_coding, concat, payload)


@dataclass
class _Pending:
    total: int
    data_coding: int
    first_seen_us: int
    parts: dict[int, bytes] = field(default_factory=dict)


class MoAssembler:
    """Collects concatenated MO parts keyed by (source, dest, ref) until all have arrived, in any order.

    Payload bytes are joined before decoding, so a UCS-2 surrogate pair split across parts survives.
    A message is forgotten only when `done(key)` is called (after the sink committed it), so a failed
    commit can be retried when the SMSC redelivers the last part. Incomplete ones expire after `ttl_us`.
    """

    def __init__(self, ttl_us: int = 600_000_000) -> None:
        self._ttl_us = ttl_us
        self._pending: dict[tuple[str, str, int], _Pending] = {}

    def add(self, part: MoPart, now_us: int) -> tuple[tuple[str, str, int] | None, str | None]:
        """Record a part; return (key, text) when the message is complete, else (key, None).
        A single-part message comes back at once with key None."""
        self._expire(now_us)
        if part.concat is None:
            return None, decode_text(part.payload, part.data_coding)
        key = (part.source.addr, part.dest.addr, part.concat.ref)
        pending = self._pending.get(key)
        if pending is None or pending.total != part.concat.total:
            pending = self._pending[key] = _Pending(part.concat.total, part.data_coding, now_us)
        pending.parts[part.concat.seq] = part.payload
        if len(pending.parts) < pending.total or any(seq not in pending.parts for seq in range(1, pending.total + 1)):
            return key, None
        joined = b"".join(pending.parts[seq] for seq in range(1, pending.total + 1))
        return key, decode_text(joined, pending.data_coding)

    def done(self, key: tuple[str, str, int] | None) -> None:
        if key is not None:
            self._pending.pop(key, None)

    def __len__(self) -> int:
        return len(self._pending)

    def _expire(self, now_us: int) -> None:
        stale = [k for k, p in self._pending.items() if now_us - p.first_seen_us > self._ttl_us]
        for key in stale:
            del self._pending[key]
