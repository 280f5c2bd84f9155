"""Tiny seeded models shared by the tests: built in milliseconds, no files, no ../shared."""

import pytest
import torch

from model.config import TransformerConfig
from model.transformer import GPT, Transformer


def tiny_config(**overrides) -> TransformerConfig:
    values = {
        "src_vocab_size": 23,
        "tgt_vocab_size": 19,
        "d_model": 16,
        "n_heads": 4,
        "n_encoder_layers": 2,
        "n_decoder_layers": 2,
        "d_ff": 32,
        "dropout": 0.0,
        "max_len": 40,
    }
    values.update(overrides)
    return TransformerConfig(**values)


@pytest.fixture
def transformer() -> Transformer:
    torch.manual_seed(0)
    return Transformer(tiny_config()).eval()


@pytest.fixture
def gpt() -> GPT:
    torch.manual_seed(0)
    return GPT(tiny_config(architecture="decoder-only", src_vocab_size=0)).eval()
