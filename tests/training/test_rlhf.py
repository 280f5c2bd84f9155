"""RLHF: each term of the RLOO objective on chosen numbers, an RL step that raises the reward
while its KL to the start stays under a bound, and a tiny run end to end."""

import copy
import json
from pathlib import Path

import pytest
import torch

from model import GPT, ChatTemplate, RewardModel, load_checkpoint, save_checkpoint
from tests.conftest import tiny_config
from tests.training.tiny_stages import (
    assert_held_out,
    logged_epochs,
    run_flags,
    same_weights,
    save_tiny_base,
    write_chat_corpus,
)
from training import rlhf
from training.rlhf import Sampling, frozen, rl_step
from training.rloo import kl_per_token, policy_loss, rlhf_rewards, rloo_advantages
from training.sampling import answer_mask, padded, sample_answers, token_logprobs

PROMPT = [1, 5, 6]
TARGET = 7  # the token the stand-in reward asks for


def test_leave_one_out_advantages_are_trls() -> None:
    """TRL's RLOO example: 3 prompts with 4 answers each (its rows are answers, ours prompts)."""
    rewards = torch.tensor([[1, 2, 3], [2, 3, 4], [5, 6, 7], [8, 9, 10]]).float().T  # (P, k)
    advantages = rloo_advantages(rewards)
    assert advantages[0, 0].item() == pytest.approx(1 - (2 + 5 + 8) / 3)
    assert advantages[1, 2].item() == pytest.approx(6 - (3 + 2 + 9) / 3)
    torch.testing.assert_close(advantages.sum(dim=1), torch.zeros(3))  # a baseline, no drift
    with pytest.raises(ValueError, match="at least 2"):
        rloo_advantages(torch.ones(3, 1))


def test_the_kl_term_and_the_reward() -> None:
    logprobs = torch.tensor([[-1.0, -2.0, 0.0]])
    ref = torch.tensor([[-1.5, -1.0, 0.0]])
    torch.testing.assert_close(kl_per_token(logprobs, ref), torch.tensor([[0.5, -1.0, 0.0]]))
    scores, kl = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 4.0])
    torch.testing.assert_close(rlhf_rewards(scores, kl, beta=0.5), torch.tensor([0.75, 0.0]))


def test_the_policy_loss_pushes_up_what_beat_its_baseline() -> None:
    logprobs = torch.tensor([-2.0, -2.0], requires_grad=True)
    policy_loss(logprobs, torch.tensor([1.0, -1.0])).backward()
    assert logprobs.grad[0] < 0 < logprobs.grad[1]  # descent raises the first, lowers the second


def greedy(model: GPT, prompt: list[int], steps: int) -> list[int]:
    """The greedy answer, each token from a full pass over everything before it."""
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
            if ids[-1] == model.config.eos_id:
                break
    return ids[len(prompt) :]


def test_samples_follow_the_model_and_their_own_generator(gpt: GPT, one_thread: None) -> None:
    """Near zero temperature every sample is the greedy answer (the cached steps read what a
    full pass reads); the samples depend on the generator's seed, never on the global one."""
    cold = sample_answers(gpt, PROMPT, 3, 8, torch.Generator().manual_seed(0), temperature=1e-4)
    assert cold == [greedy(gpt, PROMPT, 8)] * 3
    torch.manual_seed(1)
    first = sample_answers(gpt, PROMPT, 8, 8, torch.Generator().manual_seed(5))
    torch.manual_seed(2)
    assert sample_answers(gpt, PROMPT, 8, 8, torch.Generator().manual_seed(5)) == first
    assert sample_answers(gpt, PROMPT, 8, 8, torch.Generator().manual_seed(6)) != first


