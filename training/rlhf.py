"""RLHF: the sft GPT trained further against the reward model, held near sft by a KL penalty.

    python -m training.rlhf --out runs/rlhf --export model/checkpoints/rlhf
    python -m training.rlhf --out runs/rlhf --export model/checkpoints/rlhf --resume

The method is REINFORCE with a leave-one-out baseline (RLOO, training/rloo.py), not PPO. PPO
needs a value network (a second model to train, with its own loss), per-token advantages and
clipped ratios over several passes of each batch; on 2 CPU cores each of those is time taken from
sampling, and for short answers scored once at their end, RLOO does as well as PPO (Ahmadian et
al. 2024) for the cost of k answers per prompt. One gradient step per batch of samples keeps
every sample on-policy, so no importance ratio is needed; the KL penalty is the same as PPO's.

Each step: --prompts training requests (training phrasings), --k answers each sampled from the
policy; the reward model scores each (less --missing-eos-penalty for an answer that never ended);
the per-token KL to the frozen sft is summed over the answer; reward = score - β·KL; advantage =
reward - the mean of the other k-1; loss = -advantage · log π(answer). An epoch is --steps steps on
fresh prompts; the log gets the epoch's mean score, KL and reward, and a dev probe: mean reward
of greedy answers, loops, KL to sft and each task's score on --eval-limit held-out requests per
task. The export (stage "rlhf", sft's template) holds the same for rlhf and sft on
--final-eval-limit requests per task.
"""

import argparse
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from model import (
    GPT,
    ChatTemplate,
    Pair,
    RewardModel,
    Tokenizer,
    load_checkpoint,
    save_checkpoint,
)
from training.data import read_pairs
from training.instruct_probes import rl_report
from training.instructions import TaskMix, draw_requests, encode_request
from training.loop import (
    Trainer,
    add_run_arguments,
    end_epoch,
    new_optimizer,
    recipe,
    resume_or_start,
    start_run,
    training_facts,
)
from training.phrasings import Phrasing, all_phrasings
from training.processes import Batch, leave, wrap
from training.reward import held_out_requests
from training.rloo import kl_per_token, policy_loss, rlhf_rewards, rloo_advantages
from training.sampling import answer_mask, padded, sample_answers, token_logprobs
from training.stages import STAGE_DIRS, continued, stage_meta, template_of, write_stage_metrics

log = logging.getLogger("attnscope.train_rlhf")
RewardFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (ids, ends) -> scores (B,)
M = TypeVar("M", bound=nn.Module)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_run_arguments(p, epochs=4)
    p.set_defaults(lr=2e-5, warmup=20)
    p.add_argument("--init-from", type=Path, default=STAGE_DIRS["sft"], help="the sft GPT")
    p.add_argument("--reward-from", type=Path, default=STAGE_DIRS["reward"])
    p.add_argument("--steps", type=int, default=100, help="optimizer steps per epoch")
    p.add_argument("--prompts", type=int, default=8, help="requests per step")
    p.add_argument("--k", type=int, default=4, help="answers sampled per request")
    p.add_argument("--beta", type=float, default=0.05, help="weight of the KL penalty")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, default=48)
    p.add_argument("--missing-eos-penalty", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.0, help="0: sampled = trained policy")
    p.add_argument("--eval-limit", type=int, default=20, help="dev requests per task, per epoch")
    p.add_argument("--final-eval-limit", type=int, default=200, help="the same, for the export")
    return p.parse_args(argv)


@dataclass(frozen=True)
class Sampling:
    k: int = 4
    beta: float = 0.05
    temperature: float = 1.0
    max_new_tokens: int = 48
    missing_eos_penalty: float = 1.0


