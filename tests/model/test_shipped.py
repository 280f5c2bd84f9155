"""The checkpoints that ship: they load, translate the textbook examples, and keep their claims.

The BLEU check needs the dev set in ../shared/data and is skipped without it.
"""

import json

import pytest

from model.checkpoint import load_checkpoint, shipped_checkpoint
from model.data import SHARED_DATA
from model.decoding import DecodingOptions, decode
from model.evaluate import evaluate_checkpoint

DEV = SHARED_DATA / "zh_en_dev.tsv"
SHIPPED = ["zh-en", "en-zh"]


def translate(name: str, text: str) -> str:
    checkpoint = load_checkpoint(shipped_checkpoint(name))
    assert checkpoint.src_tokenizer is not None
    src = checkpoint.src_tokenizer.encode(text)
    decoded = decode(checkpoint.model, src, [checkpoint.config.bos_id], DecodingOptions())
    return checkpoint.tgt_tokenizer.decode(decoded.output_ids)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_loads_verified(name: str) -> None:
    checkpoint = load_checkpoint(shipped_checkpoint(name))
    assert checkpoint.meta["direction"] == name
    metrics = json.loads((shipped_checkpoint(name) / "metrics.json").read_text())
    assert metrics["weights"] == "float16" and "Tatoeba" in metrics["data"]


def test_golden_textbook_example_zh_en() -> None:
    """Golden output: the example every Transformer lesson uses."""
    assert translate("zh-en", "我有一只猫。") == "I have a cat."


def test_golden_textbook_example_en_zh() -> None:
    assert translate("en-zh", "I have a cat.") == "我有一只猫。"


@pytest.mark.slow
@pytest.mark.skipif(not DEV.exists(), reason="the dev set (../shared/data) is absent")
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_keeps_its_claimed_bleu(name: str) -> None:
    metrics = json.loads((shipped_checkpoint(name) / "metrics.json").read_text())
    scores = evaluate_checkpoint(load_checkpoint(shipped_checkpoint(name)), DEV, limit=200)
    assert scores["bleu"] >= metrics["dev_bleu_first_200"] - 1.0
    assert scores["chrf"] >= metrics["dev_chrf_first_200"] - 1.0
