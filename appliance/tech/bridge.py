"""The bridges of many branches to one central broker (docs/central.md).

Two halves, written by ``nidaa provision``:

- the central broker (``--central-broker --central-config central.toml``):
  its TLS listener and CA, one account per branch bound to that branch's
  bridge client id and allowed only under its own ``branches/<branch>/``,
  and the consumers' account;
- each branch (``--config branch.toml --central HOST:PORT
  --central-credential FILE``): the Mosquitto bridge, over TLS with the
  branch's own central account, carrying ``nidaa/<branch>/sync/{change,
  head,branch}`` out to ``branches/<branch>/sync/…`` and the one path back,
  ``sync/replay``.  Nothing else crosses: no command, no ``event/stage``
  (phone numbers), no status.

The bridge's queue is transport, never the record (Mosquitto drops messages
past ``max_queued_messages``): the consumer finds what is missing by the
numbers and asks the branch's master to replay it from SQLite.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bus.credential import Credential
from ..bus.topics import SYNC_IN, SYNC_OUT, CentralTopics, Topics
from ..central.config import CentralConfig
from ..config.branch import Config
from ..errors import ConfigError
from . import dynsec
from .files import write_atomic
from .provision import BROKER_FILE, SECRET, _existing_password, _toml_str, ensure_tls, find_plugin

#: The consumers' account on the central broker (any client id: several run).
CONSUMER_USER = "central"


def bridge_user(branch: str) -> str:
    return f"branch-{branch}"


def bridge_client_id(branch: str) -> str:
    return f"bridge-{branch}"


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "allow": True}


def branch_acls(branch: str) -> list[dict[str, Any]]:
    """A branch's bridge: publish its own feed and link state, read its replays."""
    t = CentralTopics(branch)
    out = [_acl("publishClientSend", t.sync(kind)) for kind in SYNC_OUT]
    out.append(_acl("publishClientSend", t.link))
    for kind in SYNC_IN:
        out += [_acl("subscribePattern", t.sync(kind)), _acl("publishClientReceive", t.sync(kind))]
    return out


def consumer_acls(group: str) -> list[dict[str, Any]]:
    """The consumers: read every branch's feed and links, ask any for a replay."""
    t = CentralTopics("+")
    reads = [*(t.sync(kind) for kind in SYNC_OUT), t.link]
    out = [_acl("subscribePattern", f) for f in reads]
    out.append(_acl("subscribePattern", CentralTopics.shared(group, t.sync("change"))))
    out += [_acl("publishClientReceive", f) for f in reads]
    out += [_acl("publishClientSend", t.sync(kind)) for kind in SYNC_IN]
    return out


@dataclass
class CentralBrokerOptions:
    out: Path
    host: str  #: the central broker's name or address as branches reach it
    tls_port: int = 8883
    #: Plain MQTT on loopback, for consumers on the broker's own machine (0: none).
    port: int = 1883
    bind: str = ""
    tls_hosts: list[str] = field(default_factory=list)
    rotate: bool = False
    conf_dir: Path | None = None
    plugin: Path | None = None


@dataclass
class Written:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    new_passwords: list[str] = field(default_factory=list)

    def put(self, path: Path, data: str | bytes, mode: int) -> None:
        (self.written if write_atomic(path, data, mode) else self.unchanged).append(path)


def _credential_text(user: str, role: str, client_id: str, password: str, url: str,
                     ca_pem: str) -> str:  # fmt: skip
    return "\n".join(
        [
            f"# Central broker credential of {role} {user!r}.",
            "# Secret: readable by its owner only.",
            f"username = {_toml_str(user)}",
            f"role = {_toml_str(role)}",
            f"client_id = {_toml_str(client_id)}",
            f"password = {_toml_str(password)}",
            f"broker_url = {_toml_str(url)}",
            f'ca_pem = """\n{ca_pem}"""',
        ]
    ) + "\n"


