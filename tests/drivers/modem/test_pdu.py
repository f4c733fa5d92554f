from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.drivers.modem import gsm7
from appliance.drivers.modem.pdu import (
    PduError,
    decode_status_report,
    decode_submit,
    encode,
    encode_address,
    encode_status_report,
    reassemble,
    split,
)
from appliance.sim.bench.sms import bench_sms

NUMBER = "+201012345678"
ARABIC = "مرحبا بكم في المركز التكنولوجي"


def round_trip(text: str, reference: int = 42) -> tuple[list[str], str]:
    parts = encode(NUMBER, text, reference=reference)
    decoded = [decode_submit(p.pdu) for p in parts]
    for p, d in zip(parts, decoded, strict=True):
        assert d.number == NUMBER
        assert d.text == p.text
        assert d.status_report
        # AT+CMGS=<length> counts the octets after the SMSC field ("00").
        assert p.length == len(bytes.fromhex(p.pdu)) - 1
        assert p.pdu.startswith("00")
        if len(parts) > 1:
            assert d.concat == (reference, len(parts), p.seq)
        else:
            assert d.concat is None
    assert reassemble(decoded) == text
    return [d.encoding for d in decoded], reassemble(decoded)


def test_known_vector_matches_the_standard_packing() -> None:
    # "hellohello" packs to E8329BFD4697D9EC37 in every GSM 03.38 reference.
    assert gsm7.pack(gsm7.to_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert encode_address("+46708251358").hex().upper() == "0B916407281553F8"
    (part,) = encode("+46708251358", "hellohello", status_report=False)
    assert part.pdu == "0011000B916407281553F80000A70AE8329BFD4697D9EC37"
    assert part.length == 23


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Your ticket A001 is ready", "gsm7"),
        (ARABIC, "ucs2"),
        ("رقم التذكرة A001 - الشباك 3", "ucs2"),
        ("Ticket ready 🎉 at window 3", "ucs2"),
        ("price 5€ [ok] {x} ~^|\\", "gsm7"),
        ("", "gsm7"),
        ("@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "gsm7"),
    ],
)
def test_round_trip(text: str, encoding: str) -> None:
    encodings, _ = round_trip(text)
    assert set(encodings) == {encoding}


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_part_boundaries(length: int, parts: int) -> None:
    text = ("شباك" * 40)[:length]
    assert len(encode(NUMBER, text)) == parts
    round_trip(text)


@pytest.mark.parametrize(("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_part_boundaries(length: int, parts: int) -> None:
    text = ("Window 3, ticket A001. " * 20)[:length]
    assert len(encode(NUMBER, text)) == parts
    round_trip(text)


def test_extension_characters_count_double() -> None:
    assert len(encode(NUMBER, "€" * 80)) == 1
    assert len(encode(NUMBER, "€" * 81)) == 2
    assert len(encode(NUMBER, "a" * 159 + "[")) == 2
    # A part never ends between the escape and its character.
    encoding, texts = split("a" * 152 + "{" + "b" * 10)
    assert encoding == "gsm7"
    assert texts[0] == "a" * 152
    assert texts[1].startswith("{")
    round_trip("a" * 152 + "{" + "b" * 10)


def test_surrogate_pairs_are_never_split() -> None:
    text = "ا" * 66 + "😀" + "ب" * 10
    encoding, texts = split(text)
    assert encoding == "ucs2"
    assert texts[0] == "ا" * 66
    assert texts[1].startswith("😀")
    round_trip(text)
    # 35 emoji = 70 UTF-16 units: still one SMS; 36 need two.
    assert len(encode(NUMBER, "😀" * 35)) == 1
    assert len(encode(NUMBER, "😀" * 36)) == 2


def test_status_report_bit_and_reference() -> None:
    (plain,) = encode(NUMBER, "hi", status_report=False)
    assert not decode_submit(plain.pdu).status_report
    with pytest.raises(PduError):
        encode(NUMBER, "x", reference=256)


def test_too_long_and_bad_numbers_are_refused() -> None:
    with pytest.raises(PduError, match="too long"):
        encode(NUMBER, "ش" * 67 * 256)
    with pytest.raises(PduError, match="telephone number"):
        encode("+20abc", "hi")


@pytest.mark.parametrize("garbage", ["", "zz", "00", "0031000C91", "0002000C9102012143658700"])
def test_garbage_pdus_raise_pdu_error(garbage: str) -> None:
    with pytest.raises(PduError):
        decode_submit(garbage)


def test_status_report_round_trip() -> None:
    when = datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC)
    length, pdu = encode_status_report(17, NUMBER, 0x00, when)
    assert length == len(bytes.fromhex(pdu)) - 1
    report = decode_status_report(pdu)
    assert (report.message_ref, report.number, report.delivered, report.final) == (
        17,
        NUMBER,
        True,
        True,
    )
    assert report.delivered_at == when
    pending = decode_status_report(encode_status_report(17, NUMBER, 0x30, when)[1])
    assert not pending.delivered and not pending.final
    failed = decode_status_report(encode_status_report(17, NUMBER, 0x41, when)[1])
    assert not failed.delivered and failed.final
    with pytest.raises(PduError):
        decode_status_report(encode(NUMBER, "x")[0].pdu)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8") | st.characters(), max_size=400), st.integers(0, 255))
def test_any_text_round_trips(text: str, reference: int) -> None:
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        with pytest.raises(PduError, match="surrogate"):
            encode(NUMBER, text)
        return
    parts = encode(NUMBER, text, reference=reference)
    encoding = decode_submit(parts[0].pdu).encoding
    limit = 160 if encoding == "gsm7" else 70
    if len(parts) > 1:
        limit = 153 if encoding == "gsm7" else 67
    for p in parts:
        units = (
            len(gsm7.to_septets(p.text))
            if encoding == "gsm7"
            else len(p.text.encode("utf-16-be")) // 2
        )
        assert units <= limit
    assert reassemble([decode_submit(p.pdu) for p in parts]) == text


@given(st.text(alphabet=st.sampled_from(gsm7.BASIC.replace("\x1b", "") + "€[]{}^~|\\\f")))
def test_gsm7_alphabet_round_trips(text: str) -> None:
    assert gsm7.from_septets(gsm7.to_septets(text)) == text
    septets = gsm7.to_septets(text)
    for fill in range(7):
        assert gsm7.unpack(gsm7.pack(septets, fill), len(septets), fill) == septets


def test_bench_reports_encode_rate() -> None:
    result = bench_sms(seconds=0.01)
    assert set(result) == {"sms_encode_per_s"}
    assert result["sms_encode_per_s"] > 0
