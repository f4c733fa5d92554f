"""`nidaa report` from a master database: exact figures, charts, one-page PDF."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import load_config
from appliance.master.store import Store
from appliance.queue.engine import QueueEngine
from appliance.tech.report_files import write_report
from appliance.tech.report_svg import bar_chart
from tests.support import EXAMPLE_CONFIG

CAIRO = ZoneInfo("Africa/Cairo")
DAY = "2026-11-30"

# The master's ticket table, exactly as the lead's schema declares it.
SCHEMA = """CREATE TABLE tickets (
    id INTEGER PRIMARY KEY, number INTEGER NOT NULL, label TEXT NOT NULL,
    service TEXT NOT NULL, priority INTEGER NOT NULL, business_day TEXT NOT NULL,
    issued_at REAL NOT NULL, state TEXT NOT NULL, called_at REAL, first_called_at REAL,
    served_at REAL, finished_at REAL, counter TEXT, recalls INTEGER NOT NULL DEFAULT 0,
    origin_id INTEGER REFERENCES tickets(id), reason TEXT, rating TEXT)"""


def at(hhmm: str, day: str = DAY) -> float:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=CAIRO).timestamp()


def t(hhmm: str | None) -> float | None:
    return None if hhmm is None else at(hhmm)


# id, label, service, prio, issued, state, first_called, served_at, finished, counter,
# origin, rating
ROWS = [
    (1, "A001", "building", 0, "09:05", "served", "09:10", "09:10", "09:20", "w2", None, "satisfied"),
    (2, "A002", "building", 1, "09:30", "served", "09:45", "09:45", "10:00", "w1", None, "neutral"),
    (3, "B001", "reconcile", 1, "10:10", "no_show", "10:15", None, "10:20", "w1", None, None),
    (4, "C001", "shops", 0, "10:20", "transferred", "10:22", None, "10:30", "w5", None, None),
    (5, "C001", "utilities", 0, "10:20", "served", "10:40", "10:40", "10:50", "w6", 4, "unsatisfied"),
    (6, "E001", "inquiries", 1, "11:00", "voided", None, None, "11:01", None, None, None),
    (7, "D001", "utilities", 1, "11:05", "waiting", None, None, None, None, None, None),
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "master.db"
    with sqlite3.connect(path) as conn:
        conn.execute(SCHEMA)
        for r in ROWS:
            tid, label, svc, prio, issued, state, first, served, fin, ctr, origin, rating = r
            conn.execute(
                "INSERT INTO tickets (id, number, label, service, priority, business_day, "
                "issued_at, state, called_at, first_called_at, served_at, finished_at, counter, "
                "origin_id, rating) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (tid, int(label[1:]), label, svc, prio, DAY, at(issued), state, t(first),
                 t(first), t(served), t(fin), ctr, origin, rating),
            )  # fmt: skip
        # Another day's ticket must not count.
        conn.execute(
            "INSERT INTO tickets (id, number, label, service, priority, business_day, issued_at, "
            "state) VALUES (8, 9, 'A009', 'building', 0, '2026-11-29', ?, 'waiting')",
            (at("12:00", "2026-11-29"),),
        )
    return path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open()))


def test_figures_of_a_known_day(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_report(load_config(EXAMPLE_CONFIG), db, DAY, out)
    summary = dict(read_csv(out / "summary.csv"))
    assert summary["tickets"] == "6"  # the transfer continues C001's visit
    # Where each visit stood at closing (C001 served after its transfer): sums to 6.
    assert summary["served"] == "3" and summary["no_shows"] == "1"
    assert summary["voided"] == "1" and summary["waiting_at_close"] == "1"
    assert summary["transferred"] == "1"  # visits that went through a transfer
    # D001 never called: it waited from 11:05 to the day's last activity (11:05).
    assert summary["never_called"] == "1"
    assert summary["mean_wait_min"] == "5.4"  # (5 + 15 + 5 + 2 + 0) / 5
    assert summary["mean_wait_called_min"] == "6.8"  # (5 + 15 + 5 + 2) / 4
    assert summary["p90_wait_min"] == "15.0"
    assert summary["mean_service_min"] == "10.8"  # (10 + 15 + 8 + 10) / 4
    # Priority: A002 late (15 min), B001 on time, D001 never called, E001 voided (left out).
    assert summary["priority_tickets"] == "3"
    assert summary["priority_called_within_target"] == "1"
    assert summary["priority_service_level"] == "0.333"
    assert [summary[f"feedback_{r}"] for r in ("satisfied", "neutral", "unsatisfied")] == [
        "1", "1", "1",
    ]  # fmt: skip

    hours = read_csv(out / "tickets_per_hour.csv")
    assert hours[0] == ["hour", "building", "reconcile", "shops", "utilities", "inquiries", "total"]
    assert hours[1:] == [
        ["9", "2", "0", "0", "0", "0", "2"],
        ["10", "0", "1", "1", "0", "0", "2"],
        ["11", "0", "0", "0", "1", "1", "2"],
    ]
    services = {r[0]: r for r in read_csv(out / "services.csv")}
    assert services["building"][1:5] == ["2", "0", "2", "0"]  # tickets, in, served, no-shows
    assert services["building"][8] == "10.0"  # mean wait (5 + 15) / 2
    assert services["shops"][5] == "1"  # transferred out
    assert services["utilities"][1:4] == ["1", "1", "1"]  # D001; C001 transferred in, served
    assert services["utilities"][7] == "1"  # D001 still waiting
    assert services["reconcile"][-2:] == [
        "التصالح في مخالفات البناء",
        "Building violations settlement",
    ]
    for row in list(services.values())[1:]:  # per service: tickets + in = every outcome
        n = [int(v) for v in row[1:8]]
        assert n[0] + n[1] == sum(n[2:])
    counters = {r[0]: r for r in read_csv(out / "counters.csv")}
    assert counters["w1"][1:5] == ["1", "1", "1", "0"]  # window 1: served 1, no-show 1
    assert counters["w1"][6:] == ["0", "1", "0"]
    assert counters["w5"][4] == "1" and counters["w6"][2] == "1"
    assert counters["w3"][2:5] == ["0", "0", "0"]  # an idle window is still listed
    dist = read_csv(out / "time_distribution.csv")
    assert dist[1] == ["0-5", "2", "0"]  # C001 waited 2 min, D001 0 (never called, until 11:05)
    assert dist[2] == ["5-10", "2", "1"]  # A001, B001 waited 5; C001 served 8 at shops
    assert sum(int(r[1]) for r in dist[1:]) == 5  # every ticket but the voided one


def test_priority_target_is_configurable(db: Path, tmp_path: Path) -> None:
    write_report(load_config(EXAMPLE_CONFIG), db, DAY, tmp_path, priority_target_min=15)
    summary = dict(read_csv(tmp_path / "summary.csv"))
    assert summary["priority_service_level"] == "0.667"


def pdf_text(pdf: Path) -> str:
    result = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
    # pdftotext marks the direction of runs with bidi embedding characters.
    return re.sub("[\u202a-\u202e\u200e\u200f]", "", result.stdout.decode())


def test_svg_charts_and_one_page_pdf_of_real_text(db: Path, tmp_path: Path) -> None:
    files = write_report(load_config(EXAMPLE_CONFIG), db, DAY, tmp_path)
    names = {p.name for p in files}
    assert {"tickets_per_hour.svg", "wait_distribution.svg", "counters.svg",
            "service_time_distribution.svg", "report.pdf"} <= names  # fmt: skip
    svg = ET.parse(tmp_path / "counters.svg").getroot()
    assert svg.tag.endswith("svg")
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(tmp_path / "report.pdf")], capture_output=True, text=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M)  # one printable page
    text = pdf_text(tmp_path / "report.pdf")
    # (pdftotext may move the neutral "-" of the centre's name within its line)
    assert "المركز التكنولوجي لخدمة المواطنين" in text and "حي الدقي" in text
    assert "التصالح في مخالفات البناء" in text  # full names, real text
    assert "الاستعلامات واستلام الطلبات المنتهية" in text
    assert "Building violations" not in text  # English only where the branch enables it
    assert "آراء المواطنين" in text


def test_english_beside_the_arabic_where_the_branch_enables_it(db: Path, tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    cfg = dataclasses.replace(cfg, branch=dataclasses.replace(cfg.branch, report_english=True))
    write_report(cfg, db, DAY, tmp_path)
    text = pdf_text(tmp_path / "report.pdf")
    words = " ".join(text.split())
    assert "Building violations settlement" in words and "التصالح في مخالفات البناء" in words
    info = subprocess.run(["pdfinfo", str(tmp_path / "report.pdf")], capture_output=True, text=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M)  # still one page
    assert "Day report" in text and "تقرير يوم" in text


def test_no_feedback_is_not_no_tickets(db: Path, tmp_path: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tickets SET rating = NULL")
    write_report(load_config(EXAMPLE_CONFIG), db, DAY, tmp_path)
    text = pdf_text(tmp_path / "report.pdf")
    assert "لم يسجل أي رأي اليوم" in text


def test_bar_heights_are_proportional_to_values() -> None:
    svg = ET.fromstring(bar_chart(["a", "b", "c"], [1, 2, 4]))
    bars = [el for el in svg.iter() if el.get("class") == "bar"]
    heights = [float(el.attrib["height"]) for el in bars]
    assert [int(el.attrib["data-value"]) for el in bars] == [1, 2, 4]
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.2)
    assert heights[2] == pytest.approx(4 * heights[0], abs=0.2)
    assert heights[0] > 30


def test_report_of_a_day_run_by_the_real_engine(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    store = Store(tmp_path / "master.db")
    engine = QueueEngine(cfg.branch, cfg.services, cfg.counters, cfg.policy)

    def apply(op: object) -> None:
        with store.transaction():
            store.write_changes(engine.state, engine.take_changes())

    start = at("09:00")
    for i in range(10):
        apply(engine.issue("building" if i % 2 else "shops", i == 3, start + 60 * i))
    minute = start + 600  # the priority ticket (09:03) is called first, at 09:10
    for _ in range(12):  # more calls than tickets: the last ones find nobody
        apply(engine.call_next("w1", minute))
        minute += 240
    ticket = engine.issue("inquiries", False, minute)
    apply(ticket)
    apply(engine.call_next("w6", minute + 60))
    apply(engine.no_show("w6", minute + 300))
    store.close()

    out = tmp_path / "report"
    write_report(cfg, tmp_path / "master.db", engine.business_day(start), out)
    summary = dict(read_csv(out / "summary.csv"))
    assert summary["tickets"] == "11" and summary["served"] == "10"
    assert summary["no_shows"] == "1"
    assert summary["priority_tickets"] == "1" and summary["priority_service_level"] == "1.000"
    counters = {r[0]: r for r in read_csv(out / "counters.csv")}
    assert counters["w1"][2] == "10" and counters["w6"][3] == "1"
    assert summary["mean_service_min"] == "4.0"


def nidaa(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(args, Environment(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def test_cli(db: Path, tmp_path: Path) -> None:
    base = ["report", "--config", str(EXAMPLE_CONFIG), "--out", str(tmp_path / "r")]
    code, out, _ = nidaa([*base, "--day", DAY, "--db", str(db)])
    assert code == 0 and "report.pdf" in out
    code, _, err = nidaa([*base, "--day", DAY, "--db", str(tmp_path / "none.db")])
    assert code == 1 and "no master database" in err
    with pytest.raises(SystemExit) as exc:
        nidaa([*base, "--day", "30/11/2026", "--db", str(db)])
    assert exc.value.code == 2


def test_a_day_without_tickets_says_so_and_writes_nothing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, stdout, err = nidaa(
        ["report", "--config", str(EXAMPLE_CONFIG), "--out", str(out), "--day", "2026-12-01",
         "--db", str(db)]
    )  # fmt: skip
    assert code == ExitCode.NO_DATA == 8
    assert "no tickets for 2026-12-01" in err and "nothing written" in err
    assert stdout == "" and not out.exists()
