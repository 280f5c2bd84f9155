"""The container's health check: the URL it asks, and its exit status against a live server."""

import socket
import threading

import pytest
import uvicorn

from app import healthcheck
from app.main import create_app
from app.settings import Settings
from tests.conftest import save_tiny_checkpoint


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, "http://127.0.0.1:8000/healthz"),
        ({"ATTNSCOPE_HOST": "0.0.0.0", "ATTNSCOPE_PORT": "9000"}, "http://127.0.0.1:9000/healthz"),
        ({"ATTNSCOPE_HOST": "::"}, "http://127.0.0.1:8000/healthz"),
        ({"ATTNSCOPE_HOST": "::1"}, "http://[::1]:8000/healthz"),
        ({"ATTNSCOPE_HOST": "10.1.2.3"}, "http://10.1.2.3:8000/healthz"),
    ],
)
def test_healthz_url(environ: dict, url: str) -> None:
    assert healthcheck.healthz_url(environ) == url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exit_status_follows_the_server(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTNSCOPE_HOST", "127.0.0.1")
    monkeypatch.setenv("ATTNSCOPE_PORT", str(closed_port()))
    assert healthcheck.main() == 1  # nothing listens there

    save_tiny_checkpoint(tmp_path / "zh-en", "zh-en")
    app = create_app(Settings(model_dir=tmp_path, models=["zh-en"]))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            thread.join(0.05)
        monkeypatch.setenv("ATTNSCOPE_PORT", str(server.servers[0].sockets[0].getsockname()[1]))
        assert healthcheck.main() == 0
    finally:
        server.should_exit = True
        thread.join(timeout=10)
