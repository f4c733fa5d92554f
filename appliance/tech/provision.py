"""`nidaa provision`: the branch broker's configuration, users, ACL and TLS.

Writes into one directory, every file atomically:

``nidaa.conf``        Mosquitto settings (goes to /etc/mosquitto/conf.d/)
``dynamic-security.json``  users, hashed passwords, the client id each unit
                      is bound to and its rules (:mod:`appliance.tech.dynsec`)
``ca.crt`` ...        with ``--tls``: the branch CA and the server certificate
``broker-<n>/``       with ``broker.fallback_urls``: each further broker's
                      ``nidaa.conf`` and server certificate
                      (:mod:`appliance.tech.brokers`)
``credentials/<unit>.toml``      username, password, client id, broker URL, CA (0600)
``credentials/<unit>.password``  the password alone, for ``[broker] password_file``
``etcd/``             with ``[ha]``: the etcd members' TLS and settings
                      (:mod:`appliance.tech.etcd_files`)

Running it again keeps every existing password, the CA and the server key,
unless ``rotate`` is asked for: units already deployed keep working.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..bus.topics import Topics
from ..config import parse_broker_url
from ..config.branch import Config
from ..errors import NidaaError
from . import dynsec
from .accounts import Account, accounts
from .brokers import ACCOUNTS_LINE, broker_folder, broker_names, listeners
from .etcd_files import ensure_etcd_files
from .files import write_atomic

SECRET = 0o600
BROKER_FILE = 0o640  # root:mosquitto on the master Pi


@dataclass
class ProvisionOptions:
    out: Path
    tls: bool = False
    rotate: bool = False
    port: int = 1883
    tls_port: int = 8883
    bind: str = ""  #: address of the network listeners; empty: every interface
    tls_hosts: list[str] = field(default_factory=list)  #: extra names in the certificate
    #: Where the users file and certificates will be on the broker's machine; default: ``out``.
    conf_dir: Path | None = None
    #: Mosquitto's dynamic-security plugin; default: found in /usr/lib.
    plugin: Path | None = None
    #: Where the etcd members' and candidates' certificates will be (``[ha]``).
    etcd_dir: Path = Path("/etc/nidaa/etcd")


@dataclass
class ProvisionResult:
    accounts: list[Account]
    written: list[Path]
    unchanged: list[Path]
    new_passwords: list[str]  #: user names whose password was made in this run


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if not path and os.access(f"/usr/bin/{name}", os.X_OK):
        path = f"/usr/bin/{name}"
    if not path:
        raise NidaaError(f"{name} is not installed: apt-get install {package}")
    return path


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise NidaaError(f"{what} failed: {(done.stderr or done.stdout).strip()}")


def _existing_password(cred: Path) -> str | None:
    try:
        data = tomllib.loads(cred.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = data.get("password")
    return value if isinstance(value, str) and value else None


def _toml_str(value: str) -> str:
    # JSON string escaping is valid TOML basic-string escaping.
    return json.dumps(value, ensure_ascii=False)


def find_plugin() -> Path:
    """Mosquitto's dynamic-security plugin on this machine."""
    for pattern in dynsec.PLUGIN_GLOBS:
        for found in sorted(glob.glob(pattern)):
            return Path(found)
    raise NidaaError(
        "Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is not "
        "installed: apt-get install mosquitto (2.0 or later), or give its path with --plugin"
    )


def _ensure_tls(out: Path, cfg: Config, opts: ProvisionOptions) -> list[Path]:
    """Branch CA and server certificate, made once (or again with rotate)."""
    host, _, _ = parse_broker_url(cfg.broker.url)
    return ensure_tls(out, cfg.branch.id, [host, *opts.tls_hosts], rotate=opts.rotate)


