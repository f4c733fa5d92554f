"""A run's --out folder: emptied when an earlier run made it, refused otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.errors import UsageError
from appliance.sim.harness.outdir import MARK, fresh_out


def test_an_earlier_run_is_emptied_and_other_folders_are_refused(tmp_path: Path) -> None:
    out = fresh_out(tmp_path / "run")
    (out / "units/k1/tickets").mkdir(parents=True)
    (out / "units/k1/tickets/A001.png").write_bytes(b"paper of the first run")
    again = fresh_out(out)
    assert sorted(p.name for p in again.iterdir()) == [MARK]  # nothing of the first run counts

    mine = tmp_path / "home"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(UsageError, match="holds no earlier run"):
        fresh_out(mine)
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_the_demo_refuses_a_foreign_folder_before_starting_anything(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep")
    err = io.StringIO()
    code = run(
        ["demo", "--chaos", "--out", str(tmp_path)], Environment(stdout=io.StringIO(), stderr=err)
    )
    assert code == ExitCode.USAGE and "holds no earlier run" in err.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
