"""The systemd unit of each role, as shipped in the source tree's ``systemd/``.

The unit files name the install prefix ``/opt/nidaa`` literally so that they
read naturally and pass ``systemd-analyze verify`` as they are installed;
:func:`render_unit` substitutes another prefix for ``nidaa install --prefix``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NidaaError

DEFAULT_PREFIX = "/opt/nidaa"

#: role → unit file name.  The role names are those of ``nidaa install --role``.
UNITS: dict[str, str] = {
    "master": "nidaa-master.service",
    "kiosk": "nidaa-kiosk.service",
    "counter": "nidaa-counter.service",
    "display": "nidaa-display.service",
    "sms-gateway": "nidaa-sms-gateway.service",
    # The centre of many branches (docs/central.md): not a branch's Pi.
    "central": "nidaa-central.service",
}
ROLES = tuple(UNITS)

#: Supplementary groups each role's daemon needs (the same as in its unit).
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "master": (),
    "kiosk": ("gpio", "lp", "dialout"),
    "counter": ("gpio", "dialout"),
    "display": ("video", "render", "audio"),
    "sms-gateway": ("dialout",),
    "central": (),
}

#: The master Pi also hosts the branch's broker; its drop-in lives here.
MOSQUITTO_DROPIN = "mosquitto.service.d/nidaa.conf"


def units_dir() -> Path:
    """``systemd/`` next to the package in a source checkout."""
    here = Path(__file__).resolve().parent.parent.parent / "systemd"
    if not (here / UNITS["master"]).is_file():
        raise NidaaError(
            f"unit files not found in {here}: run nidaa install from a source checkout"
        )
    return here


def render_unit(text: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The unit text with the install prefix replaced."""
    prefix = prefix.rstrip("/") or "/"
    if prefix == DEFAULT_PREFIX:
        return text
    return text.replace(f"{DEFAULT_PREFIX}/", f"{prefix}/")


def unit_text(role: str, prefix: str = DEFAULT_PREFIX) -> str:
    return render_unit((units_dir() / UNITS[role]).read_text(encoding="utf-8"), prefix)
