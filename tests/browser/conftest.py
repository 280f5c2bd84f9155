"""A live uvicorn on a free port with tiny models, for the page tests."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint

MODELS = ["zh-en", "en-zh", "gpt"]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    for direction in ("zh-en", "en-zh"):
        save_tiny_checkpoint(models / direction, direction)
    save_tiny_gpt_checkpoint(models / "gpt", max_len=160)  # room for a three-shot prompt
    return models


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app with these settings on a free port, until the block ends; yields its URL."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server_url(model_dir: Path) -> Iterator[str]:
    with serve(Settings(model_dir=model_dir, models=MODELS)) as url:
        yield url
