"""Checkpoints: a save/load round trip, and every kind of damaged directory refused in words."""

import json
from pathlib import Path

import pytest
import torch

from model.checkpoint import CheckpointError, load_checkpoint, sha256_of
from model.transformer import Transformer
from tests.conftest import save_tiny_checkpoint


def saved(directory: Path, dtype: torch.dtype = torch.float32) -> Transformer:
    return save_tiny_checkpoint(directory, "zh-en", dtype)


def outputs(model: Transformer) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([[4, 5, 6, 7]]), torch.tensor([[1, 4, 5]]))


def test_round_trip(tmp_path: Path) -> None:
    original = saved(tmp_path)
    loaded = load_checkpoint(tmp_path, name="tiny")
    assert loaded.name == "tiny" and loaded.meta["direction"] == "zh-en"
    assert loaded.metrics == {"dev_bleu": 1.0}
    assert loaded.config == original.config
    torch.testing.assert_close(outputs(loaded.model), outputs(original))
    assert loaded.model.decoder.lm_head.weight is loaded.model.decoder.embed.tokens.weight
    assert loaded.src_tokenizer is not None
    assert (
        loaded.src_tokenizer.decode(loaded.src_tokenizer.encode("我有一只猫。")) == "我有一只猫。"
    )


def test_fp16_round_trip_is_close(tmp_path: Path) -> None:
    original = saved(tmp_path, dtype=torch.float16)
    loaded = load_checkpoint(tmp_path)
    torch.testing.assert_close(outputs(loaded.model), outputs(original), atol=1e-2, rtol=1e-2)


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    saved(tmp_path)
    weights = tmp_path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its recorded sha256"):
        load_checkpoint(tmp_path)


def test_tampered_tokenizer_is_refused(tmp_path: Path) -> None:
    saved(tmp_path)
    path = tmp_path / "tgt_tokenizer.json"
    path.write_text(path.read_text().replace("cat", "dog"))  # a vocabulary entry changed
    with pytest.raises(CheckpointError, match="tgt_tokenizer.json does not match"):
        load_checkpoint(tmp_path)


def test_not_safetensors_is_refused_even_with_a_matching_checksum(tmp_path: Path) -> None:
    """A pickle renamed to .safetensors is never unpickled."""
    saved(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x80\x04\x95 this is a pickle, not safetensors")
    checksums = json.loads((tmp_path / "sha256.json").read_text())
    checksums["model.safetensors"] = sha256_of(weights)
    (tmp_path / "sha256.json").write_text(json.dumps(checksums))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("missing", ["model.safetensors", "config.json", "sha256.json"])
def test_missing_files_are_named(tmp_path: Path, missing: str) -> None:
    saved(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(CheckpointError, match=missing.replace(".", r"\.")):
        load_checkpoint(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")
