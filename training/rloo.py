"""The RL objective, term by term: KL to the frozen model, the reward, the advantage, the loss.

REINFORCE with a leave-one-out baseline (RLOO; Ahmadian et al. 2024, "Back to Basics"), as
TRL's RLOOTrainer computes it:
- per-token KL, the simple estimate log π(y_t) - log π_ref(y_t) on the sampled tokens
  (TRL's `kl = logprobs - ref_logprobs`), summed over the answer;
- the RLHF reward of an answer: the reward model's score minus β times that KL (the KL term
  is part of the reward, as in InstructGPT, so it pulls every token of a drifting answer back);
- the advantage of each of the k answers to one prompt: its reward minus the mean reward of
  the other k-1, a baseline that needs no value network and does not depend on the answer it
  is subtracted from;
- the loss: -advantage × log π(answer), the whole answer one action.
Every function is plain tensor arithmetic, so a test can check each on numbers it chose.
"""

import torch


def kl_per_token(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """log π - log π_ref of each sampled token (B, T): zero where both are zero (padding).
    Its expectation under π is KL(π || π_ref); one sample of it can be negative."""
    return logprobs - ref_logprobs


def rlhf_rewards(scores: torch.Tensor, kl: torch.Tensor, beta: float) -> torch.Tensor:
    """The reward an answer earns (B,): the reward model's score less β × its summed KL (B,)."""
    return scores - beta * kl


def rloo_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """Rewards (P, k) of k answers to each of P prompts -> advantages (P, k): each answer's
    reward less the mean of the other k-1 answers' rewards."""
    k = rewards.size(1)
    if k < 2:
        raise ValueError("a leave-one-out baseline needs at least 2 answers per prompt")
    baseline = (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1)
    return rewards - baseline


def policy_loss(answer_logprobs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """REINFORCE: -mean(advantage × log π(answer)); `answer_logprobs` (B,) carries the gradient,
    the advantages (B,) do not."""
    return -(advantages.detach() * answer_logprobs).mean()