def provision_central_broker(cfg: CentralConfig, opts: CentralBrokerOptions) -> Written:
    """The central broker's configuration, accounts and certificates."""
    if not cfg.branches:
        raise ConfigError([("branches", "no branch listed: nothing to provision")])
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    conf_dir = (opts.conf_dir or out).resolve()
    done = Written()
    done.written += ensure_tls(out, "central", [opts.host, *opts.tls_hosts], rotate=opts.rotate)
    ca_pem = (out / "ca.crt").read_text()
    creds = out / "credentials"
    creds.mkdir(mode=0o700, exist_ok=True)
    users: list[tuple[str, str, str, str]] = [
        (bridge_user(b.id), "branch", bridge_client_id(b.id), b.id) for b in cfg.branches
    ]
    users.append((CONSUMER_USER, "central", "", ""))
    passwords: dict[str, str] = {}
    for user, *_ in users:
        kept = None if opts.rotate else _existing_password(creds / f"{user}.toml")
        if kept is None:
            done.new_passwords.append(user)
        passwords[user] = kept or secrets.token_urlsafe(24)
    try:
        before = dynsec.read_config((out / dynsec.FILE).read_text(encoding="utf-8")) or {}
    except OSError:
        before = {}
    old = {str(c.get("username")): c for c in before.get("clients", []) if isinstance(c, dict)}
    clients, roles = [], []
    for user, role, client_id, branch in users:
        client: dict[str, Any] = {"username": user, "textName": f"{role} {branch or user}"}
        if client_id:
            client["clientid"] = client_id
        client |= dynsec.hashed(passwords[user], old.get(user))
        client["roles"] = [{"rolename": user}]
        clients.append(client)
        acls = branch_acls(branch) if branch else consumer_acls(cfg.central.share_group)
        roles.append({"rolename": user, "acls": acls})
    doc = {
        "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False,
                             "subscribe": False, "unsubscribe": True},
        "clients": clients, "groups": [], "roles": roles,
    }  # fmt: skip
    done.put(out / dynsec.FILE, json.dumps(doc, indent=1) + "\n", BROKER_FILE)
    bind = f" {opts.bind}" if opts.bind else ""
    lines = [
        "# Nidaa central broker; generated by `nidaa provision --central-broker`.",
        "allow_anonymous false",
        f"plugin {opts.plugin or find_plugin()}",
        f"plugin_opt_config_file {conf_dir / dynsec.FILE}",
        "persistence true",
        "set_tcp_nodelay true",
    ]
    if opts.port:
        lines += ["# The consumers on this machine.", f"listener {opts.port} 127.0.0.1"]
    lines += [
        "# The branches' bridges.",
        f"listener {opts.tls_port}{bind}",
        f"cafile {conf_dir / 'ca.crt'}",
        f"certfile {conf_dir / 'server.crt'}",
        f"keyfile {conf_dir / 'server.key'}",
        "tls_version tlsv1.2",
    ]
    done.put(out / "nidaa-central.conf", "\n".join(lines) + "\n", 0o644)
    url = f"mqtts://{opts.host}:{opts.tls_port}"
    for user, role, client_id, _ in users:
        text = _credential_text(user, role, client_id, passwords[user], url, ca_pem)
        done.put(creds / f"{user}.toml", text, SECRET)
    return done


def bridge_conf(cfg: Config, address: str, cred: Credential, cafile: Path) -> str:
    """The branch's Mosquitto bridge to the central broker."""
    branch = cfg.branch.id
    local, remote = Topics(branch), CentralTopics(branch)
    local_prefix, remote_prefix = f"{local.base}/", f"{remote.base}/"
    lines = [
        f"# Bridge of branch {branch} to the central broker; generated by",
        "# `nidaa provision --central`.  Carries the central feed out and the",
        "# centre's replay requests back, nothing else (docs/central.md).",
        "connection nidaa-central",
        f"address {address}",
        f"remote_clientid {cred.client_id or bridge_client_id(branch)}",
        f"remote_username {cred.username}",
        f"remote_password {cred.password}",
        f"bridge_cafile {cafile}",
        "bridge_insecure false",
        "bridge_protocol_version mqttv311",
        "try_private true",
        # Keep the session (and the queue for the centre) across link cuts;
        # past max_queued_messages Mosquitto drops: the centre asks again.
        "cleansession false",
        "restart_timeout 2 30",
        "keepalive_interval 30",
        # The centre learns the link's state: 1 when up, 0 (Last Will) when cut.
        "notifications true",
        f"notification_topic {remote.link}",
    ]
    for kind in SYNC_OUT:
        lines.append(f"topic sync/{kind} out 1 {local_prefix} {remote_prefix}")
    for kind in SYNC_IN:
        lines.append(f"topic sync/{kind} in 1 {local_prefix} {remote_prefix}")
    return "\n".join(lines) + "\n"


def provision_bridge(
    cfg: Config, out: Path, address: str, cred: Credential, conf_dir: Path | None = None
) -> Written:
    """``bridge.conf`` and the central CA for the branch's broker."""
    if cred.role and cred.role != "branch":
        raise ConfigError([("", f"a {cred.role} credential cannot bridge a branch")], cred.source)
    if cred.username != bridge_user(cfg.branch.id):
        raise ConfigError(
            [("", f"credential of {cred.username!r}, not of branch {cfg.branch.id!r}")],
            cred.source,
        )
    if not cred.ca_pem:
        raise ConfigError([("ca_pem", "missing: the bridge runs over TLS only")], cred.source)
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError([("--central", f"{address!r} is not HOST:PORT")])
    out.mkdir(parents=True, exist_ok=True)
    conf_dir = (conf_dir or out).resolve()
    done = Written()
    done.put(out / "central-ca.crt", cred.ca_pem, 0o644)
    done.put(out / "bridge.conf", bridge_conf(cfg, address, cred, conf_dir / "central-ca.crt"),
             BROKER_FILE)  # fmt: skip
    return done
