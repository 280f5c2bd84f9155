"""Train the GPT: the Transformer's decoder alone, on translation written as prompts.

    python -m training.gpt --out runs/gpt --export model/checkpoints/gpt
    torchrun --nproc_per_node 2 -m training.gpt --threads 1 ...   # DDP, 2 processes

Each epoch builds its sequences afresh (training/data.py): every training pair as a prompt,
zero-shot or after one to three demonstrations drawn at random, plus a share of sequences that
repeat a random span, so that induction heads form. The loss is next-token cross-entropy over
the whole sequence. After each epoch the log gets the loss, the dev BLEU zero-shot and three-shot
(on --eval-limit pairs), and the best induction and previous-token scores of any head; the state
is saved so `--resume` continues a stopped run. The export is fp16 with its metrics on the whole
dev set.
"""

import argparse
import json
import logging
import random
import time

import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from model import (
    GPT,
    Pair,
    Tokenizer,
    TransformerConfig,
    head_score_table,
    load_checkpoint,
    save_checkpoint,
    train_mixed_tokenizer,
)
from training.data import (
    Example,
    make_batches,
    read_pairs,
    repeated_span_sequence,
    training_sequence,
)
from training.evaluate import answer_scores, best_heads, evaluate_gpt, gpt_answers
from training.loop import (
    Trainer,
    add_run_arguments,
    end_epoch,
    new_optimizer,
    optimize,
    recipe,
    resume_or_start,
    start_run,
    training_facts,
)
from training.processes import Batch, Processes, leave, steps_per_epoch, wrap

log = logging.getLogger("attnscope.train_gpt")
CURRICULUM_CHECK = 250  # span steps between two measurements of the head scores


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_run_arguments(p, epochs=7)
    p.add_argument("--max-tokens", type=int, default=4096, help="tokens per batch (with padding)")
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d-ff", type=int, default=1024)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--vocab", type=int, default=8000, help="one vocabulary, Chinese and English")
    p.add_argument("--few-shot-share", type=float, default=0.5)
    p.add_argument("--span-share", type=float, default=0.25, help="repeated-span sequences")
    p.add_argument(
        "--span-curriculum",
        type=int,
        default=4000,
        help="at most this many steps on repeated spans alone before the first epoch, so "
        "induction heads form early (a phase change: 2,750 steps for the shipped GPT; 0: none)",
    )
    p.add_argument(
        "--induction-target",
        type=float,
        default=0.5,
        help="end the span curriculum early once a head has this induction score",
    )
    p.add_argument("--eval-limit", type=int, default=200, help="dev pairs scored after epochs")
    return p.parse_args(argv)


def epoch_sequences(
    tok: Tokenizer, pairs: list[Pair], rng: random.Random, args: argparse.Namespace
) -> list[Example]:
    sequences = [training_sequence(tok, pair, pairs, rng, args.few_shot_share) for pair in pairs]
    spans = int(args.span_share * len(pairs))
    sequences += [repeated_span_sequence(tok, rng, rng.randint(5, 40)) for _ in range(spans)]
    return [Example([], ids) for ids in sequences if len(ids) <= args.max_len]


def next_token_loss(module: nn.Module, ids: torch.Tensor, pad_id: int) -> tuple[torch.Tensor, int]:
    """Cross-entropy of every next token, and how many tokens it counts (padding ignored).
    `module` is the GPT, or DDP around it."""
    logits = module(ids[:, :-1])
    targets = ids[:, 1:]
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)
    return loss, int((targets != pad_id).sum())


