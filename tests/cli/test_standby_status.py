"""`nidaa status` on a standby branch: the summary taken from the masters'
statuses and the line a technician reads, with etcd's health aged."""

from __future__ import annotations

from typing import Any

from appliance.cli.queue_cmds import standby_line, standby_summary


def _master(unit: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"role": "master", "unit": unit, "state": state, **extra}


def test_the_active_masters_view_is_shown_with_its_standbys_lag() -> None:
    units = [
        _master("master-b", "standby", etcd_up=1, etcd_members=3, etcd_checked_s=0.4),
        _master(
            "master-a",
            "online",
            lag={"master-b": 2},
            etcd_up=3,
            etcd_members=3,
            etcd_checked_s=1.2,
            log_seq=40,
        ),
        {"role": "kiosk", "unit": "k1", "state": "online"},
    ]
    summary = standby_summary(units)
    assert summary["active"] == "master-a" and summary["log_seq"] == 40
    line = standby_line(summary)
    assert line == (
        "standby: active master master-a; master-b 2 entries behind; etcd 3/3 members up"
    )


def test_an_old_etcd_look_says_how_old_it_is() -> None:
    summary = standby_summary(
        [_master("master-a", "online", etcd_up=2, etcd_members=3, etcd_checked_s=37.6)]
    )
    assert standby_line(summary).endswith("etcd 2/3 members up (checked 38 s ago)")
    fresh = dict(summary, etcd_checked_s=10.0)
    assert "checked" not in standby_line(fresh)


def test_no_active_master_is_said_plainly_from_a_standbys_status() -> None:
    units = [
        _master("master-a", "offline", etcd_up=3, etcd_members=3),
        _master("master-b", "standby", etcd_up=1, etcd_members=3, etcd_checked_s="?"),
    ]
    summary = standby_summary(units)
    assert summary["active"] is None and summary["lag"] == {}
    line = standby_line(summary)
    assert line == "standby: active master NONE; no standby lag known; etcd 1/3 members up"
