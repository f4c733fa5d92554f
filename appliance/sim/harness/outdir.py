"""The output folder of a demo, chaos or bench run.

A run writes only under its ``--out`` folder, and starts from an empty one:
files of an earlier run (paper, journals, logs) would be counted again.  A
folder that an earlier run made (it holds :data:`MARK`) is emptied; any other
non-empty folder is refused, so that ``--out ~`` never deletes anything of
the user's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ...errors import UsageError

MARK = ".nidaa-run"


def fresh_out(out: Path) -> Path:
    """``out`` created or emptied, with the mark of a run; raises
    :class:`UsageError` for a folder that holds other files."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARK).is_file():
            raise UsageError(
                f"--out {out} is not empty and holds no earlier run: choose a new or empty folder"
            )
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARK).write_text("made by a nidaa demo/chaos/bench run; emptied by the next\n")
    return out