def ensure_tls(out: Path, owner: str, hosts: list[str], *, rotate: bool) -> list[Path]:
    """A CA (``ca.key``, ``ca.crt``) and a server certificate signed by it for
    ``hosts`` (the first is its common name) and localhost, made once (or
    again with ``rotate``).  ``owner`` names the CA: a branch, or the centre."""
    openssl = _tool("openssl", "openssl")
    ca_key, ca_crt = out / "ca.key", out / "ca.crt"
    made: list[Path] = []
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    if rotate or not (ca_key.exists() and ca_crt.exists()):
        with tempfile.TemporaryDirectory(dir=out, prefix=".ca-") as tmp:
            key, crt = Path(tmp) / "ca.key", Path(tmp) / "ca.crt"
            _run(
                [openssl, "req", "-x509", *ec, "-keyout", str(key), "-out", str(crt),
                 "-days", "3650", "-subj", f"/O=Nidaa/CN=Nidaa {owner} CA"],
                "making the CA",
            )  # fmt: skip
            write_atomic(ca_key, key.read_bytes(), SECRET)
            write_atomic(ca_crt, crt.read_bytes(), 0o644)
        made += [ca_key, ca_crt]
    return made + ensure_server_cert(out, out, hosts, renew=bool(made))


def ensure_server_cert(ca_dir: Path, folder: Path, hosts: list[str], *, renew: bool) -> list[Path]:
    """``folder/server.key`` and ``server.crt`` for ``hosts`` (and localhost),
    signed by the CA in ``ca_dir``; made once, or again with ``renew`` (a new CA)."""
    srv_key, srv_crt = folder / "server.key", folder / "server.crt"
    if not renew and srv_key.exists() and srv_crt.exists():
        return []
    openssl = _tool("openssl", "openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    host = hosts[0]
    names = dict.fromkeys([host, "localhost", "127.0.0.1", *hosts[1:]])
    san = ",".join(
        f"IP:{n}" if n.replace(".", "").isdigit() or ":" in n else f"DNS:{n}" for n in names
    )
    with tempfile.TemporaryDirectory(dir=folder, prefix=".srv-") as tmp:
        key, csr, crt = (Path(tmp) / n for n in ("server.key", "server.csr", "server.crt"))
        ext = Path(tmp) / "ext.cnf"
        ext.write_text(
            f"subjectAltName={san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
        )
        _run(
            [openssl, "req", "-new", *ec, "-keyout", str(key), "-out", str(csr),
             "-subj", f"/O=Nidaa/CN={host}"],
            "making the server key",
        )  # fmt: skip
        _run(
            [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca_dir / "ca.crt"),
             "-CAkey", str(ca_dir / "ca.key"), "-set_serial", f"0x{secrets.token_hex(16)}",
             "-days", "1825", "-out", str(crt), "-extfile", str(ext)],
            "signing the server certificate",
        )  # fmt: skip
        write_atomic(srv_key, key.read_bytes(), BROKER_FILE)
        write_atomic(srv_crt, crt.read_bytes(), 0o644)
    return [srv_key, srv_crt]


def _mosquitto_conf(
    cfg: Config, opts: ProvisionOptions, conf_dir: Path, plugin: Path, name: str, url: str
) -> str:
    port, tls_port, bind_addr = listeners(
        url, tls=opts.tls, port=opts.port, tls_port=opts.tls_port, bind=opts.bind,
        first=name == "broker-1",
    )  # fmt: skip
    bind = f" {bind_addr}" if bind_addr else ""
    lines = [
        f"# Nidaa broker settings for branch {cfg.branch.id}; generated by `nidaa provision`.",
        f"# {name} ({url}): /etc/mosquitto/conf.d/nidaa.conf on its Pi, put there by",
        "# `nidaa install --role broker` (Debian's mosquitto.conf includes conf.d and",
        "# sets persistence_location and logging).",
        "allow_anonymous false",
        "# Users, passwords, rules, and the one client id each unit may use.",
        f"plugin {plugin}",
        f"{ACCOUNTS_LINE}{conf_dir / 'dynamic-security.json'}",
        "persistence true",
        "# Requests and answers are small packets: send them at once instead of",
        "# waiting for delayed ACKs (tens of milliseconds on every command).",
        "set_tcp_nodelay true",
        "",
    ]
    if opts.tls:
        lines += [
            "# Local daemons on this Pi may use plain MQTT on loopback only;",
            "# every other unit comes in over TLS.",
            f"listener {port} 127.0.0.1",
            "",
            f"listener {tls_port}{bind}",
            f"cafile {conf_dir / 'ca.crt'}",
            f"certfile {conf_dir / 'server.crt'}",
            f"keyfile {conf_dir / 'server.key'}",
            "tls_version tlsv1.2",
        ]
    else:
        lines += [f"listener {port}{bind}"]
    return "\n".join(lines) + "\n"


