"""A day report's files: its CSV tables, its SVG charts and its PDF page."""

from __future__ import annotations

from pathlib import Path

from ..config.branch import Config
from .files import write_atomic
from .report import build, read_rows, tables


def write_report(
    cfg: Config, db_path: Path, day: str, out: Path, *, priority_target_min: float = 10.0
) -> list[Path]:
    """Every CSV, the SVG charts and the PDF of ``day`` into ``out``; returns the files.
    ``NoDataError`` (nothing written) for a day without tickets."""
    from .report_pdf import chart_svgs, render_pdf  # WeasyPrint only when a report is made

    rep = build(cfg, read_rows(db_path, day), day, priority_target_min)
    files: dict[str, str | bytes] = {**tables(rep), **chart_svgs(rep)}
    files["report.pdf"] = render_pdf(rep)  # before anything is written: all or nothing
    return write_files(out, files)


def write_files(out: Path, files: dict[str, str | bytes]) -> list[Path]:
    """A report's files, all made beforehand, into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        write_atomic(out / name, data, 0o644)
        written.append(out / name)
    return written
