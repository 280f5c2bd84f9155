"""Fixtures of the training tests."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Train a tiny model on one thread (as the recipes' tiny runs do with --threads 1): with
    two, a model this small spends its time handing work between them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
