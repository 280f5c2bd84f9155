"""bench/lean_step.py bounds what the model's structure costs, so it must compute what the model
computes: the same tokens and the same attention, checked here on a tiny model."""

import sys
from pathlib import Path

import pytest
import torch

from model.transformer import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lean_step import check_against_model, lean_greedy, lean_layers  # noqa: E402

SRC = [5, 6, 7, 8, 9, 10]


def test_lean_decode_equals_the_model(transformer: Transformer) -> None:
    layers = lean_layers(transformer)
    length = check_against_model(transformer, layers, SRC)
    tokens, attention = lean_greedy(transformer, layers, SRC, length)
    assert len(tokens) == len(attention) == length
    for t, step in enumerate(attention):
        self_probs, cross_probs = step[0], step[1]  # decoder.0.self, decoder.0.cross
        assert self_probs.shape == (4, 1, t + 1)
        assert cross_probs.shape == (4, 1, len(SRC))
        torch.testing.assert_close(self_probs.sum(-1), torch.ones(4, 1))


def test_a_lean_decode_that_differs_from_the_model_is_refused(transformer: Transformer) -> None:
    layers = lean_layers(transformer)
    layers[1].qkv_b = layers[1].qkv_b + 0.05
    with pytest.raises(AssertionError):
        check_against_model(transformer, layers, SRC)
