"""The SMPP wire helpers, without a socket: what goes in submit_sm, and what a deliver_sm means."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliograph.carriers import smpp_pdu as wire
from heliograph.domain.encoding import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, encode_text, split_parts

# --------------------------------------------------------------------------------------------
# Building deliver_sm bodies the way an SMSC does (independent of the parser under test)
# --------------------------------------------------------------------------------------------


def _cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def deliver_sm(
    short_message: bytes,
    *,
    esm_class: int = 0,
    data_coding: int = 0,
    source: tuple[int, int, str] = (1, 1, "447700900001"),
    dest: tuple[int, int, str] = (1, 1, "13125550100"),
    tlvs: dict[int, bytes] | None = None,
) -> bytes:
    body = (
        _cstr("")
        + bytes(source[:2])
        + _cstr(source[2])
        + bytes(dest[:2])
        + _cstr(dest[2])
        + bytes([esm_class, 0, 0])
        + _cstr("")
        + _cstr("")
        + bytes([0, 0, data_coding, 0, len(short_message)])
        + short_message
    )
    for tag, value in (tlvs or {}).items():
        body += struct.pack("!HH", tag, len(value)) + value
    return body


RECEIPT_TEXT = (
    "id:1a2b3c00 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:{stat} err:{err} text:Hello world"
)


def receipt_body(stat: str = "DELIVRD", err: str = "000", msg_id: str = "1a2b3c00", tlvs: dict | None = None) -> bytes:
    text = RECEIPT_TEXT.format(stat=stat, err=err).replace("1a2b3c00", msg_id).encode("ascii")
    return deliver_sm(text, esm_class=0x04, tlvs=tlvs)


# --------------------------------------------------------------------------------------------
# Status names and mapping
# --------------------------------------------------------------------------------------------


def test_status_names_carry_name_and_number() -> None:
    assert wire.status_name(0x0B) == "ESME_RINVDSTADR (0x0B)"
    assert wire.status_name(0x0D) == "ESME_RBINDFAIL (0x0D)"
    assert wire.status_name(0x58) == "ESME_RTHROTTLED (0x58)"
    assert wire.status_name(0x401) == "vendor status (0x00000401)"


def test_submit_refusals_map_to_telnyx_codes() -> None:
    assert wire.submit_error_code(0x0B) == "40012"  # bad destination
    assert wire.submit_error_code(0x0A) == "40013"  # bad source
    assert wire.submit_error_code(0x01) == "40009"  # bad body
    assert wire.submit_error_code(0x45) == "40004"
    assert wire.submit_error_code(0x400) == "40008"  # vendor-specific: undeliverable
    assert set(wire.THROTTLE_STATUSES) == {0x58, 0x14}


# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------


def test_a_refused_bind_may_be_a_bare_header() -> None:
    raw = struct.pack("!IIII", 16, wire.BIND_TRANSCEIVER_RESP, 0x0D, 1)
    header = wire.parse_header(raw)
    assert (header.length, header.status, header.is_response) == (16, 0x0D, True)
    assert wire.parse_c_octet_body(raw[16:]) == ""


def test_unknown_commands_and_vendor_statuses_are_kept_not_refused() -> None:
    header = wire.parse_header(struct.pack("!IIII", 16, 0x00010203, 0x00000401, 9))
    assert (header.command_id, header.status) == (0x00010203, 0x401)


def test_impossible_lengths_are_refused() -> None:
    with pytest.raises(wire.PduError):
        wire.parse_header(struct.pack("!IIII", 8, 4, 0, 1))
    with pytest.raises(wire.PduError):
        wire.parse_header(struct.pack("!IIII", 10_000_000, 4, 0, 1))


def test_bind_transceiver_body_layout() -> None:
    body = wire.bind_transceiver_body("hg", "secret", "VMA")
    assert body == b"hg\x00secret\x00VMA\x00\x34\x00\x00\x00"
    with pytest.raises(ValueError):
        wire.bind_transceiver_body("hg", "much-too-long-password")


def test_submit_sm_body_layout() -> None:
    source = wire.address_for("+13125550100")
    dest = wire.address_for("+447700900001")
    body = wire.submit_sm_body(source, dest, b"hi", data_coding=0)
    expected = (
        b"\x00" + b"\x01\x01" + b"13125550100\x00" + b"\x01\x01" + b"447700900001\x00"
        b"\x00\x00\x00" + b"\x00\x00" + b"\x01\x00" + b"\x00\x00\x02" + b"hi"
    )
    assert body == expected


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


def test_addresses_by_kind_of_number() -> None:
    assert wire.address_for("+447700900001") == wire.Address(1, 1, "447700900001")
    assert wire.address_for("ACME Ltd") == wire.Address(5, 0, "ACME Ltd")
    assert wire.address_for("12345") == wire.Address(3, 0, "12345")  # short code: network-specific
    assert wire.address_for("+447700900001", ton=0, npi=1) == wire.Address(0, 1, "447700900001")


def test_mo_numbers_get_a_plus_when_international() -> None:
    assert wire.number_from(wire.Address(1, 1, "447700900001")) == "+447700900001"
    assert wire.number_from(wire.Address(0, 0, "447700900001")) == "+447700900001"  # looks like one
    assert wire.number_from(wire.Address(0, 0, "12345")) == "12345"
    assert wire.number_from(wire.Address(5, 0, "ACME")) == "ACME"


# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------


def test_gsm7_is_unpacked_default_alphabet_with_escapes() -> None:
    assert wire.gsm7_encode("@£$") == b"\x00\x01\x02"
    assert wire.gsm7_encode("Hi!") == b"Hi!"
    assert wire.gsm7_encode("€[]") == b"\x1b\x65\x1b\x3c\x1b\x3e"
    assert wire.gsm7_encode("_") == b"\x11"
    with pytest.raises(ValueError):
        wire.gsm7_encode("😀")


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=200))
def test_gsm7_round_trips_every_telnyx_gsm_character(text: str) -> None:
    encoded = wire.gsm7_encode(text)
    assert all(octet < 0x80 for octet in encoded)  # septets, one per octet
    assert wire.gsm7_decode(encoded) == text


def test_ucs2_is_utf16be_with_surrogate_pairs() -> None:
    payload, coding = wire.encode_part("Aé😀", UCS2)
    assert coding == 8
    assert payload == "Aé😀".encode("utf-16-be")
    assert len(payload) == 8  # the emoji is two code units


def test_decode_by_data_coding() -> None:
    assert wire.decode_text(b"Hello \x00", 0) == "Hello @"
    assert wire.decode_text(b"Hello", 1) == "Hello"
    assert wire.decode_text("café".encode("latin-1"), 3) == "café"
    assert wire.decode_text("Привет".encode("utf-16-be"), 8) == "Привет"


# --------------------------------------------------------------------------------------------
# UDH and splitting
# --------------------------------------------------------------------------------------------


def test_udh_build_and_split() -> None:
    udh = wire.build_udh(200, 3, 2)
    assert udh.hex() == "050003c80302"
    concat, payload = wire.split_udh(udh + b"abc")
    assert concat == wire.Concat(200, 3, 2)
    assert payload == b"abc"
    concat16, payload16 = wire.split_udh(bytes([6, 8, 4, 0x12, 0x34, 3, 1]) + b"xyz")
    assert concat16 == wire.Concat(0x1234, 3, 1)
    assert payload16 == b"xyz"


@pytest.mark.parametrize(
    "text",
    [
        "Hello " * 60,  # 3 parts of GSM-7
        "€" * 100,  # extension characters cost two septets: never split between ESC and char
        "Привет мир! " * 20,  # UCS-2, 240 units
        "😀" * 50 + "a",  # surrogate pairs never split
    ],
)
def test_parts_fit_140_octets_and_match_split_parts(text: str) -> None:
    encoded = encode_text(text)
    parts = split_parts(encoded.transmitted, encoded.encoding)
    assert len(parts) == encoded.parts > 1
    for index, part in enumerate(parts):
        payload, coding = wire.encode_part(part, encoded.encoding)
        short_message = wire.build_udh(7, len(parts), index + 1) + payload
        if encoded.encoding == GSM7:
            assert coding == 0
            septets = len(short_message) - 6
            assert 6 + (septets * 7 + 7) // 8 <= 140  # once the SMSC packs the septets
        else:
            assert coding == 8
            assert len(short_message) <= 140
    rejoined = b"".join(wire.encode_part(p, encoded.encoding)[0] for p in parts)
    assert wire.decode_text(rejoined, 0 if encoded.encoding == GSM7 else 8) == encoded.transmitted


# --------------------------------------------------------------------------------------------
# Receipts
# --------------------------------------------------------------------------------------------


def test_receipt_text_is_parsed() -> None:
    fields = wire.parse_receipt_text(RECEIPT_TEXT.format(stat="UNDELIV", err="001"))
    assert fields["id"] == "1a2b3c00"
    assert fields["stat"] == "UNDELIV"
    assert fields["err"] == "001"
    assert fields["submit date"] == "2601011200"
    assert fields["text"] == "Hello world"


def test_receipt_from_text_only() -> None:
    deliver = wire.parse_deliver_sm(receipt_body("UNDELIV", "001"))
    assert deliver.is_receipt
    assert wire.receipt_from(deliver) == wire.Receipt("1a2b3c00", "UNDELIV", "001")


def test_receipt_tlvs_win_over_the_text() -> None:
    tlvs = {wire.TAG_RECEIPTED_MESSAGE_ID: b"ABC123\x00", wire.TAG_MESSAGE_STATE: bytes([2])}
    deliver = wire.parse_deliver_sm(receipt_body("UNDELIV", "001", tlvs=tlvs))
    receipt = wire.receipt_from(deliver)
    assert receipt is not None
    assert (receipt.message_id, receipt.stat) == ("ABC123", "DELIVRD")


def test_receipt_from_tlvs_only() -> None:
    tlvs = {wire.TAG_RECEIPTED_MESSAGE_ID: b"77\x00", wire.TAG_MESSAGE_STATE: bytes([5])}
    deliver = wire.parse_deliver_sm(deliver_sm(b"", esm_class=0x04, tlvs=tlvs))
    assert wire.receipt_from(deliver) == wire.Receipt("77", "UNDELIV", None)


def test_a_receipt_without_id_is_none() -> None:
    deliver = wire.parse_deliver_sm(deliver_sm(b"stat:DELIVRD", esm_class=0x04))
    assert wire.receipt_from(deliver) is None


@pytest.mark.parametrize(
    ("stat", "status", "code"),
    [
        ("DELIVRD", "delivered", None),
        ("UNDELIV", "delivery_failed", "40008"),
        ("REJECTD", "delivery_failed", "40004"),
        ("DELETED", "delivery_failed", "40008"),
        ("EXPIRED", "expired", "40005"),
        ("ACCEPTD", "sent", None),
        ("ENROUTE", "sent", None),
        ("UNKNOWN", "delivery_unconfirmed", None),
    ],
)
def test_receipt_states_map_to_message_statuses(stat: str, status: str, code: str | None) -> None:
    outcome = wire.receipt_outcome(wire.Receipt("1", stat, "001"))
    assert (outcome.status, outcome.error_code) == (status, code)
    if code:
        assert f"stat:{stat}" in (outcome.error_detail or "")


def test_an_mo_is_not_a_receipt() -> None:
    assert not wire.parse_deliver_sm(deliver_sm(b"STOP")).is_receipt


def test_truncated_deliver_sm_is_refused() -> None:
    with pytest.raises(wire.PduError):
        wire.parse_deliver_sm(deliver_sm(b"hello")[:-3])


# --------------------------------------------------------------------------------------------
# MO reassembly
# --------------------------------------------------------------------------------------------


def _udh_parts(text: str, ref: int, coding: int, sixteen: bool = False) -> list[bytes]:
    chunks = [text[i : i + 10] for i in range(0, len(text), 10)]
    bodies = []
    for seq, chunk in enumerate(chunks, 1):
        payload = chunk.encode("utf-16-be") if coding == 8 else wire.gsm7_encode(chunk)
        if sixteen:
            udh = bytes([6, 8, 4, ref >> 8, ref & 0xFF, len(chunks), seq])
        else:
            udh = wire.build_udh(ref, len(chunks), seq)
        bodies.append(deliver_sm(udh + payload, esm_class=0x40, data_coding=coding))
    return bodies


def _assemble(bodies: list[bytes], assembler: wire.MoAssembler) -> list[str]:
    texts = []
    for body in bodies:
        key, text = assembler.add(wire.mo_part(wire.parse_deliver_sm(body)), 1_000)
        if text is not None:
            texts.append(text)
            assembler.done(key)
    return texts


def test_single_part_mo_comes_back_at_once() -> None:
    assembler = wire.MoAssembler()
    assert _assemble([deliver_sm("STOP".encode("utf-16-be"), data_coding=8)], assembler) == ["STOP"]


def test_udh_mo_reassembled_out_of_order() -> None:
    text = "Three parts arrive out of order!"  # 4 chunks of 10
    bodies = _udh_parts(text, 42, 0)
    assembler = wire.MoAssembler()
    assert _assemble([bodies[2], bodies[0], bodies[3]], assembler) == []
    assert _assemble([bodies[1]], assembler) == [text]
    assert len(assembler) == 0


def test_ucs2_mo_with_16_bit_reference() -> None:
    text = "Привет, это длинное сообщение"
    bodies = _udh_parts(text, 0x1234, 8, sixteen=True)
    assert _assemble(list(reversed(bodies)), wire.MoAssembler()) == [text]


def test_sar_mo_reassembled() -> None:
    chunks = ["Hello ", "from ", "SAR"]
    bodies = [
        deliver_sm(
            chunk.encode("ascii"),
            tlvs={
                wire.TAG_SAR_MSG_REF_NUM: struct.pack("!H", 513),
                wire.TAG_SAR_TOTAL_SEGMENTS: bytes([3]),
                wire.TAG_SAR_SEGMENT_SEQNUM: bytes([seq]),
            },
        )
        for seq, chunk in enumerate(chunks, 1)
    ]
    assert _assemble([bodies[1], bodies[2], bodies[0]], wire.MoAssembler()) == ["Hello from SAR"]


def test_same_reference_from_different_handsets_does_not_mix() -> None:
    a = _udh_parts("AAAAAAAAAABBBBBBBBBB", 9, 0)
    b = []
    for seq, chunk in enumerate(["CCCCCCCCCC", "DDDDDDDDDD"], 1):
        b.append(
            deliver_sm(
                wire.build_udh(9, 2, seq) + wire.gsm7_encode(chunk), esm_class=0x40, source=(1, 1, "447700900999")
            )
        )
    assembler = wire.MoAssembler()
    assert _assemble([a[0], b[0], b[1], a[1]], assembler) == ["CCCCCCCCCCDDDDDDDDDD", "AAAAAAAAAABBBBBBBBBB"]


def test_a_part_redelivered_after_a_failed_commit_completes_again() -> None:
    bodies = _udh_parts("x" * 30, 5, 0)
    assembler = wire.MoAssembler()
    for body in bodies:
        key, text = assembler.add(wire.mo_part(wire.parse_deliver_sm(body)), 0)
    assert text == "x" * 30  # the sink failed: done() not called
    key, again = assembler.add(wire.mo_part(wire.parse_deliver_sm(bodies[-1])), 0)
    assert again == "x" * 30
    assembler.done(key)
    assert len(assembler) == 0


def test_incomplete_mos_expire() -> None:
    bodies = _udh_parts("y" * 30, 6, 0)
    assembler = wire.MoAssembler(ttl_us=1_000_000)
    assembler.add(wire.mo_part(wire.parse_deliver_sm(bodies[0])), 0)
    assert len(assembler) == 1
    assembler.add(wire.mo_part(wire.parse_deliver_sm(deliver_sm(b"hi"))), 2_000_000)
    assert len(assembler) == 0
