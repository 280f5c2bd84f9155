"""The GPT's loss, and the curricula that run between its epochs.

A circuit that a rare kind of sequence needs forms sooner when, for a while, every batch is
of that kind: the span curriculum (repeated random spans: previous-token and induction heads)
before a new model's first epoch, the name curriculum (prompts whose answer needs a made-up name
that only a demonstration spells: heads that copy a word across from a demonstration) before any
epoch, once the model translates well enough to learn from it.
Each checks its circuit at intervals and ends once it has formed, so a run spends only the steps
it needs. Every process measures the same weights the same way, and process 0 decides for all.
"""

import argparse
import logging
import random

import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from model import GPT, Tokenizer
from training.data import Example, make_batches, repeated_span_sequence
from training.evaluate import best_heads
from training.gpt_data import SequenceMaker
from training.loop import optimize
from training.probes import NameProbe, name_copy_rates
from training.processes import Processes, agree

log = logging.getLogger("attnscope.train_gpt")
SPAN_CHECK = 250  # span steps between two measurements of the head scores
NAME_CHECK = 100  # name steps between two measurements of the names copied


def next_token_loss(module: nn.Module, ids: torch.Tensor, pad_id: int) -> tuple[torch.Tensor, int]:
    """Cross-entropy of every next token, and how many tokens it counts (padding ignored).
    `module` is the GPT, or DDP around it."""
    logits = module(ids[:, :-1])
    targets = ids[:, 1:]
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)
    return loss, int((targets != pad_id).sum())


def curriculum_step(
    trained: nn.Module,
    optimizer: torch.optim.Optimizer,
    sequences: list[list[int]],
    lr: float,
    pad_id: int,
    device: torch.device,
) -> float:
    """One optimizer step on `sequences`, padded into one batch; returns the loss."""
    trained.train()
    examples = [Example([], ids) for ids in sequences]
    _, ids = make_batches(examples, max_tokens=10**9, seed=0, pad_id=pad_id)[0]
    loss, _ = next_token_loss(trained, ids.to(device), pad_id)
    optimize(trained, optimizer, loss, lr)
    return loss.item()


def span_curriculum(
    trained: nn.Module,
    model: GPT,
    optimizer: torch.optim.Optimizer,
    tok: Tokenizer,
    args: argparse.Namespace,
    processes: Processes,
) -> int:
    """Train on repeated random spans alone: predicting a second copy needs a previous-token
    head and an induction head. The heads form in a phase change whose step varies from run to
    run, so the curriculum ends once a head reaches --induction-target (or after
    --span-curriculum steps). Returns the steps taken."""
    rng = random.Random(args.seed + 1_000_003 * processes.rank)  # each process its own spans
    bar = tqdm(
        range(1, args.span_curriculum + 1),
        desc="span curriculum",
        leave=False,
        disable=not processes.main,
    )
    for step in bar:
        spans = [repeated_span_sequence(tok, rng, rng.randint(5, 30)) for _ in range(32)]
        lr = args.lr * min(1.0, step / args.warmup)
        loss = curriculum_step(trained, optimizer, spans, lr, model.config.pad_id, processes.device)
        bar.set_postfix(loss=f"{loss:.3f}")
        if step % SPAN_CHECK == 0 or step == args.span_curriculum:
            heads = best_heads(model, tok.vocab_size)
            log.info("after %d span steps: loss %.3f, %s", step, loss, heads)
            reached = "stop" if heads["induction"] >= args.induction_target else None
            if agree(reached, processes) == "stop":
                break
    return step


def name_curriculum(
    trained: nn.Module,
    model: GPT,
    optimizer: torch.optim.Optimizer,
    maker: SequenceMaker,
    checks: list[NameProbe],
    args: argparse.Namespace,
    processes: Processes,
) -> int:
    """Train on name prompts alone, batches of --max-tokens, until the answers to `checks`
    (name probes built from training pairs, never the dev probes) spell the name in
    --name-target of cases (or after --name-curriculum steps). Returns the steps taken."""
    if not maker.slots or not checks:
        log.info("no name curriculum: the training pairs never name Tom")
        return 0
    rng = random.Random(args.seed + 7 + 1_000_003 * processes.rank)
    bar = tqdm(
        range(1, args.name_curriculum + 1),
        desc="name curriculum",
        leave=False,
        disable=not processes.main,
    )
    for step in bar:
        prompts: list[list[int]] = []
        while True:
            ids = maker.name_prompt(rng.choice(maker.slots), rng)
            if len(ids) > args.max_len:
                continue
            longest = max([len(ids), *map(len, prompts)])
            if prompts and longest * (len(prompts) + 1) > args.max_tokens:
                break
            prompts.append(ids)
        lr = args.lr * min(1.0, step / args.warmup)
        loss = curriculum_step(
            trained, optimizer, prompts, lr, model.config.pad_id, processes.device
        )
        bar.set_postfix(loss=f"{loss:.3f}")
        if step % NAME_CHECK == 0 or step == args.name_curriculum:
            copied = name_copy_rates(model, maker.tok, checks)["name_copied_with_demonstration"]
            log.info("after %d name steps: loss %.3f, names copied %.2f", step, loss, copied)
            reached = "stop" if copied >= args.name_target else None
            if agree(reached, processes) == "stop":
                break
    return step
