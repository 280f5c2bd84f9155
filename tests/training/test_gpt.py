"""The GPT recipe end to end on a tiny corpus written inside the test (no ../shared)."""

import json
import logging
import random
from pathlib import Path

from model.checkpoint import load_checkpoint
from model.prompts import encode_prompt, prompt_text
from model.tokenizer import ARROW, NEWLINE, train_mixed_tokenizer
from tests.training.test_translation import write_corpus
from training import gpt
from training.data import repeated_span_sequence

PAIRS = [("我有一只猫。", "I have a cat."), ("他是学生。", "He is a student.")]


def test_mixed_tokenizer_and_prompt_ids_agree() -> None:
    tok = train_mixed_tokenizer([z for z, _ in PAIRS] + [e for _, e in PAIRS] * 3, 80)
    text = prompt_text(PAIRS[:1], PAIRS[1][0])
    assert text == "我有一只猫。 => I have a cat.\n他是学生。 =>"
    prompt = encode_prompt(tok, PAIRS[:1], PAIRS[1][0])
    assert prompt.ids == tok.encode(text)  # built pair by pair = encoded as text
    tokens = tok.tokens(prompt.ids)
    assert tokens[: prompt.demonstration_length][-1] == NEWLINE  # demonstrations end at \n
    assert tokens[-1] == ARROW and tokens.count(ARROW) == 2
    assert tokens[:6] == list("我有一只猫。")  # Chinese one character per token


def test_repeated_span_sequences_repeat() -> None:
    tok = train_mixed_tokenizer([z for z, _ in PAIRS] + [e for _, e in PAIRS] * 3, 80)
    ids = repeated_span_sequence(tok, random.Random(0), 7)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert ids[1:8] == ids[8:15] and min(ids[1:-1]) >= 6


def add_pairs_about_tom(train_file: Path) -> None:
    """Training pairs that name Tom, where name prompts put a made-up name, and their credits."""
    digits = train_file.read_text(encoding="utf-8").splitlines()[:10]
    lines = [f"汤姆数{zh}\tTom counts {en}" for zh, en in (line.split("\t") for line in digits)]
    credits = train_file.with_name("train.attribution.txt")
    first = len(credits.read_text().splitlines()) + 1
    with train_file.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    with credits.open("a") as out:
        out.write("\n".join(f"attribution of line {first + i}" for i in range(len(lines))) + "\n")


def test_tiny_gpt_trains_exports_and_reports(tmp_path: Path, caplog) -> None:
    train_file, dev_file = write_corpus(tmp_path)
    add_pairs_about_tom(train_file)
    out, export = tmp_path / "run", tmp_path / "gpt"
    common = [
        "--train",
        str(train_file),
        "--dev",
        str(dev_file),
        "--out",
        str(out),
        "--d-model",
        "32",
        "--n-heads",
        "2",
        "--layers",
        "2",
        "--d-ff",
        "64",
        "--dropout",
        "0.0",
        "--lr",
        "3e-3",
        "--warmup",
        "10",
        "--max-tokens",
        "512",
        "--vocab",
        "60",
        "--eval-limit",
        "5",
        "--threads",
        "1",
        "--epochs",
        "2",
        "--pool-size",
        "20",
        "--unlikelihood",  # the loss with the penalty on repeats runs too
        "0.5",
    ]
    names = ["--name-curriculum", "3", "--name-curriculum-after", "1"]
    with caplog.at_level(logging.INFO, logger="attnscope"):
        gpt.main([*common, *names, "--stop-after", "1", "--span-curriculum", "3"])
    assert "after 3 span steps" in caplog.text  # the span curriculum ran before epoch 1
    assert "after 3 name steps" not in caplog.text  # the name curriculum waits for epoch 1
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="attnscope"):
        gpt.main([*common, *names, "--resume", "--export", str(export)])  # continues to epoch 2
    assert "after 3 name steps" in caplog.text
    assert "after 3 span steps" not in caplog.text  # a resumed run does not repeat it
    checkpoint = load_checkpoint(export)
    assert checkpoint.config.architecture == "decoder-only"
    assert checkpoint.src_tokenizer is None
    metrics = json.loads((export / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]) == 2
    assert json.loads((export / "config.json").read_text())["recipe"]["unlikelihood"] == 0.5
    for kind in ("random", "similar"):
        for shots in (1, 3, 5):
            assert f"dev_{kind}_{shots}_bleu" in metrics
    for key in ("dev_zero_shot_bleu", "dev_zero_shot_loop_share", "best_induction_score"):
        assert key in metrics
    assert len(checkpoint.pool) == 20  # it ships a pool, each pair with its own credit line
    corpus = train_file.read_text(encoding="utf-8").splitlines()
    credits = (export / "pool.attribution.txt").read_text().splitlines()
    for (zh, en), credit in zip(checkpoint.pool, credits, strict=True):
        line = corpus.index(zh + "\t" + en) + 1
        assert credit == f"attribution of line {line}"
    sites = metrics["head_scores"]
    assert list(sites) == ["decoder.0.self", "decoder.1.self"]
    assert all(len(site["induction"]) == 2 for site in sites.values())  # one per head
