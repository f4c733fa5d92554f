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
        "e.g. `services[2].prefix`, and exits 3 while there is one: every rule "
        "the daemons check at start, across sections too.",
        "",
        "Durations carry their unit in the name: `_ms`, `_s`, `_minutes`, `_days`. "
        "A renamed setting still accepts its former name (listed as *formerly*). "
        "A branch file is at most 1 MiB and nests tables, arrays and dotted keys at most 32 deep; every "
        "number is finite; no text may hold control characters (NUL, ESC, CR, LF, "
        "tab, ...) or bidirectional overrides (U+202A-U+202E, U+2066-U+2069).",
        "",
        "",
    ]
    return "\n".join(head) + schema.reference(Config, "The branch file").rstrip() + "\n"
