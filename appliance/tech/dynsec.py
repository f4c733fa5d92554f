"""The broker's users and rules as Mosquitto's dynamic-security plugin reads them.

Mosquitto 2.0 (Debian 12 and Raspberry Pi OS ship 2.0.11) has two ways to
bind a credential to client ids: ``use_username_as_clientid``, which forces
every client id to its user name (so two commands of the technician, or a
command and a daemon, would keep disconnecting each other), and the
dynamic-security plugin that ships with it, where each client (user) may
carry one ``clientid``: a connection with that user name and any other
client id is refused as *not authorized*.  Nidaa uses the plugin: each unit's
user is bound to its unit id; the technician's user is bound to none, so
each of their commands connects with an id of its own.

The file is written by ``nidaa provision`` (``dynamic-security.json``) with
the same password hashing as ``mosquitto_ctrl``: PBKDF2-HMAC-SHA512 over a
random 12-byte salt.  No account gets the plugin's ``$CONTROL`` topics, so
nothing changes the rules at run time; a new ``nidaa provision`` and a broker
restart do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from ..bus.topics import Topics
from .accounts import Access, Account, rules

FILE = "dynamic-security.json"
ITERATIONS = 1000
SALT_BYTES = 12
HASH_BYTES = 64

#: The plugin's library in Debian's mosquitto package (any architecture).
PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)


def _hash(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)


def hashed(password: str, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """``password``/``salt``/``iterations`` of a client; ``old``'s when they
    still match ``password`` (salted hashes change at every hashing, and a
    file that changes on every run could not say "unchanged")."""
    if old:
        try:
            salt = base64.b64decode(str(old["salt"]), validate=True)
            iterations = int(old["iterations"])
            digest = base64.b64decode(str(old["password"]), validate=True)
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if iterations > 0 and hmac.compare_digest(_hash(password, salt, iterations), digest):
                return {k: old[k] for k in ("password", "salt", "iterations")}
    salt = secrets.token_bytes(SALT_BYTES)
    return {
        "password": base64.b64encode(_hash(password, salt, ITERATIONS)).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": ITERATIONS,
    }


def _acls(access: Access, topic: str) -> list[dict[str, Any]]:
    kinds = []
    if access in ("read", "readwrite"):
        kinds += ["subscribePattern", "publishClientReceive"]
    if access in ("write", "readwrite"):
        kinds += ["publishClientSend"]
    return [{"acltype": kind, "topic": topic, "allow": True} for kind in kinds]


def role_acls(topics: Topics, acc: Account) -> list[dict[str, Any]]:
    """The plugin's ACL entries of one account: its rules and its own replies."""
    entries = [("read", topics.reply(acc.username, acc.client_id))] if acc.client_id else []
    out: list[dict[str, Any]] = []
    for access, topic in [*entries, *rules(topics, acc)]:
        out += _acls(access, topic)
    return out


def config_json(
    topics: Topics,
    accs: list[Account],
    passwords: dict[str, str],
    old: dict[str, Any] | None = None,
) -> str:
    """The plugin's configuration file for ``accs``.

    Everything not granted is refused: publishing, subscribing and also
    receiving (a retained message on a topic a unit may not read)."""
    before = {
        str(c.get("username")): c for c in (old or {}).get("clients", []) if isinstance(c, dict)
    }
    clients = []
    for acc in accs:
        client: dict[str, Any] = {
            "username": acc.username,
            "textName": f"{acc.role} {acc.username}",
        }
        if acc.client_id:
            client["clientid"] = acc.client_id
        client |= hashed(passwords[acc.username], before.get(acc.username))
        client["roles"] = [{"rolename": acc.username}]
        clients.append(client)
    doc = {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "groups": [],
        "roles": [{"rolename": acc.username, "acls": role_acls(topics, acc)} for acc in accs],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def read_config(text: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
