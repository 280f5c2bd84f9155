"""Instruction tuning: the loss counts the answer only, and a tiny run trains, resumes, exports."""

import json
import random
from pathlib import Path

import pytest
import torch

from model import ChatTemplate, load_checkpoint
from tests.training.tiny_stages import (
    assert_held_out,
    logged_epochs,
    run_flags,
    same_weights,
    save_tiny_base,
    write_chat_corpus,
)
from training import instruct_probes, sft
from training.instructions import says_a_word_twice
from training.phrasings import all_phrasings
from training.sft import answer_loss, answer_only, epoch_examples


def test_the_loss_counts_answer_tokens_only() -> None:
    """The gradient reaches the logits that predict answer tokens (and </s>), never those that
    predict the request: counting the instruction would put gradient there."""
    ids = torch.tensor([[1, 10, 11, 12, 13, 20, 21, 2]])  # <s>, 4 request tokens, answer, </s>
    example = answer_only(ids[0].tolist(), answer_start=5)
    mask = torch.tensor([example.src])
    logits = torch.randn(1, 7, 30, requires_grad=True)
    loss, tokens = answer_loss(lambda _: logits, (mask, ids))
    loss.backward()
    assert tokens == 3  # 20, 21 and </s>
    assert logits.grad[0, :4].abs().sum() == 0  # the positions that predict the request
    assert (logits.grad[0, 4:].abs().sum(-1) > 0).all()  # those that predict the answer
    picked = torch.log_softmax(logits[0, 4:].detach(), -1)[
        torch.arange(3), torch.tensor([20, 21, 2])
    ]
    torch.testing.assert_close(loss.detach(), -picked.mean())


def test_a_requests_mask_starts_at_its_answer(tmp_path: Path) -> None:
    train_file, dev_file = write_chat_corpus(tmp_path)
    save_tiny_base(tmp_path / "base")
    tok = load_checkpoint(tmp_path / "base").tgt_tokenizer
    args = sft.parse_args(run_flags(train_file, dev_file, tmp_path / "run", tmp_path / "base"))
    args.max_len = 128
    pairs = [tuple(line.split("\t")) for line in train_file.read_text().splitlines()]
    phrasings, _ = all_phrasings()
    examples = epoch_examples(tok, ChatTemplate(), pairs, phrasings, args, random.Random(0))
    assert len(examples) == len(pairs) + int(args.pattern_share * len(pairs))
    answers = {zh for zh, _ in pairs} | {en for _, en in pairs} | {"是", "不是", "yes", "no"}
    answers |= {"中文", "英文", "Chinese", "English"}
    for example in examples:
        start = example.src.index(1)
        assert all(example.src[start:]) and example.tgt[-1] == tok.eos_id
        assert tok.decode(example.tgt[start:]) in answers
    args.hard_repeat_share = 0.5
    more = epoch_examples(tok, ChatTemplate(), pairs, phrasings, args, random.Random(0))
    assert len(more) == len(examples) + len(pairs) // 2
    hard = more[len(pairs) : len(pairs) + len(pairs) // 2]
    extra = [tok.decode(e.tgt[e.src.index(1) : -1]) for e in hard]
    assert extra and all(says_a_word_twice(answer) for answer in extra)


def test_a_tiny_sft_run_trains_resumes_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train_file, dev_file = write_chat_corpus(tmp_path)
    save_tiny_base(tmp_path / "base")
    out, export = tmp_path / "run", tmp_path / "sft"
    extra = ["--epochs", "4", "--lr", "3e-3", "--max-tokens", "1024", "--eval-limit", "2"]
    extra += ["--final-eval-limit", "2"]
    flags = run_flags(train_file, dev_file, out, tmp_path / "base") + extra
    evaluated = []

    def spy(*args, **kwargs):
        requests = evaluation_requests(*args, **kwargs)
        evaluated.extend(requests)
        return requests

    evaluation_requests = instruct_probes.evaluation_requests
    monkeypatch.setattr(instruct_probes, "evaluation_requests", spy)
    sft.main([*flags, "--stop-after", "2"])
    assert not export.exists()
    sft.main([*flags, "--resume", "--export", str(export)])
    assert_held_out(evaluated, dev_file)  # every epoch's probe, the export's scores and table
    assert logged_epochs(out) == [1, 2, 3, 4]  # the second run went on from epoch 3
    uninterrupted = tmp_path / "uninterrupted"
    sft.main(run_flags(train_file, dev_file, uninterrupted, tmp_path / "base") + extra)
    assert same_weights(out, uninterrupted)  # weights, optimizer and schedule all resumed
    checkpoint = load_checkpoint(export)
    assert checkpoint.stage == "sft" and checkpoint.template == ChatTemplate()
    metrics = json.loads((export / "metrics.json").read_text())
    losses = [record["loss"] for record in metrics["history"]]
    assert len(losses) == 4 and losses[-1] < losses[0]
    for model in ("sft", "base"):
        for key in ("to_english_bleu", "to_chinese_bleu", "repeat_exact", "is_question_accuracy"):
            assert key in metrics[model]
        assert set(metrics["prompt_against_instruct"][model]) == {
            "pattern_bleu",
            "instruction_bleu",
        }
    assert metrics["phrasings"]["held_out"] > 0
    assert "is_question_accuracy" in metrics["history"][-1]  # each epoch's probe, in the log
