from __future__ import annotations

import io

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.drivers.modem.pdu import decode_submit, reassemble


def nidaa(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_sms_pdu_prints_one_line_per_part_with_cmgs_length() -> None:
    text = "تم استلام طلبكم رقم 417 بالمركز التكنولوجي، وسيتم إبلاغكم عند جاهزيته للاستلام."
    code, out, _ = nidaa("sms", "pdu", "010 1234 5678", text, "--ref", "9")
    assert code == ExitCode.OK
    lines = out.splitlines()
    assert len(lines) == 2
    decoded = []
    for line in lines:
        length, pdu = line.split(" ")
        assert length.startswith("len=") and pdu.startswith("pdu=")
        hexpdu = pdu.removeprefix("pdu=")
        assert int(length.removeprefix("len=")) == len(bytes.fromhex(hexpdu)) - 1
        decoded.append(decode_submit(hexpdu))
    assert reassemble(decoded) == text
    assert {d.number for d in decoded} == {"+201012345678"}
    assert {d.concat[0] for d in decoded if d.concat} == {9}


def test_sms_pdu_refuses_a_bad_number_clearly() -> None:
    code, out, err = nidaa("sms", "pdu", "0101234", "hi")
    assert code == ExitCode.USAGE
    assert out == ""
    assert "not an Egyptian mobile number" in err


def test_sms_outbox_lists_and_retries_dead_letters(tmp_path: object) -> None:
    from pathlib import Path

    from appliance.sms.outbox import Outbox
    from tests.support import write_config

    tmp = Path(str(tmp_path))
    path = write_config(
        tmp,
        "mqtt://127.0.0.1:1",
        replace={'outbox = "/var/lib/nidaa/sms-outbox.db"': f'outbox = "{tmp / "o.db"}"'},
    )
    box = Outbox(tmp / "o.db")
    mid = box.enqueue("ev-1", "+201012345678", "hello", 1.0) or 0
    box.mark_failed(mid, 1, "+CMS ERROR 1", 2.0, permanent=True)
    box.close()
    code, out, _ = nidaa("sms", "outbox", "--config", str(path))
    assert code == ExitCode.OK
    assert "dead 1" in out and "+20 10* *** **78" in out and "+CMS ERROR 1" in out
    assert "12345678" not in out
    code, out, _ = nidaa("sms", "outbox", "--config", str(path), "--retry-dead")
    assert code == ExitCode.OK and "1 dead letter(s) will be sent again" in out
    again = Outbox(tmp / "o.db")
    msg = again.message(mid)
    assert msg is not None and msg.state == "pending" and msg.attempts == 0


def test_sms_outbox_on_a_pi_without_the_gateway_creates_nothing(tmp_path: object) -> None:
    from pathlib import Path

    from tests.support import write_config

    tmp = Path(str(tmp_path))
    missing = tmp / "var/lib/nidaa/sms-outbox.db"
    path = write_config(
        tmp,
        "mqtt://127.0.0.1:1",
        replace={'outbox = "/var/lib/nidaa/sms-outbox.db"': f'outbox = "{missing}"'},
    )
    code, out, err = nidaa("sms", "outbox", "--config", str(path))
    assert code == ExitCode.ERROR and "the SMS gateway does not run on this Pi" in err
    assert out == "" and not missing.exists() and not missing.parent.exists()
