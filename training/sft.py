"""Instruction tuning (SFT): the base GPT continued on requests and the answers the data gives.

    python -m training.sft --out runs/sft --export model/checkpoints/sft   # from the shipped GPT
    python -m training.sft --out runs/sft --export model/checkpoints/sft --resume

Each epoch draws one request per training pair (training/instructions.py: a task from the mix,
a training phrasing, a side of the pair), laid out by the chat template (model/chat.py), plus
--pattern-share few-shot `中文 => English` prompts, so that the tuned model still reads the base
model's pattern and the prompt-against-instruct table can ask it both ways, and
--hard-repeat-share extra repeat requests about sentences that say a word twice: copying by the
previous occurrence of the current token fails on those (one dev repeat in six), and the plain
mix has too few of them to teach anything better. The loss counts the
answer tokens and the </s> that ends them, never the request: the request is given, and a model
taught to write requests spends its capacity on text nobody asks it for. After each epoch the
log gets every task's score on --eval-limit dev requests worded by held-out phrasings; the
export is fp16 with stage "sft" and its template, and its metrics.json holds the same scores on
--final-eval-limit requests per task, for sft and for the base model it started from, and the
2 × 2 table (training/instruct_probes.py).
"""

import argparse
import logging
import random
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from model import (
    GPT,
    ChatTemplate,
    Checkpoint,
    Pair,
    Tokenizer,
    encode_prompt,
    load_checkpoint,
    save_checkpoint,
    unspelled_markers,
)
from training.data import Example, make_batches, read_pairs
from training.instruct_probes import instruct_scores, prompt_against_instruct
from training.instructions import TaskMix, draw_requests, encode_request, hard_repeats
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
from training.phrasings import TASKS, Phrasing, all_phrasings
from training.processes import Batch, Processes, leave, steps_per_epoch, wrap
from training.stages import STAGE_DIRS, continued, stage_meta, write_stage_metrics

log = logging.getLogger("attnscope.train_sft")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_run_arguments(p, epochs=3)
    p.set_defaults(lr=3e-4, warmup=200)
    p.add_argument("--init-from", type=Path, default=STAGE_DIRS["base"], help="the base GPT")
    p.add_argument("--max-tokens", type=int, default=4096, help="tokens per batch (with padding)")
    p.add_argument("--dropout", type=float, default=0.1)
    mix = TaskMix()
    for task in TASKS:
        p.add_argument(f"--{task.replace('_', '-')}-share", type=float, default=getattr(mix, task))
    p.add_argument("--pattern-share", type=float, default=0.1, help="few-shot prompts, per pair")
    p.add_argument(
        "--hard-repeat-share",
        type=float,
        default=0.0,
        help="extra repeat requests about sentences that say a word twice, per pair",
    )
    p.add_argument("--eval-limit", type=int, default=50, help="dev requests per task, per epoch")
    p.add_argument("--final-eval-limit", type=int, default=300, help="the same, for the export")
    return p.parse_args(argv)


def answer_only(ids: list[int], answer_start: int) -> Example:
    """A training sequence whose `src` is its loss mask: 1 from the answer's first token."""
    return Example([0] * answer_start + [1] * (len(ids) - answer_start), ids)


def answer_loss(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
    """Cross-entropy of the answer tokens only: (mask, ids) -> (mean loss, tokens counted).
    `module` is the GPT, or DDP around it."""
    mask, ids = batch
    logits = module(ids[:, :-1])  # (B, T-1, V)
    weights = mask[:, 1:].flatten().float()  # target t+1 counts when its position is answer
    losses = F.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten(), reduction="none")
    tokens = weights.sum()
    return (losses * weights).sum() / tokens.clamp(min=1.0), int(tokens.item())


def task_mix(args: argparse.Namespace) -> TaskMix:
    return TaskMix(**{task: getattr(args, f"{task}_share") for task in TASKS})