def span_curriculum(
    trained: nn.Module,
    model: GPT,
    optimizer: torch.optim.Optimizer,
    tok: Tokenizer,
    args: argparse.Namespace,
    processes: Processes,
) -> int:
    """Train on repeated random spans alone: predicting a second copy needs a previous-token
    head and an induction head, and they form sooner without the translation prompts.

    The heads form in a phase change whose step varies from run to run, so the scores are
    checked every CURRICULUM_CHECK steps and the curriculum ends once a head reaches
    --induction-target (or after --span-curriculum steps). Every process measures the same
    weights the same way, so all end the curriculum at the same step."""
    rng = random.Random(args.seed + 1_000_003 * processes.rank)  # each process its own spans
    pad_id = model.config.pad_id
    bar = tqdm(
        range(1, args.span_curriculum + 1),
        desc="span curriculum",
        leave=False,
        disable=not processes.main,
    )
    for step in bar:
        trained.train()
        batch = [
            Example([], repeated_span_sequence(tok, rng, rng.randint(5, 30))) for _ in range(32)
        ]
        _, ids = make_batches(batch, max_tokens=10**9, seed=step, pad_id=pad_id)[0]
        loss, _ = next_token_loss(trained, ids.to(processes.device), pad_id)
        optimize(trained, optimizer, loss, args.lr * min(1.0, step / args.warmup))
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % CURRICULUM_CHECK == 0 or step == args.span_curriculum:
            heads = best_heads(model, tok.vocab_size)
            log.info("after %d span steps: loss %.3f, %s", step, loss.item(), heads)
            if heads["induction"] >= args.induction_target:
                break
    return step


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
    pairs = read_pairs(args.train, "zh-en")
    dev_pairs = read_pairs(args.dev, "zh-en")
    tok_path = args.out / "tokenizer.json"
    if args.resume:
        tok = Tokenizer.load(tok_path)
    else:
        tok = train_mixed_tokenizer([zh for zh, _ in pairs] + [en for _, en in pairs], args.vocab)
        if processes.main:
            tok.save(tok_path)
    config = TransformerConfig(
        architecture="decoder-only",
        src_vocab_size=0,
        tgt_vocab_size=tok.vocab_size,
        d_model=args.d_model,
        n_heads=args.n_heads,
        n_encoder_layers=0,
        n_decoder_layers=args.layers,
        d_ff=args.d_ff,
        dropout=args.dropout,
    )
    args.max_len = config.max_len
    torch.manual_seed(args.seed)
    model = GPT(config)
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    probe = epoch_sequences(tok, pairs, random.Random(args.seed), args)
    steps = steps_per_epoch(len(make_batches(probe, args.max_tokens, args.seed)), processes)
    total_steps = steps * args.epochs
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(pairs), steps)
    started = time.time() - state["minutes"] * 60  # the curriculum counts as training time
    if args.span_curriculum and not args.resume:
        state["span_curriculum_steps"] = span_curriculum(
            trained, model, optimizer, tok, args, processes
        )

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        return next_token_loss(module, batch[1], config.pad_id)

    trainer = Trainer(trained, optimizer, loss_fn, total_steps, args, processes)
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        rng = random.Random(args.seed * 1000 + epoch)
        torch.manual_seed(args.seed * 1000 + epoch + processes.rank)
        examples = epoch_sequences(tok, pairs, rng, args)
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch, config.pad_id)
        description = f"epoch {epoch}/{args.epochs}"
        record = {
            "epoch": epoch,
            **trainer.epoch(batches, state, description),
        }
        if processes.main:
            record.update(evaluate_gpt(model, tok, dev_pairs[: args.eval_limit], pairs))
            record.update(best_heads(model, tok.vocab_size))
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break
    leave(model, processes)  # the other processes are done: process 0 exports alone
    if args.export and processes.main:
        export(args, model, tok, state, (dev_pairs, pairs), processes)


def export(
    args: argparse.Namespace,
    model: GPT,
    tok: Tokenizer,
    state: dict,
    data: tuple[list[Pair], list[Pair]],
    processes: Processes,
) -> None:
    """Write the fp16 checkpoint and its metrics, measured on the whole dev set."""
    dev, pool = data
    meta = {
        "direction": "prompt",
        "source_language": None,
        "target_language": "en",
        "prompt_format": "中文 => English, one pair per line",
        "recipe": recipe(args),
    }
    save_checkpoint(args.export, model, None, tok, meta)
    exported = load_checkpoint(args.export)  # measure what ships: the fp16 weights
    answers = gpt_answers(exported.model, tok, dev, pool)
    refs = [en for _, en in dev]
    scores = answer_scores(answers, refs)
    first = {label: hyps[:200] for label, hyps in answers.items()}
    first_200 = answer_scores(first, refs[:200])  # what a test re-checks
    metrics = {
        **{f"dev_{name}": value for name, value in scores.items()},
        **{f"dev_{name}_first_200": value for name, value in first_200.items()},
        **{
            f"best_{kind}_score": v
            for kind, v in best_heads(exported.model, tok.vocab_size).items()
        },
        "head_scores": head_score_table(exported.model, tok.vocab_size),
        "dev_set": "zh_en_dev.tsv (1,000 Tatoeba pairs)",
        "span_curriculum_steps": state.get("span_curriculum_steps", 0),
        **training_facts(model, state, args, processes),
    }
    (args.export / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("exported %s: %s", args.export, scores)


if __name__ == "__main__":
    main()
