"""Batched greedy decoding against one source at a time."""

import pytest

from model.batched import greedy_batch
from model.decoding import DecodingOptions, decode
from model.transformer import Transformer
from tests.model.test_decoding import BOS, SRC


def test_batched_greedy_equals_one_at_a_time(transformer: Transformer) -> None:
    sources = [SRC, [7, 8], [9, 10, 11, 12, 13, 14, 15, 16]]  # different lengths: padding
    batched = greedy_batch(transformer, sources, max_new_tokens=8)
    for src, out in zip(sources, batched, strict=True):
        alone = decode(transformer, src, BOS, DecodingOptions(max_new_tokens=8)).output_ids
        assert out == [t for t in alone if t != 2]


def test_batched_greedy_keeps_each_sources_own_limit(transformer: Transformer) -> None:
    sources = [SRC, [7, 8], [9, 10, 11, 12, 13, 14, 15, 16]]
    limits = [3, 1, 9]
    batched = greedy_batch(transformer, sources, max_new_tokens=limits)
    for src, limit, out in zip(sources, limits, batched, strict=True):
        alone = decode(transformer, src, BOS, DecodingOptions(max_new_tokens=limit)).output_ids
        assert out == [t for t in alone if t != 2] and len(out) <= limit
    for wrong in ([3, 4], [3, 0, 9]):
        with pytest.raises(ValueError, match="one limit of at least 1 per source"):
            greedy_batch(transformer, sources, max_new_tokens=wrong)
