"""`uvicorn app.main:app`, the command FastAPI users try first, serves the app from settings
in the environment."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, save_tiny_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def ready(server: subprocess.Popen, port: int, seconds: float) -> dict:
    """/readyz's answer once the server on `port` gives one (the server must stay up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return json.load(r)
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the server did not get ready"
            time.sleep(0.2)


def translated(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/translate",
        data=json.dumps({"text": "我有一只猫。"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_uvicorn_serves_app_main_app(tmp_path: Path) -> None:
    save_tiny_checkpoint(tmp_path / "zh-en")
    port = free_port()
    environ = {
        **os.environ,
        "ATTNSCOPE_MODEL_DIR": str(tmp_path),
        "ATTNSCOPE_MODELS": '["zh-en"]',
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=environ, stderr=subprocess.PIPE)
    try:
        assert ready(server, port, 30) == {"status": "ready", "models": ["zh-en"]}
        assert translated(port)["model"] == "zh-en"
    finally:
        server.terminate()
        server.wait(timeout=10)


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="counts processes through /proc")
def test_serve_with_workers_runs_that_many_processes(tmp_path: Path) -> None:
    save_tiny_checkpoint(tmp_path / "zh-en")
    port = free_port()
    environ = {
        **os.environ,
        "ATTNSCOPE_MODEL_DIR": str(tmp_path),
        "ATTNSCOPE_MODELS": '["zh-en"]',
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=environ, stderr=subprocess.PIPE)
    try:
        assert ready(server, port, 60)["status"] == "ready"
        # uvicorn spawns each worker with multiprocessing (its resource tracker is a child too).
        workers = [
            child
            for child in children_of(server.pid)
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes().decode()
        ]
        assert len(workers) == 2
        for _ in range(4):
            assert translated(port)["model"] == "zh-en"
    finally:
        server.terminate()
        server.wait(timeout=20)
