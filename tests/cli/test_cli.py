"""The `nidaa` command: subcommands, JSON output and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.sim.harness.broker import Mosquitto, free_port
from tests.support import EXAMPLE_CONFIG, running_branch


def nidaa(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_help_lists_the_subcommands() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "appliance", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("master", "ticket", "counter", "queue", "status", "config", "demo"):
        assert command in proc.stdout
    assert "exit codes" in proc.stdout


def test_config_validate() -> None:
    assert nidaa("config", "validate", str(EXAMPLE_CONFIG))[0] == ExitCode.OK


def test_config_with_a_typo_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE_CONFIG.read_text().replace("day_reset_hour", "day_reset_hr"))
    code, _, err = nidaa("config", "validate", str(bad))
    assert code == ExitCode.CONFIG
    assert "branch.day_reset_hr: unknown setting (did you mean 'day_reset_hour'?)" in err


def test_unreachable_broker_exits_4() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    code, _, err = nidaa(
        "ticket", "issue", "A", "--config", str(EXAMPLE_CONFIG), "--broker", url, "--timeout", "1"
    )
    assert code == ExitCode.UNREACHABLE
    assert "unreachable" in err


def test_ticket_counter_queue_and_status(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        common = ["--config", str(b.config_path), "--broker", broker.url]
        code, out, _ = nidaa("ticket", "issue", "A", "--priority", "--json", *common)
        assert code == ExitCode.OK
        ticket = json.loads(out)
        assert ticket["number"] == "A001" and ticket["priority"] is True
        assert ticket["service"] == "building" and ticket["issued_at"]

        code, out, _ = nidaa("counter", "call-next", "1", "--json", *common)  # window number
        assert code == ExitCode.OK and json.loads(out)["ticket"]["number"] == "A001"

        code, _, err = nidaa("ticket", "issue", "Q", *common)
        assert code == ExitCode.REFUSED and "unknown_service" in err
        assert "services: A (building), B (reconcile)" in err  # what to type instead

        code, out, _ = nidaa("counter", "call-next", "4", *common)  # w4: reconcile, none waiting
        assert code == ExitCode.OK and out.strip() == "counter w4: nobody waiting for its services"

        nidaa("counter", "pause", "w3", *common)
        code, _, err = nidaa("counter", "call-next", "w3", *common)
        assert code == ExitCode.REFUSED and "counter_paused" in err

        code, out, _ = nidaa("queue", *common)
        assert code == ExitCode.OK and "building" in out and "paused" in out

        code, out, _ = nidaa("status", *common)
        # "last seen" in the branch's time (Africa/Cairo), not UTC with its offset.
        assert "last seen 20" in out and "+00:00" not in out

        code, out, _ = nidaa("status", "--json", *common)
        units = json.loads(out)["units"]
        assert any(u["role"] == "master" and u["state"] == "online" for u in units)


def test_a_failing_json_command_still_prints_one_object() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    for argv in (["queue"], ["ticket", "issue", "A"]):
        code, out, err = nidaa(*argv, "--json", "--config", str(EXAMPLE_CONFIG), "--broker", url,
                               "--timeout", "1")  # fmt: skip
        assert code == ExitCode.UNREACHABLE and "unreachable" in err
        answer = json.loads(out)
        assert answer["ok"] is False and answer["exit"] == 4
        assert answer["error"]["code"] == "unreachable"


def test_bad_arguments_are_usage_errors_not_configuration_errors(tmp_path: Path) -> None:
    code, _, err = nidaa("ticket", "preview", "Z", "--config", str(EXAMPLE_CONFIG),
                         "--out", str(tmp_path / "t.png"))  # fmt: skip
    assert code == ExitCode.USAGE and "unknown service 'Z'; known: building (A)" in err
    code, _, err = nidaa("announce", "A123", "9", "--config", str(EXAMPLE_CONFIG), "--text")
    assert code == ExitCode.USAGE and "no counter with id or window number '9'" in err
    try:
        nidaa("install", "--role", "cashier", "--config", str(EXAMPLE_CONFIG))
    except SystemExit as exc:  # argparse: a role that does not exist is a bad command line
        assert exc.code == ExitCode.USAGE
    else:
        raise AssertionError("--role cashier was accepted")


def test_output_cut_short_by_a_pipe_ends_quietly(tmp_path: Path) -> None:
    """`nidaa provision ... | head`: the reader is gone before the first line."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, whatever the timing
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "appliance", "provision", "--config", str(EXAMPLE_CONFIG),
             "--out", str(tmp_path)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141  # 128 + SIGPIPE, as the shell reports a cut pipe
