"""The model's structure: golden site names, trace shapes, masks, positional encoding."""

import math

import pytest
import torch

from model.config import TransformerConfig
from model.layers import positional_encoding
from model.trace import AttentionTrace
from model.transformer import GPT, Transformer, build_model, parameter_count
from tests.conftest import tiny_config

ENCODER_DECODER_SITES = [
    "encoder.0.self",
    "encoder.1.self",
    "decoder.0.self",
    "decoder.0.cross",
    "decoder.1.self",
    "decoder.1.cross",
]
DECODER_ONLY_SITES = ["decoder.0.self", "decoder.1.self"]


def test_golden_site_names_encoder_decoder(transformer: Transformer) -> None:
    trace = AttentionTrace()
    transformer(torch.tensor([[5, 6, 7]]), torch.tensor([[1, 8, 9, 10]]), trace)
    assert trace.names() == ENCODER_DECODER_SITES


def test_golden_site_names_decoder_only(gpt: GPT) -> None:
    trace = AttentionTrace()
    gpt(torch.tensor([[1, 5, 6, 7]]), trace)
    assert trace.names() == DECODER_ONLY_SITES


def test_trace_shapes_rows_and_masks(transformer: Transformer) -> None:
    src, tgt = torch.tensor([[5, 6, 7, 8, 9]]), torch.tensor([[1, 8, 9]])
    trace = AttentionTrace()
    transformer(src, tgt, trace)
    assert trace["encoder.0.self"].shape == (4, 5, 5)  # (H, source, source)
    assert trace["decoder.0.self"].shape == (4, 3, 3)  # (H, target, target)
    assert trace["decoder.1.cross"].shape == (4, 3, 5)  # (H, target, source)
    for name in trace.names():
        torch.testing.assert_close(trace[name].sum(-1), torch.ones(trace[name].shape[:-1]))
    for name in ("decoder.0.self", "decoder.1.self"):
        above_diagonal = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
        assert torch.all(trace[name][:, above_diagonal] == 0)


def test_padding_keys_get_no_attention(transformer: Transformer) -> None:
    """A padded source gives the real tokens exactly the attention they get unpadded."""
    trace_padded, trace_plain = AttentionTrace(), AttentionTrace()
    with torch.no_grad():
        padded = transformer(torch.tensor([[5, 6, 7, 0, 0]]), torch.tensor([[1, 8]]), trace_padded)
        plain = transformer(torch.tensor([[5, 6, 7]]), torch.tensor([[1, 8]]), trace_plain)
    torch.testing.assert_close(padded, plain, atol=1e-5, rtol=1e-5)
    assert torch.all(trace_padded["decoder.0.cross"][..., 3:] == 0)
    assert torch.all(trace_padded["encoder.1.self"][..., 3:] == 0)


def test_positional_encoding_follows_the_paper() -> None:
    table = positional_encoding(50, 16)
    assert table.shape == (50, 16)
    pos, i = 7, 3
    assert table[pos, 2 * i].item() == pytest.approx(
        math.sin(pos / 10000 ** (2 * i / 16)), abs=1e-6
    )
    assert table[pos, 2 * i + 1].item() == pytest.approx(
        math.cos(pos / 10000 ** (2 * i / 16)), abs=1e-6
    )


def test_input_longer_than_max_len_is_a_clear_error(transformer: Transformer) -> None:
    with pytest.raises(ValueError, match="longer than max_len"):
        transformer(torch.ones(1, 41, dtype=torch.long), torch.tensor([[1]]))


def test_config_and_build() -> None:
    with pytest.raises(ValueError, match="divisible"):
        TransformerConfig(src_vocab_size=10, d_model=30, n_heads=4)
    model = build_model(tiny_config(architecture="decoder-only", src_vocab_size=0))
    assert isinstance(model, GPT)
    tied = build_model(tiny_config())
    untied = build_model(tiny_config(tie_embeddings=False))
    assert parameter_count(untied) - parameter_count(tied) == 19 * 16  # one output matrix less
