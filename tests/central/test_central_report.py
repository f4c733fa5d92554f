"""`nidaa report --central DSN`: every branch side by side from a real
private PostgreSQL, for a day and a range; exact figures, charts, the PDF's
text, and the exit codes of the branch report."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from appliance.central import report
from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.sim.harness.postgres import Postgres
from tests.support.dashboard import HOSTILE_NAME

DAY1, DAY2 = "2026-11-29", "2026-11-30"
#: 10:00 in Cairo (UTC+2) on DAY2.
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _ticket(conn: psycopg.Connection[Any], branch: str, tid: int, day: str, service: str,
            state: str, issued_min: float, call_min: float | None = None,
            end_min: float | None = None, rating: str | None = None,
            origin: int | None = None) -> None:  # fmt: skip
    def at(minutes: float | None) -> datetime | None:
        base = T0 - timedelta(days=1) if day == DAY1 else T0
        return None if minutes is None else base + timedelta(minutes=minutes)

    conn.execute(
        "INSERT INTO tickets (branch, ticket_id, business_day, number, label, service, priority,"
        " state, issued_at, first_called_at, called_at, served_at, finished_at, counter,"
        " recalls, rating, seq, origin_id) VALUES (%s, %s, %s, %s, %s, %s, false, %s, %s, %s,"
        " %s, %s, %s, 'c1', 0, %s, %s, %s)",
        (branch, tid, day, tid, f"A{tid:03d}", service, state, at(issued_min), at(call_min),
         at(call_min), at(call_min) if state == "served" else None, at(end_min), rating, tid,
         origin),
    )  # fmt: skip


def _fill(conn: psycopg.Connection[Any]) -> None:
    for b, ar in (("giza-dokki", "مركز الدقي"), ("alex-raml", HOSTILE_NAME),
                  ("quiet", "مركز بلا تذاكر")):  # fmt: skip
        conn.execute("INSERT INTO branches (branch, name_ar) VALUES (%s, %s)", (b, ar))
    conn.execute("INSERT INTO services VALUES ('giza-dokki', 'civil', 'السجل المدني', '', 600)")
    g = "giza-dokki"
    # DAY2 at giza-dokki, civil (target 10 min); closing = the last stamp, minute 40.
    _ticket(conn, g, 1, DAY2, "civil", "served", 0, 5, 8, "satisfied")  # wait 5, service 3
    _ticket(conn, g, 2, DAY2, "civil", "no_show", 0, 15, 16)  # wait 15: late
    _ticket(conn, g, 3, DAY2, "civil", "waiting", 10)  # never called: 30 until closing
    _ticket(conn, g, 4, DAY2, "civil", "voided", 20, None, 21)  # left out of the waits
    _ticket(conn, g, 5, DAY2, "civil", "transferred", 30, 31, 33)  # wait 1, then...
    _ticket(conn, g, 6, DAY2, "pension", "served", 33, 35, 40, "unsatisfied", origin=5)
    # DAY1 at giza-dokki, DAY2 at alex-raml (no services row: the default target, 15 min).
    _ticket(conn, g, 7, DAY1, "civil", "served", 0, 20, 30)
    _ticket(conn, "alex-raml", 1, DAY2, "pension", "served", 0, 12, 14, "neutral")
    conn.commit()


def _report(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["report", *argv, "--out", str(tmp_path / "out")],
               Environment(stdout=out, stderr=err, environ={}))  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return {r[next(iter(r))]: r for r in csv.DictReader(f)}


def test_one_day_figures_charts_and_pdf(store: Postgres, store_db: psycopg.Connection[Any],
                                        tmp_path: Path) -> None:  # fmt: skip
    _fill(store_db)
    code, out, err = _report(tmp_path, "--central", store.dsn, "--day", DAY2)
    assert code == ExitCode.OK, err
    folder = tmp_path / "out"
    assert {Path(p).name for p in out.split()} == {
        "branches.csv", "services.csv", "tickets_per_day.csv", "wait_distribution.csv",
        "tickets_per_branch.svg", "mean_wait_per_branch.svg", "wait_distribution.svg",
        "report.pdf",
    }  # fmt: skip
    rows = _rows(folder / "branches.csv")
    assert list(rows) == ["alex-raml", "giza-dokki", "quiet", "all"]
    g = rows["giza-dokki"]
    # Five citizens (ticket 6 continues ticket 5 after its transfer, as in the
    # branch report): five visits = 2 served + 1 no-show + 1 voided + 1 still in.
    assert (g["tickets"], g["transfers_in"], g["visits"], g["served"], g["no_shows"],
            g["voided"], g["still_in"], g["transfers"]) == (
        "5", "1", "5", "2", "1", "1", "1", "1")  # fmt: skip
    # Waits of the arrivals 5, 15, 30 (never called), 1 (the transferred citizen
    # waited once); within target: civil 10 min.
    assert g["mean_wait_min"] == f"{(5 + 15 + 30 + 1) / 4:.1f}"
    assert g["p90_wait_min"] == "30.0"
    assert g["within_target"] == f"{2 / 4:.3f}"
    assert g["mean_service_min"] == f"{(3 + 2 + 5) / 3:.1f}"
    assert (g["feedback_satisfied"], g["feedback_unsatisfied"]) == ("1", "1")
    assert rows["quiet"]["tickets"] == "0"
    assert rows["all"]["tickets"] == "6" and rows["all"]["served"] == "3"
    services = list(csv.DictReader((folder / "services.csv").open(encoding="utf-8")))
    civil = next(r for r in services if r["branch"] == g["branch"] and r["service"] == "civil")
    assert (civil["tickets"], civil["name_ar"]) == ("5", "السجل المدني")
    pension = next(r for r in services if r["branch"] == g["branch"] and r["service"] == "pension")
    # Tickets + transfers in = served + no-shows + voided + still in + transfers out.
    assert (pension["tickets"], pension["transfers_in"], pension["served"]) == ("0", "1", "1")
    per_day = list(csv.reader((folder / "tickets_per_day.csv").open(encoding="utf-8")))
    assert per_day == [["business_day", "alex-raml", "giza-dokki", "quiet", "total"],
                       [DAY2, "1", "5", "0", "6"]]  # fmt: skip
    svg = (folder / "tickets_per_branch.svg").read_text()
    assert [int(v) for v in _bars(svg)] == [1, 5]  # numbered as branches.csv; 0 draws no bar
    text = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    text = re.sub("[\u202a-\u202e\u200e\u200f]", "", text)  # pdftotext's direction marks
    assert "مركز الدقي" in text and "giza-dokki" in text and "المدني" in text
    # The hostile name printed as text, never taken as markup (bidi moves its "<").
    assert "img src=x onerror=" in text


def _bars(svg: str) -> list[str]:
    return re.findall(r'class="bar"[^>]*data-value="(\d+)"', svg)


def test_a_range(store: Postgres, store_db: psycopg.Connection[Any], tmp_path: Path) -> None:
    _fill(store_db)
    code, _, err = _report(tmp_path, "--central", store.dsn, "--from", DAY1, "--to", DAY2)
    assert code == ExitCode.OK, err
    per_day = list(csv.reader((tmp_path / "out" / "tickets_per_day.csv").open(encoding="utf-8")))
    assert per_day[1:] == [[DAY1, "0", "1", "0", "1"], [DAY2, "1", "5", "0", "6"]]
    assert _rows(tmp_path / "out" / "branches.csv")["giza-dokki"]["tickets"] == "6"
    # A master of an earlier release sent no origin_id: its continuation counts as a ticket.
    store_db.execute("UPDATE tickets SET origin_id = NULL")
    store_db.commit()
    giza = report.read(store_db, date.fromisoformat(DAY2), date.fromisoformat(DAY2)).branches
    assert (giza["giza-dokki"].tickets, giza["giza-dokki"].visits) == (6, 5)


def test_no_data_bad_usage_and_unreachable(store: Postgres, store_db: psycopg.Connection[Any],
                                           tmp_path: Path) -> None:  # fmt: skip
    _fill(store_db)
    code, _, err = _report(tmp_path, "--central", store.dsn, "--day", "2026-01-01")
    assert code == ExitCode.NO_DATA and "no tickets" in err
    assert not (tmp_path / "out").exists()
    for argv in (["--central", store.dsn], ["--central", store.dsn, "--from", DAY1],
                 ["--central", store.dsn, "--day", DAY2, "--config", "b.toml"],
                 ["--central", store.dsn, "--from", DAY2, "--to", DAY1],
                 ["--day", DAY2, "--from", DAY1, "--to", DAY2, "--config", "b.toml"]):  # fmt: skip
        code, _, err = _report(tmp_path, *argv)
        assert code in (ExitCode.USAGE, ExitCode.ERROR) and err, argv
    code, _, err = _report(tmp_path, "--central", "host=127.0.0.1 port=1 dbname=x", "--day", DAY2)
    assert code == ExitCode.UNREACHABLE and "central store" in err
    assert not (tmp_path / "out").exists()

