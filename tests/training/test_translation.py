"""Training end to end on a tiny synthetic corpus written inside the test (no ../shared)."""

import itertools
import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from app.cli import translate_lines
from training import translation

DIGITS = {"一": "one", "二": "two", "三": "three", "四": "four", "五": "five"}


def write_corpus(directory: Path) -> tuple[Path, Path]:
    """Chinese digit strings and their English words: '三一。' -> 'three one.'"""
    lines = []
    for length in (1, 2, 3):
        for combo in itertools.product(DIGITS, repeat=length):
            lines.append("".join(combo) + "。\t" + " ".join(DIGITS[c] for c in combo) + ".")
    train_file, dev_file = directory / "train.tsv", directory / "dev.tsv"
    train_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    credits = [f"attribution of line {n}" for n in range(1, len(lines) + 1)]
    (directory / "train.attribution.txt").write_text("\n".join(credits) + "\n")
    dev_file.write_text("\n".join(lines[::7]) + "\n", encoding="utf-8")
    return train_file, dev_file


def tiny_run(tmp_path: Path, out: str, *extra: str) -> list[str]:
    train_file, dev_file = write_corpus(tmp_path)
    return [
        "--train",
        str(train_file),
        "--dev",
        str(dev_file),
        "--out",
        str(tmp_path / out),
        "--d-model",
        "32",
        "--n-heads",
        "2",
        "--layers",
        "1",
        "--d-ff",
        "64",
        "--dropout",
        "0.0",
        "--lr",
        "3e-3",
        "--warmup",
        "10",
        "--max-tokens",
        "128",
        "--subword-vocab",
        "40",
        "--average",
        "2",
        "--threads",
        "1",
        *extra,
    ]


@pytest.mark.slow
def test_tiny_model_learns_tiny_corpus(tmp_path: Path) -> None:
    export = tmp_path / "export"
    translation.main(tiny_run(tmp_path, "run", "--epochs", "40", "--export", str(export)))
    metrics = json.loads((export / "metrics.json").read_text())
    losses = [epoch["loss"] for epoch in metrics["history"]]
    assert losses[-1] < losses[0] / 3
    assert metrics["dev_bleu"] >= 90 and metrics["weights"] == "float16"
    lines = ["三一。", "五五二。", "", "四。"]
    assert list(translate_lines(lines, export)) == ["three one.", "five five two.", "", "four."]


@pytest.mark.slow
def test_resumed_run_equals_uninterrupted_run(tmp_path: Path) -> None:
    translation.main(tiny_run(tmp_path, "whole", "--epochs", "4"))
    translation.main(tiny_run(tmp_path, "split", "--epochs", "4", "--stop-after", "2"))
    assert json.loads((tmp_path / "split/last/state.json").read_text())["epoch"] == 2
    translation.main(tiny_run(tmp_path, "split", "--epochs", "4", "--resume"))
    whole = load_file(str(tmp_path / "whole/last/model.safetensors"))
    split = load_file(str(tmp_path / "split/last/model.safetensors"))
    assert whole.keys() == split.keys()
    assert all((whole[k] == split[k]).all() for k in whole)
