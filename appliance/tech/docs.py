"""Documentation generated from the code, so that it cannot drift from it."""

from __future__ import annotations

from ..config import schema
from ..config.branch import Config

REFERENCE_COMMAND = "nidaa config reference > docs/configuration.md"


def configuration_reference() -> str:
    """docs/configuration.md: every setting of the branch file, from the schema."""
    head = [
        "# Configuration reference",
        "",
        f"<!-- Generated from appliance/config/ by `{REFERENCE_COMMAND}`; do not edit. -->",
        "",
        "One TOML file describes a branch (`/etc/nidaa/branch.toml` on every Pi; "
        "`nidaa config example` prints a complete example).  "
        "`nidaa config validate FILE` lists every problem with its path, "
        "e.g. `services[2].prefix`.",
        "",
        "",
    ]
    return "\n".join(head) + schema.reference(Config, "The branch file").rstrip() + "\n"