def provision(cfg: Config, opts: ProvisionOptions) -> ProvisionResult:
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    conf_dir = (opts.conf_dir or out).resolve()
    accs = accounts(cfg)
    host, _, _ = parse_broker_url(cfg.broker.url)
    url = f"mqtts://{host}:{opts.tls_port}" if opts.tls else f"mqtt://{host}:{opts.port}"
    written: list[Path] = []
    unchanged: list[Path] = []

    def put(path: Path, data: str | bytes, mode: int) -> None:
        (written if write_atomic(path, data, mode) else unchanged).append(path)

    made_tls = _ensure_tls(out, cfg, opts) if opts.tls else []
    written += made_tls
    ca_pem = (out / "ca.crt").read_text() if opts.tls else ""

    creds = out / "credentials"
    creds.mkdir(mode=0o700, exist_ok=True)
    passwords: dict[str, str] = {}
    fresh: list[str] = []
    for acc in accs:
        cred = creds / f"{acc.username}.toml"
        old = None if opts.rotate else _existing_password(cred)
        if old is None:
            fresh.append(acc.username)
        passwords[acc.username] = old or secrets.token_urlsafe(24)

    # Hashes are salted: an unchanged password keeps its old hash, so a
    # second run leaves the file as it was.
    users = out / dynsec.FILE
    try:
        before = dynsec.read_config(users.read_text(encoding="utf-8"))
    except OSError:
        before = None
    put(users, dynsec.config_json(Topics(cfg.branch.id), accs, passwords, before), BROKER_FILE)
    plugin = opts.plugin or find_plugin()
    for name, broker_url in broker_names(cfg):  # the same accounts on every broker
        folder = broker_folder(out, name)
        folder.mkdir(mode=0o700, exist_ok=True)
        if opts.tls and name != "broker-1":  # its own certificate, its own address
            written += ensure_server_cert(out, folder, [parse_broker_url(broker_url)[0]],
                                          renew=out / "ca.crt" in made_tls)  # fmt: skip
        conf = _mosquitto_conf(cfg, opts, conf_dir, plugin, name, broker_url)
        put(folder / "nidaa.conf", conf, 0o644)

    for acc in accs:
        bound = (
            "The broker accepts it only with this client id."
            if acc.client_id
            else "Each command connects with a client id of its own."
        )
        text = [
            f"# MQTT credential of {acc.role} {acc.username!r}, branch {cfg.branch.id}.",
            f"# Secret: readable by its owner only.  {bound}",
            f"username = {_toml_str(acc.username)}",
            f"role = {_toml_str(acc.role)}",
            f"client_id = {_toml_str(acc.client_id or '')}",
            f"password = {_toml_str(passwords[acc.username])}",
            f"broker_url = {_toml_str(url)}",
            f'ca_pem = """\n{ca_pem}"""' if ca_pem else 'ca_pem = ""',
        ]
        put(creds / f"{acc.username}.toml", "\n".join(text) + "\n", SECRET)
        put(creds / f"{acc.username}.password", passwords[acc.username] + "\n", SECRET)
    if cfg.ha is not None:  # the standby master's etcd members (docs/standby.md)
        made, kept = ensure_etcd_files(cfg, out, rotate=opts.rotate, openssl=_tool(
            "openssl", "openssl"), run=_run, etc_dir=opts.etcd_dir)  # fmt: skip
        written += made
        unchanged += kept
    return ProvisionResult(accs, written, unchanged, fresh)
