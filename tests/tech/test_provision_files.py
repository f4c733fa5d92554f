"""`nidaa provision` files: modes, idempotence, rotation, ACL from the topic builder."""

from __future__ import annotations

import io
import json
import re
import stat
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance.bus.topics import Topics
from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.config.branch import load_config, parse_config
from appliance.errors import ConfigError
from appliance.tech.accounts import Account, accounts, rules
from appliance.tech.provision import ProvisionOptions, provision
from tests.support import EXAMPLE_CONFIG


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def passwords(out: Path) -> dict[str, str]:
    return {
        p.stem: tomllib.loads(p.read_text())["password"]
        for p in sorted((out / "credentials").glob("*.toml"))
    }


def test_one_account_per_unit_from_the_config() -> None:
    accs = accounts(load_config(EXAMPLE_CONFIG))
    by_role: dict[str, list[str]] = {}
    for acc in accs:
        by_role.setdefault(acc.role, []).append(acc.username)
        # Units are bound to their unit id; the technician's tools choose their own.
        assert acc.client_id == (None if acc.role == "technician" else acc.username)
    assert by_role["master"] == ["master"]
    # Counter units by their [[counter_units]] id, the id their daemon reports under.
    assert by_role["counter"] == ["counter-w1", "counter-w2"]
    assert [a.counter for a in accs if a.role == "counter"] == ["w1", "w2"]
    assert by_role["kiosk"] == ["k1"] and by_role["display"] == ["d1"]
    assert by_role["sms-gateway"] == ["sms1"] and by_role["technician"] == ["tech"]
    assert "backoffice" in by_role


def test_a_unit_id_used_twice_is_a_config_error(example_config_text: str) -> None:
    text = example_config_text.replace('unit = "master"', 'unit = "k1"')
    # Refused by validation already, not only when provisioning.
    with pytest.raises(
        ConfigError, match=re.escape("kiosks[0].unit: unit id 'k1' is already used by master.unit")
    ):
        parse_config(text)
    text = example_config_text.replace('unit = "sms1"', 'unit = "tech"')
    with pytest.raises(
        ConfigError, match=re.escape("sms.unit: unit id 'tech' is already used by technician")
    ):
        parse_config(text)


def test_counter_rules_name_only_its_own_counter() -> None:
    t = Topics("b")
    rule_topics = [topic for _, topic in rules(t, Account("counter-w3", "counter", counter="w3"))]
    assert t.counter_cmds("counter-w3", "w3") in rule_topics
    assert not any("/w1" in topic for topic in rule_topics)
    kiosk = rules(t, Account("k1", "kiosk"))
    assert {topic for access, topic in kiosk if "w" in access} >= {
        t.ticket_cmd("k1", "issue"),
        t.ticket_cmd("k1", "void"),
    }
    assert not any("/counter/" in topic for _, topic in kiosk)


def test_every_account_writes_commands_only_under_its_own_unit_id() -> None:
    """The master takes the requester from the command topic's unit level:
    no account but the master's may write commands under another's."""
    t = Topics("b")
    cfg = load_config(EXAMPLE_CONFIG)
    for acc in accounts(cfg):
        writes = [topic for access, topic in rules(t, acc) if "w" in access]
        commands = [topic for topic in writes if topic.startswith(f"{t.base}/cmd/")]
        if acc.role == "master":
            assert writes == [t.all_topics]
            continue
        assert all(topic.startswith(f"{t.base}/cmd/{acc.username}/") for topic in commands)
        assert all("/cmd/" in topic or "/status/" in topic for topic in writes), acc


