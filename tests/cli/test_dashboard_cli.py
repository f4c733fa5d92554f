"""`nidaa central-user`: a dashboard account's table for central.toml."""

from __future__ import annotations

import io
import tomllib

import pytest

from appliance.central.web.accounts import DashboardSection, verify_password
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.config.schema import load


def _run(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


def test_central_user_prints_a_loadable_salted_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run(monkeypatch, "wall screen of the IT office\n", "central-user", "it-office")
    assert code == 0
    assert "wall screen" not in out
    section = load(DashboardSection, tomllib.loads(out)["dashboard"])
    (user,) = section.users
    assert user.name == "it-office"
    assert verify_password(user.password_hash, "wall screen of the IT office")


@pytest.mark.parametrize(
    ("stdin", "name", "message"),
    [("short\n", "it-office", "at least 12"), ("long enough password\n", "Bad Name", "login name")],
)
def test_central_user_refuses(monkeypatch: pytest.MonkeyPatch, stdin: str, name: str,
                              message: str) -> None:  # fmt: skip
    code, out, err = _run(monkeypatch, stdin, "central-user", name)
    assert code == 2 and out == "" and message in err
