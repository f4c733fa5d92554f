"""A non-editable install works outside the checkout: the example branch,
the sign's firmware, the voice packs and the dashboard's CSS and script travel
as package data.

The install goes into a fresh venv that sees this venv's dependencies
through a ``.pth`` line (no download of the dependencies), from a copy of
the sources (so no build folder is left in the checkout); ``nidaa`` then runs
from a folder that is not the checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support import REPO

SOURCES = ("setup.py", "pyproject.toml", "appliance", "drivers", "firmware", "sounds")


@pytest.mark.slow
def test_pip_install_then_example_validate_and_demo_outside_the_checkout(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(REPO / name, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "nidaa-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shutil.rmtree(src)  # nothing may come from the sources any more

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    nidaa = str(venv / "bin" / "nidaa")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [nidaa, *argv], cwd=outside, capture_output=True, text=True, timeout=300
        )

    example = run("config", "example")
    assert example.returncode == 0, example.stderr
    (outside / "b.toml").write_text(example.stdout, encoding="utf-8")
    valid = run("config", "validate", "b.toml")
    assert valid.returncode == 0, valid.stderr
    where = subprocess.run(
        [python, "-c", "import appliance; print(appliance.__file__)"],
        cwd=outside, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv)), where
    # The dashboard's CSS and script are package data too.
    static = subprocess.run(
        [python, "-c", "from importlib import resources; w = resources.files("
         "'appliance.central.web') / 'static'; print('direction: rtl' in (w / 'dashboard.css')"
         ".read_text(), 'EventSource' in (w / 'dashboard.js').read_text())"],
        cwd=outside, capture_output=True, text=True,
    )  # fmt: skip
    assert static.stdout.split() == ["True", "True"], static.stderr

    demo = run("demo", "--minutes", "0.2", "--json", "--out", "demo-out")
    assert demo.returncode == 0, demo.stderr[-3000:]
    summary = json.loads(demo.stdout[demo.stdout.index("{") :])
    assert summary["tickets"] > 0 and summary["calls_made"] > 0
    out = outside / "demo-out"
    assert list((out / "display" / "audio").glob("call-*.wav")), "no voice pack installed"
    assert "w1:" in (out / "counter-displays.log").read_text(), "no sign firmware installed"
