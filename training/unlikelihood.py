"""Token-level unlikelihood (Welleck et al. 2019, "Neural Text Generation with Unlikelihood
Training"): a loss that pushes down the probability of repeating a token the answer already has.

A GPT with strong copying heads loops in greedy decoding (`always always always`): at a word
it has written, the induction head predicts what followed it before. Cross-entropy alone never
says a repeat is wrong; this loss does. At each position of an answer (the part of a line after
`=>`), the candidates are the tokens this answer has written so far, less the token that really
comes next (a sentence may say a word twice), and the loss is -log(1 - p) for each. Copying a
word from a demonstration or from an earlier line stays free: only the answer's own tokens count.
"""

import torch
from torch import nn
from torch.nn import functional as F


def after_last(ids: torch.Tensor, token: int) -> torch.Tensor:
    """For each position, the position of the last `token` at or before it (-1 when none)."""
    positions = torch.arange(ids.size(1), device=ids.device).expand_as(ids)
    marked = torch.where(ids == token, positions, torch.full_like(positions, -1))
    return marked.cummax(dim=1).values


def unlikelihood_loss(
    log_probs: torch.Tensor,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    markers: tuple[int, int, int],
) -> tuple[torch.Tensor, int]:
    """The summed unlikelihood of repeating answer tokens, and how many candidates it counts.

    log_probs (B, T, V), the log-softmax of the logits, predict targets (B, T) from inputs
    (B, T); `markers` are the ids of `=>`,
    the line break and padding (a padded target counts nothing)."""
    arrow, newline, pad = markers
    arrow_at = after_last(inputs, arrow)  # (B, T)
    line_at = after_last(inputs, newline)
    # The input at t is the arrow or a token of the answer, and a real token follows it.
    answering = (arrow_at > line_at) & (targets != pad)
    positions = torch.arange(inputs.size(1), device=inputs.device)
    earlier = positions[None, :] <= positions[:, None]  # (T, T): s <= t
    # Candidate s for row t: an answer token of the same line, written before t + 1.
    in_answer = positions[None, None, :] > arrow_at[:, :, None]  # (B, T, T)
    candidates = earlier[None] & in_answer & answering[:, :, None]
    previous = inputs[:, None, :].expand(-1, inputs.size(1), -1)  # (B, T, T): the token at s
    candidates &= previous != targets[:, :, None]
    probs = log_probs.gather(2, previous).exp()  # (B, T, T)
    penalties = -torch.log((1 - probs).clamp(min=1e-5))
    return (penalties * candidates).sum(), int(candidates.sum())


def next_token_and_unlikelihood(
    module: nn.Module, ids: torch.Tensor, markers: tuple[int, int, int], weight: float
) -> tuple[torch.Tensor, int]:
    """Next-token cross-entropy plus `weight` × the unlikelihood of repeats, both per token
    counted, and how many tokens the cross-entropy counts. `module` is the GPT, or DDP
    around it."""
    pad = markers[2]
    inputs, targets = ids[:, :-1], ids[:, 1:]
    log_probs = F.log_softmax(module(inputs).float(), dim=-1)  # one softmax for both losses
    loss = F.nll_loss(log_probs.flatten(0, 1), targets.flatten(), ignore_index=pad)
    counted = int((targets != pad).sum())
    repeats, _ = unlikelihood_loss(log_probs, inputs, targets, markers)
    return loss + weight * repeats / max(counted, 1), counted
