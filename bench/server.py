"""Start `attnscope serve` with the shipped models on a free loopback port, for the benchmarks."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, **settings: str) -> tuple[subprocess.Popen, float]:
    """Return the server process and the seconds from its start to a 200 from /readyz."""
    env = {**os.environ, "ATTNSCOPE_HOST": "127.0.0.1", "ATTNSCOPE_PORT": str(port)}
    env.update({f"ATTNSCOPE_{name.upper()}": value for name, value in settings.items()})
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    server.kill()
    raise SystemExit("the server did not become ready")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
