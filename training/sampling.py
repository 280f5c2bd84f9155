"""Sampling answers from a GPT and scoring them token by token: what the reward data and the RL
step need, many sequences at once and untraced (model/decoding.py traces one at a time).

k answers to one prompt form one batch: every row has the same prompt, so the rows need no
padding while they are written, and the key/value cache makes each new token one small step.
"""

import torch
from torch import nn
from torch.nn import functional as F

from model import GPT, KVCache


@torch.no_grad()
def sample_answers(
    model: GPT,
    prompt: list[int],
    k: int,
    max_new_tokens: int,
    generator: torch.Generator,
    temperature: float = 1.0,
) -> list[list[int]]:
    """k sampled answers to `prompt` (ids from <s>), each ending with </s> unless it ran into
    `max_new_tokens` or the model's last position first."""
    c = model.config
    device = next(model.parameters()).device
    limit = min(max_new_tokens, c.max_len - len(prompt))
    if limit < 1:
        return [[] for _ in range(k)]
    was_training = model.training
    model.eval()
    cache = KVCache()
    logits = model.decode(torch.tensor([prompt] * k, device=device), cache=cache)[:, -1]  # (k, V)
    done = torch.zeros(k, dtype=torch.bool, device=device)
    produced: list[torch.Tensor] = []
    for _ in range(limit):
        probs = F.softmax(logits.float() / temperature, dim=-1)
        tokens = torch.multinomial(probs, 1, generator=generator)  # (k, 1)
        tokens = tokens.masked_fill(done[:, None], c.pad_id)
        produced.append(tokens)
        done |= tokens[:, 0] == c.eos_id
        if done.all() or len(produced) == limit:
            break
        logits = model.decode(tokens, cache=cache)[:, -1]
    model.train(was_training)
    rows = torch.cat(produced, dim=1).tolist()
    return [row[: row.index(c.eos_id) + 1] if c.eos_id in row else row for row in rows]


def padded(rows: list[list[int]], pad_id: int) -> torch.Tensor:
    """Right-padded (B, T) ids."""
    batch = torch.full((len(rows), max(map(len, rows))), pad_id)
    for i, row in enumerate(rows):
        batch[i, : len(row)] = torch.tensor(row)
    return batch


def answer_mask(prompt_lengths: list[int], lengths: list[int], width: int) -> torch.Tensor:
    """(B, T) ones on the answer positions (from the prompt's end to the sequence's end)."""
    mask = torch.zeros(len(lengths), width)
    for i, (start, end) in enumerate(zip(prompt_lengths, lengths, strict=True)):
        mask[i, start:end] = 1.0
    return mask


def token_logprobs(module: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log p(ids[:, t] | ids[:, :t]) for t >= 1, zero where `mask` (B, T) is zero: (B, T-1).
    `module` is the GPT, or DDP around it."""
    logits = module(ids[:, :-1])  # (B, T-1, V)
    logp = F.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return logp * mask[:, 1:]  # (B, T-1)
