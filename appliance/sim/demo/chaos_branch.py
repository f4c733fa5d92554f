"""The branch file of a chaos run: every unit on simulated hardware.

The run's branch is the given configuration with its kiosks, counter units,
hall display and SMS gateway rewritten onto backends a harness can press and
watch from outside: ``sim`` pins (a control socket per unit), a simulated
printer saving each ticket in the unit's folder, a simulated counter display
recording every text it shows, the simulated modem with its record and
control file.  Each unit runs in ``<out>/units/<name>/``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KIOSKS = ("k1", "k2")
NEXT_PIN = 5
BUZZER_PIN = 27


@dataclass
class Unit:
    """One daemon of the run: its ``nidaa`` arguments and its folder."""

    name: str
    role: str
    args: list[str]
    folder: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Branch:
    config_path: Path
    db: Path
    units: dict[str, Unit]
    kiosk_buttons: dict[str, list[int]]  #: kiosk → pins of its service buttons
    sms: bool


def write_branch(
    source: Path, out: Path, broker_url: str, counters: int, standby: Any = None
) -> Branch:
    """``standby``: a :class:`.chaos_standby.Standby` (two candidates, etcd, two brokers)."""
    doc = tomllib.loads(source.read_text(encoding="utf-8"))
    doc.setdefault("broker", {})["url"] = broker_url
    for key in ("username", "password_file", "ca_file"):
        doc["broker"].pop(key, None)
    db = out / "master.db"
    doc.setdefault("master", {})["database"] = str(db)
    units_dir = out / "units"
    config_path = out / "branch.toml"
    common = ["--config", str(config_path), "--broker", broker_url]
    units: dict[str, Unit] = {
        "master": Unit(
            "master", "master", ["master", *common, "--db", str(db)], units_dir / "master"
        )
    }
    if standby is not None:
        doc["ha"] = standby.ha_section()
        doc["broker"]["fallback_urls"] = [standby.second_broker.url]
        common = ["--config", str(config_path)]  # no override: units fail over between brokers
        units = {u: Unit(u, "master", ["master", *common, "--db", str(out / f"{u}.db"), "--unit", u],
                         units_dir / u) for u in standby.ha_section()["candidates"]}  # fmt: skip
    base = (doc.get("kiosks") or [None])[0] or _kiosk_from_services(doc)
    doc["kiosks"] = []
    buttons: dict[str, list[int]] = {}
    for name in KIOSKS:
        folder = units_dir / name
        kiosk = dict(base, unit=name, pin_factory="sim", cooldown_s=0.0, buzzer_pin=BUZZER_PIN,
                     journal=str(folder / "requests.journal"))  # fmt: skip
        kiosk["buttons"] = [b for b in base["buttons"] if b.get("pin") != BUZZER_PIN]
        profile = base.get("printer", {}).get("profile", "POS-5890")
        kiosk["printer"] = {"backend": "simulated", "profile": profile,
                            "output_dir": str(folder / "tickets")}  # fmt: skip
        doc["kiosks"].append(kiosk)
        buttons[name] = [b["pin"] for b in kiosk["buttons"] if b.get("service")]
        units[name] = Unit(name, "kiosk", ["kiosk", *common, "--unit", name], folder,
                           {"NIDAA_SIM_PINS": str(folder)})  # fmt: skip
    doc["counter_units"] = []
    for c in doc.get("counters", [])[:counters]:
        name = f"cu-{c['id']}"
        folder = units_dir / name
        doc["counter_units"].append({
            "unit": name, "counter": c["id"], "pin_factory": "sim", "next_guard_s": 0,
            "buttons": [{"pin": NEXT_PIN, "press": "next"}],
            "display": {"backend": "simulated", "digits": 4,
                        "record_file": str(folder / "display.jsonl")},
        })  # fmt: skip
        units[name] = Unit(name, "counter", ["counter", *common, "--unit", name], folder,
                           {"NIDAA_SIM_PINS": str(folder)})  # fmt: skip
    display = dict((doc.get("displays") or [{"id": "d1"}])[0], audio="none")
    doc["displays"] = [display]
    folder = units_dir / "display"
    units["display"] = Unit(
        "display", "display",
        ["display", *common, "--unit", display["id"], "--headless",
         "--calls-log", str(folder / "calls.jsonl")],
        folder, {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    )  # fmt: skip
    sms = "sms" in doc
    if sms:
        folder = units_dir / "sms"
        doc["sms"].update(modem="sim", outbox=str(folder / "outbox.db"),
                          sim_record=str(folder / "sent.jsonl"))  # fmt: skip
        # A run of a minute is not throttled like a day at an operator's
        # limit, and a modem that stopped answering is given up on sooner:
        # the same paths, in the time of the run.
        doc["sms"].update(rate_per_minute=600, backoff_s=0.5, max_backoff_s=3,
                          modem_timeout_s=2.0, send_timeout_s=4.0)  # fmt: skip
        units["sms"] = Unit("sms", "sms", ["sms-gateway", *common], folder)
    for unit in units.values():
        unit.folder.mkdir(parents=True, exist_ok=True)
    # Simulated citizens take tickets faster than a kiosk's printer allows.
    doc.setdefault("master", {})["tickets_per_minute"] = 0
    config_path.write_text(to_toml(doc), encoding="utf-8")
    return Branch(config_path, db, units, buttons, sms)


def _kiosk_from_services(doc: dict[str, Any]) -> dict[str, Any]:
    services = doc.get("services", [])
    return {"buttons": [{"pin": 4 + i, "service": s["id"]} for i, s in enumerate(services)]}


# -- a small TOML writer (the standard library only reads TOML) -----------------
def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON escapes are TOML escapes
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _is_tables(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def to_toml(doc: dict[str, Any]) -> str:
    """``doc`` as TOML: top-level tables and arrays of tables, the rest inline."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in doc.items()
             if not isinstance(v, dict) and not _is_tables(v)]  # fmt: skip
    for k, v in doc.items():
        if isinstance(v, dict):
            lines += ["", f"[{_key(k)}]", *(f"{_key(a)} = {_value(b)}" for a, b in v.items())]
        elif _is_tables(v):
            for item in v:
                lines += ["", f"[[{_key(k)}]]"]
                lines += [f"{_key(a)} = {_value(b)}" for a, b in item.items()]
    return "\n".join(lines) + "\n"