def test_secrets_are_owner_only_and_second_run_keeps_passwords(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    first = provision(cfg, ProvisionOptions(out=tmp_path, tls=True))
    assert len(first.new_passwords) == len(first.accounts)
    for path in (tmp_path / "credentials").iterdir():
        assert mode(path) == 0o600, path
    assert mode(tmp_path / "ca.key") == 0o600
    assert mode(tmp_path / "dynamic-security.json") == 0o640
    conf = (tmp_path / "nidaa.conf").read_text()
    assert "allow_anonymous false" in conf and "persistence true" in conf
    assert f"plugin_opt_config_file {tmp_path.resolve() / 'dynamic-security.json'}" in conf
    assert "mosquitto_dynamic_security.so" in conf
    assert "cafile" in conf and "listener 8883" in conf
    users = json.loads((tmp_path / "dynamic-security.json").read_text())
    k1 = next(c for c in users["clients"] if c["username"] == "k1")
    assert k1["clientid"] == "k1" and passwords(tmp_path)["k1"] not in json.dumps(users)
    tech = next(c for c in users["clients"] if c["username"] == "tech")
    assert "clientid" not in tech
    before, ca = passwords(tmp_path), (tmp_path / "ca.crt").read_bytes()
    assert len(set(before.values())) == len(before)  # every unit its own password

    again = provision(cfg, ProvisionOptions(out=tmp_path, tls=True))
    assert again.new_passwords == [] and again.written == []
    assert passwords(tmp_path) == before
    assert (tmp_path / "ca.crt").read_bytes() == ca
    assert not list(tmp_path.glob(".*")), "temporary files left behind"

    rotated = provision(cfg, ProvisionOptions(out=tmp_path, tls=True, rotate=True))
    assert len(rotated.new_passwords) == len(rotated.accounts)
    after = passwords(tmp_path)
    assert all(after[u] != before[u] for u in before)
    assert (tmp_path / "ca.crt").read_bytes() != ca


def test_a_removed_counter_loses_its_broker_account(
    tmp_path: Path, example_config_text: str
) -> None:
    provision(parse_config(example_config_text), ProvisionOptions(out=tmp_path))

    def users() -> set[str]:
        doc = json.loads((tmp_path / "dynamic-security.json").read_text())
        return {c["username"] for c in doc["clients"]} | {r["rolename"] for r in doc["roles"]}

    assert "counter-w2" in users()
    start = example_config_text.index("# A counter with a single button")
    end = example_config_text.index("# The hall display")
    fewer = parse_config(example_config_text[:start] + example_config_text[end:])
    provision(fewer, ProvisionOptions(out=tmp_path))
    assert "counter-w2" not in users() and "counter-w1" in users()


def test_cli_reports_unchanged_on_second_run(tmp_path: Path) -> None:
    argv = ["provision", "--config", str(EXAMPLE_CONFIG), "--out", str(tmp_path)]
    out = io.StringIO()
    assert run(argv, Environment(stdout=out, stderr=io.StringIO())) == 0
    assert "written" in out.getvalue()
    out = io.StringIO()
    assert run(argv, Environment(stdout=out, stderr=io.StringIO())) == 0
    assert "written" not in out.getvalue() and "unchanged" in out.getvalue()


def test_cli_bad_config_writes_nothing(tmp_path: Path, example_config_text: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(example_config_text.replace('prefix = "A"', 'prefix = "a"'))
    err = io.StringIO()
    code = run(
        ["provision", "--config", str(bad), "--out", str(tmp_path / "out")],
        Environment(stdout=io.StringIO(), stderr=err),
    )
    assert code == 3 and "services[0].prefix" in err.getvalue()
    assert not (tmp_path / "out").exists()


def test_units_come_from_role_sections_when_they_exist() -> None:
    """Roles whose sections land later ([[kiosks]], [[displays]]) are read as is."""
    cfg = SimpleNamespace(
        master=SimpleNamespace(unit="m"),
        counters=[SimpleNamespace(id="w1")],
        counter_units=[SimpleNamespace(unit="cu1", counter="w1")],
        kiosks=[SimpleNamespace(unit="k-east"), SimpleNamespace(unit="k-west")],
        displays=[SimpleNamespace(id="hall")],
        sms_gateway=SimpleNamespace(unit="modem"),
    )
    got = {(a.role, a.username) for a in accounts(cfg)}  # type: ignore[arg-type]
    assert {("kiosk", "k-east"), ("kiosk", "k-west"), ("display", "hall")} <= got
    assert ("sms-gateway", "modem") in got and ("kiosk", "k1") not in got
