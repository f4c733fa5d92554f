"""`nidaa pack`: one Pi's part of the provisioning folder.  A pack holds
exactly what `nidaa install --from` reads for its units (installing from it
gives the same files as from the whole folder), never a CA key or another
unit's secret; bad input writes nothing."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import install_cmd
from appliance.cli.env import Environment
from appliance.cli.main import run
from tests.support import LinkedVenvImage, tree
from tests.support.etcd import packaged_image, provision_standby_branch

PI_B = ["etcd-2", "broker-2", "master-b"]


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    yield provision_standby_branch(tmp_path_factory.mktemp("provision"))


def nidaa(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def pack(prov: tuple[Path, Path], out: Path, *units: str) -> tuple[int, str, str]:
    return nidaa("pack", "--config", str(prov[0]), "--from", str(prov[1]), "--out", str(out),
                 *units)  # fmt: skip


def files(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_pi_b_gets_its_member_broker_and_candidate_and_no_ca_key(
    tmp_path: Path, provisioned: tuple[Path, Path]
) -> None:
    code, out, err = pack(provisioned, tmp_path / "pi-b", *PI_B)
    assert code == 0, err
    got = files(tmp_path / "pi-b")
    assert sorted(got) == [
        "broker-2/nidaa.conf", "broker-2/server.crt", "broker-2/server.key",
        "ca.crt",
        "credentials/master-b.password", "credentials/master-b.toml",
        "dynamic-security.json",
        "etcd/ca.crt", "etcd/client.crt", "etcd/client.key",
        "etcd/etcd-2.crt", "etcd/etcd-2.env", "etcd/etcd-2.key",
    ]  # fmt: skip
    # Each file as it was made; the secrets stay unreadable to others.
    whole = files(provisioned[1])
    assert all(got[f] == whole[f] for f in got)
    secrets = [f for f in got if f.endswith((".key", ".toml", ".password", "security.json"))]
    assert len(secrets) == 6 and all(got[f] & 0o007 == 0 for f in secrets)
    assert stat.S_IMODE((tmp_path / "pi-b").stat().st_mode) == 0o700
    for f in got:
        assert (tmp_path / "pi-b" / f).read_bytes() == (provisioned[1] / f).read_bytes()
    # The whole folder has both CA keys and every unit's password; the pack none of that.
    assert {"ca.key", "etcd/ca.key", "credentials/k1.toml"} <= set(whole)
    assert "13 files for etcd-2, broker-2, master-b" in out


def test_installing_from_the_pack_gives_what_the_whole_folder_gives(
    tmp_path: Path, provisioned: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install_cmd, "host_system", LinkedVenvImage)
    assert pack(provisioned, tmp_path / "pack", *PI_B)[0] == 0
    roots = {}
    for source in ("pack", "whole"):
        root = roots[source] = tmp_path / source / "root"
        packaged_image(root)
        top = tmp_path / "pack" if source == "pack" else provisioned[1]
        for role, unit in (("etcd", "etcd-2"), ("broker", "broker-2"), ("master", "master-b")):
            code, _, err = nidaa("install", "--role", role, "--unit", unit, "--config",
                                 str(provisioned[0]), "--root", str(root), "--from", str(top))  # fmt: skip
            assert code == 0, err
    assert tree(roots["pack"]) == tree(roots["whole"])
    assert (roots["pack"] / "etc/nidaa/etcd/etcd-2.key").is_file()
    # What the pack lacks cannot be installed from it: said, nothing changed.
    before = tree(roots["pack"])
    code, _, err = nidaa("install", "--role", "etcd", "--unit", "etcd-1", "--config",
                         str(provisioned[0]), "--root", str(roots["pack"]),
                         "--from", str(tmp_path / "pack"))  # fmt: skip
    assert code != 0 and "not in the provisioned folder" in err and "etcd-1.env" in err
    assert tree(roots["pack"]) == before


def test_a_kiosk_gets_its_credential_alone(tmp_path: Path, provisioned: tuple[Path, Path]) -> None:
    assert pack(provisioned, tmp_path / "k1", "k1", "k1")[0] == 0
    assert sorted(files(tmp_path / "k1")) == ["credentials/k1.password", "credentials/k1.toml"]


def test_bad_input_writes_nothing(tmp_path: Path, provisioned: tuple[Path, Path]) -> None:
    code, _, err = pack(provisioned, tmp_path / "x", "etcd-2", "etcd-9")
    assert code != 0 and "'etcd-9' is not a unit" in err and "etcd-1, etcd-2, etcd-3" in err
    assert not (tmp_path / "x").exists()
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("a technician's file\n")
    code, _, err = pack(provisioned, used, "k1")
    assert code != 0 and "not an empty folder" in err
    assert [p.name for p in used.iterdir()] == ["old.txt"]
    code, _, err = nidaa("pack", "--config", str(provisioned[0]), "--from",
                         str(tmp_path / "nowhere"), "--out", str(tmp_path / "y"), "k1")  # fmt: skip
    assert code != 0 and "is not a folder" in err and not (tmp_path / "y").exists()
    # A provisioning folder that lacks a unit's file (provisioned for another branch file).
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "credentials").mkdir()
    code, _, err = pack((provisioned[0], partial), tmp_path / "z", "k1")
    assert code != 0 and "k1.toml" in err and not (tmp_path / "z").exists()