def epoch_examples(
    tok: Tokenizer,
    template: ChatTemplate,
    pairs: list[Pair],
    phrasings: list[Phrasing],
    args: argparse.Namespace,
    rng: random.Random,
) -> list[Example]:
    """One request per training pair, the extra hard repeats and the few-shot prompts, each at
    most max_len tokens."""
    requests = draw_requests(pairs, phrasings, task_mix(args), rng)
    requests += hard_repeats(pairs, phrasings, int(args.hard_repeat_share * len(pairs)), rng)
    examples = []
    for request in requests:
        chat = encode_request(tok, template, request, request.answer)
        examples.append(answer_only(chat.ids, chat.prompt_length))
    for _ in range(int(args.pattern_share * len(pairs))):
        zh, en = rng.choice(pairs)
        prompt = encode_prompt(tok, rng.sample(pairs, rng.randint(0, 3)), zh)
        ids = [tok.bos_id, *prompt.ids, *tok.encode(en), tok.eos_id]
        examples.append(answer_only(ids, 1 + len(prompt.ids)))
    return [e for e in examples if len(e.tgt) <= args.max_len]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
    pairs = read_pairs(args.train, "zh-en")
    dev = read_pairs(args.dev, "zh-en")
    base, model = continued(args.init_from, args.dropout)
    tok, template = base.tgt_tokenizer, ChatTemplate()
    if unspelled := unspelled_markers(tok, template):
        raise SystemExit(f"the vocabulary of {args.init_from} cannot spell {unspelled}")
    phrasings, held_out = all_phrasings()
    args.max_len = model.config.max_len
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    sizing = epoch_examples(tok, template, pairs, phrasings, args, random.Random(args.seed))
    steps = steps_per_epoch(len(make_batches(sizing, args.max_tokens, args.seed)), processes)
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(sizing), steps)
    started = time.time() - state["minutes"] * 60
    trainer = Trainer(trained, optimizer, answer_loss, steps * args.epochs, args, processes)
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        rng = random.Random(args.seed * 1000 + epoch)
        torch.manual_seed(args.seed * 1000 + epoch + processes.rank)
        examples = epoch_examples(tok, template, pairs, phrasings, args, rng)
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch)
        record = {"epoch": epoch, **trainer.epoch(batches, state, f"epoch {epoch}/{args.epochs}")}
        if processes.main:
            record.update(instruct_scores(model, tok, template, dev, held_out, args.eval_limit))
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break
    leave(model, processes)
    if args.export and processes.main:
        phrased = (phrasings, held_out)
        export(args, model, base, template, (pairs, dev), phrased, state, processes)


def export(
    args: argparse.Namespace,
    model: GPT,
    base: Checkpoint,
    template: ChatTemplate,
    data: tuple[list[Pair], list[Pair]],
    phrased: tuple[list[Phrasing], list[Phrasing]],
    state: dict,
    processes: Processes,
) -> None:
    """Write the sft checkpoint, then measure the exported weights against the base."""
    (pairs, dev), (phrasings, held_out) = data, phrased
    tok = base.tgt_tokenizer
    meta = stage_meta(args, recipe(args))
    save_checkpoint(args.export, model, None, tok, meta, stage="sft", template=template)
    sft = load_checkpoint(args.export).model
    limit = args.final_eval_limit
    models = {"base": base.model, "sft": sft}
    metrics = {
        "sft": instruct_scores(sft, tok, template, dev, held_out, limit),
        "base": instruct_scores(base.model, tok, template, dev, held_out, limit),
        "prompt_against_instruct": prompt_against_instruct(
            models, tok, template, dev, pairs, held_out, limit
        ),
        "phrasings": {"train": len(phrasings), "held_out": len(held_out)},
        "evaluation": f"dev pairs (zh_en_dev.tsv), up to {limit} requests per task, "
        "worded by held-out phrasings only; is_question half questions, half not",
        "init_from": str(args.init_from),
        **training_facts(model, state, args, processes),
    }
    write_stage_metrics(args.export, metrics)
    log.info("exported %s: %s", args.export, metrics["sft"])


if __name__ == "__main__":
    main()
