"""The reward model's training: Bradley-Terry ranks the preferred answers higher, and a tiny
run from an sft checkpoint trains, resumes and exports a reward checkpoint."""

import json
import math
import random
from pathlib import Path

import pytest
import torch

from model import ChatTemplate, RewardModel, load_checkpoint, save_checkpoint
from tests.training.tiny_stages import (
    assert_held_out,
    chat_pairs,
    logged_epochs,
    run_flags,
    same_weights,
    save_tiny_base,
    write_chat_corpus,
)
from training import reward
from training.data import make_batches
from training.instruct_probes import preference_accuracy
from training.instructions import TaskMix, draw_requests, make_request
from training.phrasings import all_phrasings, phrasings
from training.preferences import Preference, damaged_preferences
from training.reward import (
    as_examples,
    bradley_terry_loss,
    cached_sft_preferences,
    pair_rewards,
    sft_preferences,
)


def test_bradley_terry_is_the_log_odds_of_the_preference() -> None:
    even = bradley_terry_loss(torch.zeros(3), torch.zeros(3))
    assert math.isclose(even.item(), math.log(2), rel_tol=1e-6)
    right = bradley_terry_loss(torch.tensor([2.0]), torch.tensor([0.0]))
    wrong = bradley_terry_loss(torch.tensor([0.0]), torch.tensor([2.0]))
    assert right < even < wrong
    assert math.isclose(right.item(), math.log1p(math.exp(-2.0)), rel_tol=1e-6)


def test_training_ranks_the_preferred_answer_higher(tmp_path: Path, one_thread: None) -> None:
    gpt = save_tiny_base(tmp_path)
    tok, template = load_checkpoint(tmp_path).tgt_tokenizer, ChatTemplate()
    train, _ = all_phrasings()
    rng = random.Random(0)
    pairs = damaged_preferences(draw_requests(chat_pairs(), train, TaskMix(), rng), rng)
    model = RewardModel.from_gpt(gpt)
    assert preference_accuracy(model, tok, template, pairs)["all"] == 0.0  # a zero head: ties
    batches = make_batches(as_examples(tok, template, pairs, 128), 1024, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    torch.manual_seed(0)
    for _ in range(12):
        for batch in batches:
            model.train()
            loss = bradley_terry_loss(*pair_rewards(model, batch, pad_id=0))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert sum(losses[-len(batches) :]) < sum(losses[: len(batches)])
    assert preference_accuracy(model, tok, template, pairs)["all"] >= 0.8


def save_tiny_sft(directory: Path) -> None:
    """The tiny base's weights saved as an sft checkpoint, with the chat template."""
    save_tiny_base(directory / "base")
    base = load_checkpoint(directory / "base")
    template = ChatTemplate()
    save_checkpoint(
        directory / "sft", base.model, None, base.tgt_tokenizer, {}, stage="sft", template=template
    )


def test_a_tiny_reward_run_trains_resumes_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train_file, dev_file = write_chat_corpus(tmp_path)
    save_tiny_sft(tmp_path)
    out, export = tmp_path / "run", tmp_path / "reward"
    extra = ["--epochs", "4", "--lr", "3e-3", "--max-tokens", "1024", "--eval-limit", "4"]
    extra += ["--sft-samples", "8", "--dropout", "0.0"]
    flags = run_flags(train_file, dev_file, out, tmp_path / "sft") + extra
    evaluated = []

    def spy(model, tok, template, pairs):
        evaluated.extend(pair.request for pair in pairs)
        return preference_accuracy(model, tok, template, pairs)

    monkeypatch.setattr(reward, "preference_accuracy", spy)
    reward.main([*flags, "--stop-after", "2"])
    samples = out / "sft_samples.0.json"
    assert samples.exists()
    cached = json.loads(samples.read_text())
    assert all(row["kind"] == "sft_sample" for row in cached)
    reward.main([*flags, "--resume", "--export", str(export)])
    assert_held_out(evaluated, dev_file)  # every epoch's accuracy and the export's
    assert logged_epochs(out) == [1, 2, 3, 4]  # the second run went on from epoch 3
    uninterrupted = tmp_path / "uninterrupted"
    reward.main(run_flags(train_file, dev_file, uninterrupted, tmp_path / "sft") + extra)
    assert same_weights(out, uninterrupted)
    checkpoint = load_checkpoint(export)
    assert checkpoint.stage == "reward" and isinstance(checkpoint.model, RewardModel)
    assert checkpoint.template == ChatTemplate()
    metrics = json.loads((export / "metrics.json").read_text())
    losses = [record["loss"] for record in metrics["history"]]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert 0 <= metrics["held_out_accuracy"] <= 1 and metrics["held_out_pairs"] > 0
    assert "not from people" in metrics["preferences"]


def test_kept_sft_samples_are_read_back_by_a_resumed_run_only(tmp_path: Path) -> None:
    """A new run samples again: the kept samples may come from an sft trained since."""
    path = tmp_path / "sft_samples.0.json"
    request = make_request(phrasings("repeat", "en")[0][0], ("三。", "Three."), "en")
    made = [Preference(request, "Three.", "Three three.", "sft_sample")]
    calls = []

    def make() -> list[Preference]:
        calls.append(1)
        return made

    assert cached_sft_preferences(path, make, resume=False) == made and len(calls) == 1
    assert cached_sft_preferences(path, make, resume=True) == made and len(calls) == 1
    assert cached_sft_preferences(path, make, resume=False) == made and len(calls) == 2


def test_a_right_sft_answer_is_never_the_rejected_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer the scores count right ("Yes." for yes) is no worse answer; a wrong one is."""
    gpt = save_tiny_base(tmp_path)
    tok, template = load_checkpoint(tmp_path).tgt_tokenizer, ChatTemplate()
    train, _ = phrasings("is_question", "en")
    asked = make_request(train[0], ("三吗？", "Three?"), "en")
    assert asked.answer == "yes"
    for written, kept in (("Yes.", 0), ("yes", 0), ("no", 1)):
        assert tok.decode(tok.encode(written)) == written
        answers = [tok.encode(written)] * 2
        monkeypatch.setattr(reward, "sample_answers", lambda *_, answers=answers: answers)
        made = sft_preferences(gpt, tok, template, [asked], worse_chrf=50.0, seed=0)
        assert len(made) == kept and all(p.rejected == written for p in made)