def test_log_probs_are_the_answer_tokens_own(gpt: GPT, one_thread: None) -> None:
    """Summed over the answer mask, a row's log-probs are log p(answer | prompt) (</s> included),
    each token read from the position before it, padding counting nothing."""
    rows = [[1, 5, 6, 7, 8, 2], [1, 9, 7, 2], [1, 5, 6, 9, 9, 9, 10]]
    starts = [3, 2, 3]
    ids = padded(rows, 0)
    mask = answer_mask(starts, [len(r) for r in rows], ids.size(1))
    expected = []
    with torch.no_grad():
        got = token_logprobs(gpt, ids, mask).sum(dim=1)
        for row, start in zip(rows, starts, strict=True):
            logps = [
                gpt(torch.tensor([row[:t]]))[0, -1].log_softmax(-1)[row[t]]
                for t in range(start, len(row))
            ]
            expected.append(sum(logps).item())
    torch.testing.assert_close(got, torch.tensor(expected), atol=1e-4, rtol=1e-5)


def test_the_frozen_model_is_in_eval_mode_without_gradients() -> None:
    model = frozen(GPT(tiny_config(architecture="decoder-only", src_vocab_size=0)).train())
    assert not any(module.training for module in model.modules())
    assert not any(p.requires_grad for p in model.parameters())


