"""Learning in the weights: a few gradient steps on a copy of a GPT.

GPT-3 learns from demonstrations in its prompt without changing a weight; the older way to teach
a model the same examples is to train on them. `adapted` does that on a copy, so the two can be
put side by side: the same demonstrations as context, or as a handful of optimizer steps. The
model that serves requests is never touched.
"""

import copy
from collections.abc import Callable

import torch
from torch.nn import functional as F

from model.transformer import GPT


def adapted(
    model: GPT,
    sequences: list[list[int]],
    steps: int,
    lr: float,
    before_step: Callable[[], None] | None = None,
) -> tuple[GPT, list[float]]:
    """A copy of `model` after `steps` Adam steps on next-token prediction over `sequences`
    (each `<s> ... </s>`, one batch), and the loss before each step. Dropout stays off, so the
    result depends on nothing but its inputs. `before_step` runs before each step and may raise
    to stop (a deadline, a client gone)."""
    if not sequences or steps < 1:
        raise ValueError("adaptation needs at least one sequence and one step")
    pad = model.config.pad_id
    device = next(model.parameters()).device
    longest = max(len(ids) for ids in sequences)
    batch = torch.full((len(sequences), longest), pad, device=device)
    for row, ids in enumerate(sequences):
        batch[row, : len(ids)] = torch.tensor(ids, device=device)
    learner = copy.deepcopy(model).eval()
    optimizer = torch.optim.Adam(learner.parameters(), lr=lr)
    losses = []
    with torch.enable_grad():
        for _ in range(steps):
            if before_step is not None:
                before_step()
            logits = learner(batch[:, :-1])
            loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten(), ignore_index=pad)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    for parameter in learner.parameters():
        parameter.requires_grad_(False)
    return learner, losses
