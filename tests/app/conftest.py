"""Fixtures shared by the app's tests."""

from pathlib import Path

import pytest

from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory with tiny translators both ways and a tiny GPT."""
    directory = tmp_path_factory.mktemp("models")
    for direction in ("zh-en", "en-zh"):
        save_tiny_checkpoint(directory / direction, direction)
    save_tiny_gpt_checkpoint(directory / "gpt")
    return directory