def test_a_reward_that_ignores_the_answer_teaches_nothing(gpt: GPT, one_thread: None) -> None:
    """Every answer earns the same, so each one's leave-one-out baseline is its own reward: the
    advantages, the loss and its gradient are all zero."""
    policy, ref = copy.deepcopy(gpt).train(), frozen(copy.deepcopy(gpt))
    sampling = Sampling(k=4, beta=0.0, max_new_tokens=6, missing_eos_penalty=0.0)
    generator = torch.Generator().manual_seed(0)

    def constant(ids: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
        return torch.ones(ids.size(0))

    loss, _ = rl_step(policy, policy, ref, constant, [PROMPT] * 2, sampling, generator)
    loss.backward()
    assert loss.item() == 0.0
    assert all(p.grad is None or not p.grad.any() for p in policy.parameters())


def test_each_reward_is_read_at_its_own_last_token(
    gpt: GPT, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    """Answers of different lengths, one with a sampled <pad> inside: each is scored at its own
    last token, and only the one that never wrote </s> pays the penalty."""
    answers = [[7, 2], [7, 0, 8, 2], [7, 8, 9]]  # ended; ended after a <pad>; cut short
    monkeypatch.setattr(rlhf, "sample_answers", lambda *_: answers)
    seen: dict[str, torch.Tensor] = {}

    def spy(ids: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
        seen["ends"] = ends
        return torch.zeros(ids.size(0))

    sampling = Sampling(k=3, beta=0.0, max_new_tokens=4, missing_eos_penalty=1.0)
    _, stats = rl_step(gpt, gpt, gpt, spy, [PROMPT], sampling, torch.Generator())
    assert seen["ends"].tolist() == [len(PROMPT) + len(a) - 1 for a in answers]
    assert stats["score"] == pytest.approx(-1 / 3)


def stand_in_reward(ids: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """The share of answer tokens that are TARGET (a reward a policy can learn in a few steps)."""
    answer = ids[:, len(PROMPT) :]
    return (answer == TARGET).float().sum(dim=1) / (ends - len(PROMPT) + 1).clamp(min=1).float()


def measured(policy: GPT, ref: GPT) -> tuple[float, float]:
    """Mean stand-in reward and KL(policy || ref) per answer, on 64 answers of a fixed seed."""
    generator = torch.Generator().manual_seed(123)
    answers = sample_answers(policy, PROMPT, 64, 6, generator)
    rows = [PROMPT + a for a in answers]
    ids = padded(rows, 0)
    mask = answer_mask([len(PROMPT)] * len(rows), [len(r) for r in rows], ids.size(1))
    with torch.no_grad():
        kl = kl_per_token(token_logprobs(policy, ids, mask), token_logprobs(ref, ids, mask))
        reward = stand_in_reward(ids, mask.sum(1).long() + len(PROMPT) - 1)
    return reward.mean().item(), kl.sum(1).mean().item()


def test_rl_steps_raise_the_reward_and_keep_the_kl_under_a_bound(one_thread: None) -> None:
    torch.manual_seed(0)
    policy = GPT(tiny_config(architecture="decoder-only", src_vocab_size=0)).train()
    ref = frozen(copy.deepcopy(policy))
    before, _ = measured(policy, ref)
    sampling = Sampling(k=8, beta=0.1, max_new_tokens=6, missing_eos_penalty=0.0)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        loss, _ = rl_step(policy, policy, ref, stand_in_reward, [PROMPT] * 2, sampling, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after, kl = measured(policy, ref)
    assert after > before + 0.1
    # The best policy for reward - β·KL is π_ref·exp(r/β), normalised: with r in [0, 1] its KL
    # to π_ref is at most 1/β nats, and RL that stays near its start is well under that.
    assert 0 < kl < 1 / sampling.beta


def save_tiny_sft_and_reward(directory: Path) -> None:
    save_tiny_base(directory / "base")
    base = load_checkpoint(directory / "base")
    tok, template = base.tgt_tokenizer, ChatTemplate()
    save_checkpoint(directory / "sft", base.model, None, tok, {}, stage="sft", template=template)
    reward = RewardModel.from_gpt(base.model)
    torch.nn.init.normal_(reward.head.weight, std=0.5)
    save_checkpoint(directory / "reward", reward, None, tok, {}, stage="reward", template=template)


def test_a_tiny_rlhf_run_logs_resumes_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread: None
) -> None:
    train_file, dev_file = write_chat_corpus(tmp_path)
    save_tiny_sft_and_reward(tmp_path)
    out, export = tmp_path / "run", tmp_path / "rlhf"
    extra = ["--reward-from", str(tmp_path / "reward"), "--epochs", "2", "--steps", "3"]
    extra += ["--prompts", "2", "--k", "2", "--lr", "1e-3", "--max-new-tokens", "8"]
    extra += ["--eval-limit", "2", "--final-eval-limit", "2"]
    flags = run_flags(train_file, dev_file, out, tmp_path / "sft") + extra
    evaluated = []

    def spy(policy, ref, reward, tok, template, requests, **kwargs):
        evaluated.extend(requests)
        return rl_report(policy, ref, reward, tok, template, requests, **kwargs)

    rl_report = rlhf.rl_report
    monkeypatch.setattr(rlhf, "rl_report", spy)
    rlhf.main([*flags, "--stop-after", "1"])
    rlhf.main([*flags, "--resume", "--export", str(export)])
    assert_held_out(evaluated, dev_file)  # every epoch's probe and the export's report
    assert logged_epochs(out) == [1, 2]  # the second run went on from epoch 2
    uninterrupted = tmp_path / "uninterrupted"
    rlhf.main(run_flags(train_file, dev_file, uninterrupted, tmp_path / "sft") + extra)
    assert same_weights(out, uninterrupted)  # the weights, optimizer and sampling resumed
    checkpoint = load_checkpoint(export)
    assert checkpoint.stage == "rlhf" and checkpoint.template == ChatTemplate()
    metrics = json.loads((export / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["history"]] == [1, 2]
    for record in metrics["history"]:  # what the log says after each epoch
        for key in ("score", "kl", "reward", "dev_mean_reward", "dev_kl_to_start"):
            assert key in record
    for key in ("mean_reward", "loop_share", "to_english_bleu", "kl_to_start"):
        assert key in metrics["rlhf"]
    assert "mean_reward" in metrics["sft"] and "RLOO" in metrics["method"]
    assert metrics["history"][-1]["kl"] > 0 and metrics["rlhf"]["kl_to_start"] > 0  # it moved


def test_rlhf_refuses_a_start_without_a_template(tmp_path: Path) -> None:
    train_file, dev_file = write_chat_corpus(tmp_path)
    save_tiny_sft_and_reward(tmp_path)
    flags = run_flags(train_file, dev_file, tmp_path / "run", tmp_path / "base")
    with pytest.raises(SystemExit, match="no chat template"):
        rlhf.main([*flags, "--reward-from", str(tmp_path / "reward")])