def rl_step(
    module: nn.Module,
    policy: GPT,
    ref: GPT,
    reward_fn: RewardFn,
    prompts: list[list[int]],
    sampling: Sampling,
    generator: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one RLOO step on `prompts` (ids from <s>), and what its samples earned.
    `module` is the policy, or DDP around it; sampling uses `policy` itself."""
    c = policy.config
    rows, starts, ended = [], [], []
    for prompt in prompts:
        answers = sample_answers(
            policy, prompt, sampling.k, sampling.max_new_tokens, generator, sampling.temperature
        )
        for answer in answers:
            rows.append(prompt + answer)
            starts.append(len(prompt))
            ended.append(bool(answer) and answer[-1] == c.eos_id)
    device = next(policy.parameters()).device
    ids = padded(rows, c.pad_id).to(device)  # (P·k, T)
    lengths = [len(r) for r in rows]
    mask = answer_mask(starts, lengths, ids.size(1)).to(device)
    unfinished = torch.tensor([not e for e in ended], dtype=torch.float32, device=device)
    ends = torch.tensor(lengths, device=device) - 1  # from lengths: a sample may be <pad> itself
    with torch.no_grad():
        ref_logprobs = token_logprobs(ref, ids, mask)
        scores = reward_fn(ids, ends).float()
        scores = scores - sampling.missing_eos_penalty * unfinished
    logprobs = token_logprobs(module, ids, mask)  # (P·k, T-1), with gradient
    kl = kl_per_token(logprobs.detach(), ref_logprobs).sum(dim=1)  # (P·k,)
    rewards = rlhf_rewards(scores, kl, sampling.beta)
    advantages = rloo_advantages(rewards.view(-1, sampling.k)).flatten()
    loss = policy_loss(logprobs.sum(dim=1), advantages)
    stats = {
        "score": scores.mean().item(),
        "kl": kl.mean().item(),
        "reward": rewards.mean().item(),
        "answer_tokens": mask.sum().item() / len(rows),  # per answer
    }
    return loss, stats


def frozen(model: M) -> M:
    """A model that only scores: evaluation mode, no gradients."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
    pairs = read_pairs(args.train, "zh-en")
    dev = read_pairs(args.dev, "zh-en")
    sft, model = continued(args.init_from, args.dropout)
    tok, template = sft.tgt_tokenizer, template_of(sft, args.init_from)
    scorer = load_checkpoint(args.reward_from)
    if not isinstance(scorer.model, RewardModel):
        raise SystemExit(f"{args.reward_from} is not a reward model (stage {scorer.stage!r})")
    ref, reward = frozen(sft.model).to(processes.device), frozen(scorer.model).to(processes.device)
    phrasings, held_out = all_phrasings()
    args.max_len = model.config.max_len
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    sampling = Sampling(
        args.k, args.beta, args.temperature, args.max_new_tokens, args.missing_eos_penalty
    )
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(pairs), args.steps)
    started = time.time() - state["minutes"] * 60
    probe = held_out_requests(dev, held_out, args.eval_limit)
    seen: list[dict[str, float]] = []
    generator = torch.Generator(device=processes.device)

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        prompts = [row[:length] for row, length in zip(*(t.tolist() for t in batch), strict=True)]
        loss, stats = rl_step(module, model, ref, reward, prompts, sampling, generator)
        seen.append(stats)
        if len(seen) % 25 == 0:
            log.info("step %d: %s", state["step"] + 1, mean_of(seen[-25:]))
        return loss, round(stats["answer_tokens"] * len(prompts) * args.k)  # tokens sampled

    trainer = Trainer(trained, optimizer, loss_fn, args.steps * args.epochs, args, processes)
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        rng = random.Random(args.seed * 1000 + epoch)
        generator.manual_seed(args.seed * 1000 + epoch + processes.rank)
        batches = prompt_batches(tok, template, pairs, phrasings, args, rng, processes.world)
        seen.clear()
        record = {"epoch": epoch, **trainer.epoch(batches, state, f"epoch {epoch}/{args.epochs}")}
        record.update(mean_of(seen))
        if processes.main:
            report = rl_report(model, ref, reward, tok, template, probe)
            record.update({f"dev_{k}": v for k, v in report.items()})
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break
    leave(model, processes)
    if args.export and processes.main:
        meta = stage_meta(args, recipe(args)) | {"reward_from": str(args.reward_from)}
        save_checkpoint(args.export, model, None, tok, meta, stage="rlhf", template=template)
        rlhf = load_checkpoint(args.export).model.to(processes.device)  # beside ref and reward
        final = held_out_requests(dev, held_out, args.final_eval_limit)
        metrics = {
            "rlhf": rl_report(rlhf, ref, reward, tok, template, final),
            "sft": rl_report(ref, ref, reward, tok, template, final, kl_samples=0),
            "method": "RLOO: REINFORCE, leave-one-out baseline over k answers per request; "
            "reward = reward model score - beta * summed per-token KL to the frozen sft",
            "evaluation": "dev pairs (zh_en_dev.tsv) with held-out phrasings only; greedy "
            "answers; KL on sampled answers",
            "init_from": str(args.init_from),
            "reward_from": str(args.reward_from),
            **training_facts(model, state, args, processes),
        }
        write_stage_metrics(args.export, metrics)
        log.info("exported %s: %s", args.export, metrics["rlhf"])


def prompt_batches(
    tok: Tokenizer,
    template: ChatTemplate,
    pairs: list[Pair],
    phrasings: list[Phrasing],
    args: argparse.Namespace,
    rng: random.Random,
    world: int,
) -> list[Batch]:
    """An epoch's prompts, --steps batches of --prompts requests for each process: (ids padded
    (P, T), lengths (P,)), leaving every prompt room for --max-new-tokens."""
    wanted = args.steps * args.prompts * world
    requests = draw_requests(rng.choices(pairs, k=2 * wanted), phrasings, TaskMix(), rng)
    prompts = [encode_request(tok, template, r).ids for r in requests]
    prompts = [p for p in prompts if len(p) + args.max_new_tokens <= args.max_len]
    prompts = prompts[:wanted]
    batches: list[Batch] = []
    for start in range(0, len(prompts) - args.prompts + 1, args.prompts):
        chunk = prompts[start : start + args.prompts]
        batches.append((padded(chunk, tok.pad_id), torch.tensor([len(p) for p in chunk])))
    return batches


def mean_of(stats: list[dict[str, float]]) -> dict[str, float]:
    if not stats:
        return {}
    return {k: round(sum(s[k] for s in stats) / len(stats), 4) for k in stats[0]}


if __name__ == "__main__":
    main()
