"""A day report's files: its CSV tables and its chart page (PNG and PDF)."""

from __future__ import annotations

from pathlib import Path

from ..config.branch import Config
from .files import write_atomic
from .report import build, read_rows, tables


def write_report(
    cfg: Config, db_path: Path, day: str, out: Path, *, priority_target_min: float = 10.0
) -> list[Path]:
    """Every CSV, PNG and the PDF of ``day`` into ``out``; returns the files."""
    from .charts import render_charts  # Pillow only when a report is made

    rep = build(cfg, read_rows(db_path, day), day, priority_target_min)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in tables(rep).items():
        write_atomic(out / name, text, 0o644)
        written.append(out / name)
    for name, data in render_charts(rep).items():
        write_atomic(out / name, data, 0o644)
        written.append(out / name)
    return written
