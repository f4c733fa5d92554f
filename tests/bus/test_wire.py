"""The reply's properties packed by hand are paho's bytes, for every length."""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from appliance.bus.wire import ReplyProperties


@pytest.mark.parametrize("length", [0, 1, 16, 120, 121, 125, 126, 127, 128, 16380, 16381, 65535])
def test_a_replys_correlation_data_packs_as_paho_packs_it(length: int) -> None:
    correlation = bytes(i % 251 for i in range(length))
    theirs = Properties(PacketTypes.PUBLISH)
    theirs.CorrelationData = correlation
    assert ReplyProperties(correlation).pack() == theirs.pack()
    unpacked = Properties(PacketTypes.PUBLISH)
    unpacked.unpack(ReplyProperties(correlation).pack())
    assert unpacked.CorrelationData == correlation


def test_correlation_data_past_two_bytes_of_length_is_refused() -> None:
    with pytest.raises(ValueError):
        ReplyProperties(b"x" * 65536)
