"""The benchmark entry and the demo hook (the real daemon as a process)."""

from __future__ import annotations

import types
import wave
from pathlib import Path

from appliance.bus.client import BusClient, new_command_id
from appliance.config.branch import load_config
from appliance.hall.voice import VoicePack
from appliance.sim.bench.hall import bench_display
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from appliance.sim.hooks import BenchContext
from appliance.sim.roles.hall import HallSim, demo_role
from tests.support import write_config


def test_bench_reports_its_measurements(tmp_path: Path, broker: Mosquitto) -> None:
    path = write_config(tmp_path, broker.url)
    ctx = BenchContext(load_config(path), path, broker.url, tmp_path, samples=10)
    result = HallSim().bench(ctx)
    assert set(result) == {
        "display_frame_ms",
        "display_first_frame_ms",
        "display_cold_frame_ms",
        "call_to_announce_ms",
        "display_idle_cpu_pct",
    }
    assert all(value >= 0 for value in result.values())
    assert result["display_frame_ms"] > 0 and result["call_to_announce_ms"] > 0
    assert result["display_cold_frame_ms"] > 0
    assert set(bench_display()) == set(result)  # without a broker: through the handler


def test_demo_hook_runs_the_daemon_and_saves_shots_and_audio(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config_path = write_config(tmp_path, broker.url)
    cfg = load_config(config_path)
    ctx = types.SimpleNamespace(
        out=tmp_path / "out", config_path=config_path, broker_url=broker.url
    )
    daemon = demo_role(ctx, recorded_calls=2)
    uid = new_command_id("tool")
    tool = BusClient(cfg, role="tool", unit=uid, client_id=uid, presence=False)
    tool.start()
    try:
        assert tool.wait_connected(10)
        status = tool.topics.status("display", "d1")
        online: list[bool] = []
        tool.subscribe(status, lambda m: online.append(b'"online"' in m.payload))
        assert wait_until(lambda: any(online), 20), daemon.log()
        for i, (ticket, window) in enumerate([("A001", 1), ("B002", 4), ("C003", 5)]):
            payload = {"id": f"d{i}", "ticket": ticket, "window": window, "recall": 0}
            tool.publish(tool.topics.event("call"), payload).wait_for_publish(5)
        shots = ctx.out / "display" / "shots"
        audio = ctx.out / "display" / "audio"
        assert wait_until(lambda: len(list(audio.glob("call-*.wav"))) == 2, 20), daemon.log()
        assert wait_until(lambda: len(list(shots.glob("call-*.png"))) == 2, 20), daemon.log()
    finally:
        tool.stop()
        assert daemon.stop() == 0, daemon.log()
    assert sorted(p.name for p in shots.iterdir()) == ["call-0001-A001.png", "call-0002-B002.png"]
    with wave.open(str(audio / "call-0001.wav")) as w:
        pcm = w.readframes(w.getnframes())
    assert pcm == VoicePack(None, "ar").announcement("A001", 1)[1]


def test_under_systemd_the_daemon_says_ready_feeds_the_watchdog_and_stopping(
    tmp_path: Path, broker: Mosquitto
) -> None:
    import socket

    from appliance.sim.harness.procs import Daemon

    config = write_config(tmp_path, broker.url)
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(20)
    env = {
        "NOTIFY_SOCKET": str(sock_path),
        "WATCHDOG_USEC": "1000000",
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
    }
    args = ["display", "--config", str(config), "--headless", "--record-audio", str(tmp_path / "a")]
    display = Daemon(args, tmp_path / "display.log", env=env)
    try:
        with display:
            received = [sock.recv(4096).decode()]
            while not any("WATCHDOG=1" in r for r in received):
                received.append(sock.recv(4096).decode())
            assert display.stop() == 0, display.log()
            received.append(sock.recv(4096).decode())
    finally:
        sock.close()
    assert "READY=1" in received[0], display.log()
    assert "STOPPING=1" in received[-1]
