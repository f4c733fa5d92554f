from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import NidaaError
from appliance.sms.phone import PhoneNumberError, is_valid, mask, normalize

nationals = st.builds(
    lambda p, rest: "1" + p + rest,
    st.sampled_from("0125"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@pytest.mark.parametrize(
    "text",
    [
        "01012345678",
        "010 1234 5678",
        "010-1234-5678",
        "+201012345678",
        "+20 10 1234 5678",
        "00201012345678",
        "0020 101 234 5678",
        "201012345678",
        "1012345678",
        "٠١٠١٢٣٤٥٦٧٨",
    ],
)
def test_every_usual_form_becomes_e164(text: str) -> None:
    assert normalize(text) == "+201012345678"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("01312345678", "starts with 010, 011, 012 or 015"),
        ("0101234567", "11 digits"),
        ("010123456789", "11 digits"),
        ("+441012345678", "only Egyptian"),
        ("0233942035", "11 digits"),  # a Cairo landline
        ("0133942035", "11 digits"),
        ("01612345678", "starts with 010"),
        ("010x2345678", "only digits"),
        ("", "empty"),
        (" - ", "empty"),
        ("+20", "11 digits"),
    ],
)
def test_anything_else_is_refused_clearly(text: str, why: str) -> None:
    with pytest.raises(PhoneNumberError, match=why) as info:
        normalize(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, NidaaError)
    assert "expected e.g. 010 1234 5678" in str(info.value)
    assert not is_valid(text)


def test_refusal_does_not_echo_the_whole_number() -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize("01312345678")
    assert "01312345678" not in str(info.value)


def test_mask_shows_operator_and_last_two_digits_only() -> None:
    assert mask("01012345689") == "+20 10* *** **89"
    assert mask("+201512345600") == "+20 15* *** **00"
    assert mask("garbage") == "+20 *** *** ****"


@given(nationals, st.sampled_from(["0", "+20", "0020", "20", "+20 ", ""]), st.booleans())
def test_normalize_accepts_all_prefixes_and_separators(
    national: str, prefix: str, dashed: bool
) -> None:
    body = "0" + national if prefix == "" else national
    if dashed:
        body = "-".join(body[i : i + 3] for i in range(0, len(body), 3))
    e164 = normalize(prefix + body)
    assert e164 == "+20" + national
    assert normalize(e164) == e164  # idempotent


@given(nationals)
def test_mask_never_reveals_the_middle(national: str) -> None:
    m = mask("+20" + national)
    assert m.startswith("+20 " + national[:2])
    assert m.endswith(national[-2:])
    assert national[2:8] not in m.replace(" ", "")
    assert sum(ch.isdigit() for ch in m) == 6  # 20, two operator digits, two final digits


@given(st.text(max_size=20))
def test_normalize_either_returns_a_mobile_or_raises_phone_error(text: str) -> None:
    try:
        e164 = normalize(text)
    except PhoneNumberError:
        return
    assert len(e164) == 13
    assert e164[:4] == "+201"
    assert e164[4] in "0125"
